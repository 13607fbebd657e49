/**
 * Many clients at once: 50 concurrent job creations (uploads and sample ids), 50 progress streams
 * and a burst of reads, then 50 concurrent cancels and deletes. The server must answer them all,
 * lose no job, end every stream, and stay healthy. Bounded: 50 clients, loopback only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { RunningServer } from '../src/server';
import { CONTENT_PNG, jobForm, json, readEvents, SseEvent, startTestServer } from './helpers/server';

const CLIENTS = 50;
let server: RunningServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server?.close();
  if (server) fs.rmSync((server as any).dataDir, { recursive: true, force: true });
});

test(`${CLIENTS} concurrent job creations and progress streams: no crash, no lost job`, async () => {
  const base = server.url;
  const create = (i: number) =>
    i % 2 === 0
      ? fetch(`${base}/api/jobs`, { method: 'POST', body: jobForm({ method: 'fast', fastStyle: 'wave', size: 32 }, { content: CONTENT_PNG }) })
      : fetch(`${base}/api/jobs`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ method: 'fast', fastStyle: i % 4 === 1 ? 'udnie' : 'wave', contentSample: 'content/tiny_photo.png', size: 32 }),
        });
  const responses = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => create(i)));
  const jobs = await Promise.all(responses.map(json));
  responses.forEach((r, i) => assert.equal(r.status, 201, JSON.stringify(jobs[i])));
  const ids = jobs.map((j) => j.id as string);
  assert.equal(new Set(ids).size, CLIENTS, 'distinct ids');

  // One progress stream per job, all at once, plus a burst of reads while they are open.
  const streams: Promise<SseEvent[]>[] = ids.map((id) => readEvents(`${base}/api/jobs/${id}/events`, { timeoutMs: 120_000 }));
  const reads = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => fetch(`${base}/api/jobs${i % 2 ? '' : `/${ids[i]}`}`).then((r) => r.status)));
  assert.ok(reads.every((s) => s === 200), String(reads));

  // Let one finish, then cancel everything still waiting, all at once.
  for (const end = Date.now() + 60_000; ; ) {
    const { total } = await json(await fetch(`${base}/api/jobs?status=succeeded`));
    if (total >= 1) break;
    assert.ok(Date.now() < end, 'no job finished within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const cancels = await Promise.all(ids.map((id) => fetch(`${base}/api/jobs/${id}/cancel`, { method: 'POST' })));
  for (const r of cancels) assert.ok(r.status === 202 || r.status === 409, `cancel: ${r.status}`);

  const ended = await Promise.all(streams);
  for (const [i, events] of ended.entries()) {
    assert.equal(events[0].event, 'snapshot', ids[i]);
    const last = events[events.length - 1];
    assert.equal(last.event, 'end', `${ids[i]}: ${events.map((e) => e.event)}`);
    assert.ok(['succeeded', 'cancelled'].includes(last.data.job.status), last.data.job.status);
  }
  const list = await json(await fetch(`${base}/api/jobs?limit=200`));
  assert.equal(list.total, CLIENTS);
  const statuses = new Map(list.jobs.map((j: any) => [j.id, j.status]));
  for (const id of ids) assert.ok(['succeeded', 'cancelled'].includes(statuses.get(id) as string), `${id}: ${statuses.get(id)}`);
  assert.ok([...statuses.values()].filter((s) => s === 'succeeded').length >= 1);

  const deletes = await Promise.all(ids.map((id) => fetch(`${base}/api/jobs/${id}`, { method: 'DELETE' })));
  assert.deepEqual(deletes.map((r) => r.status), ids.map(() => 204));
  assert.equal((await json(await fetch(`${base}/api/jobs`))).total, 0);
  const health = await json(await fetch(`${base}/api/health`));
  assert.deepEqual([health.ok, health.running, health.queued, health.streams], [true, 0, 0, 0]);
});
