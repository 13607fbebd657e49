/**
 * The engine's thread pools wait politely (src/engine/thread-pools.ts): libgomp reads its spin
 * setting once, from the environment, when libtorch loads, so it must be there first. (The speed
 * it buys when jobs share the CPU is a bench figure: bench/cpu-sharing.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../src/models/model-dir';

const ENGINE = path.join(PROJECT_ROOT, 'dist', 'src', 'engine');

/**
 * GOMP_SPINCOUNT in the process's environment once the engine is imported. In Node's main thread
 * process.env reads and writes the C environment that libgomp's getenv sees when libtorch loads
 * (in whichever thread first uses the engine).
 */
function spinAfterLoading(env: NodeJS.ProcessEnv): string {
  const script = `require(${JSON.stringify(ENGINE)}); process.stdout.write(process.env.GOMP_SPINCOUNT ?? 'unset');`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('libgomp spins briefly by default: set as the engine is imported, before libtorch loads', () => {
  const env = { ...process.env };
  delete env.GOMP_SPINCOUNT;
  delete env.OMP_WAIT_POLICY;
  assert.equal(spinAfterLoading(env), '1000');
});

test("a user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT is left alone", () => {
  const env = { ...process.env };
  delete env.GOMP_SPINCOUNT;
  assert.equal(spinAfterLoading({ ...env, OMP_WAIT_POLICY: 'PASSIVE' }), 'unset');
  assert.equal(spinAfterLoading({ ...env, GOMP_SPINCOUNT: '50' }), '50');
});
