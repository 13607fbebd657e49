/** Shared helpers of the numeric test suites: seeded inputs and a tensor-leak guard. */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { configureThread, liveTensors } from '../../src/engine';
import { seededRandom } from '../../src/util/random';

export const rng = seededRandom;

/** n values ~ U(-1, 1), reproducible for a seed. */
export function uniform(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() * 2 - 1;
  return out;
}

/** Two compute threads for the file, and a check that no tensor created by its tests outlives it. */
export function engineSuite(name: string): void {
  let startLive = 0;
  before(() => {
    configureThread({ threads: 2 });
    startLive = liveTensors();
  });
  after(() => {
    assert.equal(liveTensors(), startLive, `tensors leaked by ${name} tests`);
  });
}
