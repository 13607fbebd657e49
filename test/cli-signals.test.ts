/**
 * Two quick Ctrl-Cs on `nst stylize`: the first asks the run to stop after its iteration, the
 * second quits at once, cleanly, with status 130 (exit code 130, or death by SIGINT when the
 * compute thread is inside a long native call, e.g. loading libtorch) — never an abort (SIGABRT, "terminate called
 * after throwing an instance of 'Napi::Error'") from the compute thread being torn down while it
 * is inside the native engine. Tried at several moments: while the engine loads, and mid-run with
 * the second signal 5 to 100 ms after the first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { REFERENCE_DIR } from './helpers/reference';

const NST = path.join(PROJECT_ROOT, 'bin', 'nst.js');
let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-sig-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** From the second SIGINT to the exit. */
  quitMs: number;
  /** From the start to the first SIGINT: what getting going took on this machine, under its load now. */
  startMs: number;
}

/** Whether the process has mapped the native engine (the compute thread is loading it). */
function loadingEngine(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes('nst_native.node');
  } catch {
    return false;
  }
}

/** Runs stylize; once `ready(stderr, pid)` holds, sends SIGINT twice, `gapMs` apart. */
function doubleCtrlC(ready: (stderr: string, pid: number) => boolean, gapMs: number): Promise<Outcome> {
  const out = path.join(dir, `out-${gapMs}-${Math.random().toString(36).slice(2)}.png`);
  const args = ['stylize', '-c', path.join(REFERENCE_DIR, 'content.png'), '-s', path.join(REFERENCE_DIR, 'style.png'), '-o', out];
  const child = spawn(process.execPath, [NST, ...args, '--size', '64', '--iterations', '100000', '--print-every', '1', '--threads', '1', '--no-report']);
  let stderr = '';
  const started = Date.now();
  let second = 0;
  let startMs = 0;
  let fired = false;
  const fire = () => {
    if (fired) return;
    fired = true;
    startMs = Date.now() - started;
    child.kill('SIGINT');
    setTimeout(() => {
      second = Date.now();
      child.kill('SIGINT');
    }, gapMs);
  };
  const poll = setInterval(() => ready(stderr, child.pid!) && fire(), 5);
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stderr, quitMs: Date.now() - second, startMs });
    });
  });
}

const cases: [string, (stderr: string, pid: number) => boolean, number][] = [
  // The compute thread is loading the native engine (libtorch) when the signals come.
  ['while the engine loads', (s, pid) => !/stylize 1\//.test(s) && loadingEngine(pid), 20],
  ['mid-run, 5 ms apart', (s) => /stylize 2\//.test(s), 5],
  ['mid-run, 30 ms apart', (s) => /stylize 2\//.test(s), 30],
  ['mid-run, 100 ms apart', (s) => /stylize 2\//.test(s), 100],
];

for (const [name, ready, gap] of cases) {
  test(`two Ctrl-Cs ${name}: exit 130 at once, no abort`, async () => {
    const r = await doubleCtrlC(ready, gap);
    // Exit code 130, or (when the compute thread is stuck in a native call) death by SIGINT, which
    // a shell reports as the same 130; never SIGABRT (134).
    assert.ok(r.code === 130 || (r.code === null && r.signal === 'SIGINT'), `exit ${r.code}, signal ${r.signal}: ${r.stderr.slice(-300)}`);
    process.stdout.write(`# ${name}: ${r.code !== null ? `exit ${r.code}` : `signal ${r.signal}`} ${r.quitMs} ms after the second Ctrl-C (${r.startMs} ms to get there)\n`);
    assert.doesNotMatch(r.stderr, /terminate called|Napi::Error|internal error/);
    // At once: within 3 s, or, on a machine slowed by other work, faster than the same process got
    // going (starting node, loading libtorch, the first iterations), measured in this very run.
    const limit = Math.max(3000, r.startMs);
    assert.ok(r.quitMs < limit, `quit ${r.quitMs} ms after the second Ctrl-C (limit ${limit} ms)`);
  });
}
