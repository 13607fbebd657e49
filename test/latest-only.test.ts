/** The previews' writer: one item at a time, only the newest waiting one kept, drained() waits for all. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { latestOnlyWriter } from '../src/util/latest-only';

test('items arriving faster than they are handled: the first and then only the newest are handled, in order', async () => {
  const handled: number[] = [];
  let running = 0;
  let overlapping = false;
  const writer = latestOnlyWriter(async (n: number) => {
    running++;
    overlapping ||= running > 1;
    await sleep(20);
    handled.push(n);
    running--;
  });
  for (let i = 1; i <= 5; i++) writer.push(i);
  await writer.drained();
  assert.deepEqual(handled, [1, 5]);
  assert.equal(overlapping, false);
  writer.push(6);
  await sleep(5);
  writer.push(7);
  writer.push(8);
  await writer.drained();
  assert.deepEqual(handled, [1, 5, 6, 8]);
  await writer.drained(); // nothing waiting: resolves at once
});
