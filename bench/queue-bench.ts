/**
 * Throughput of fast jobs (256 px) through the scale-out queue with 1 and 2 `nst worker` processes
 * of 1 thread each, against the embedded queue (1 worker thread); the difference per job is the
 * queue's overhead (Redis round trips, storage copies, events): with one worker jobs run one after
 * the other, so wall time per job minus compute time per job is what handling a job costs; the
 * queue's figure minus the embedded one is the overhead (robust to a busy machine, unlike a
 * difference of wall times). Needs redis-server.
 */
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { BullJobQueue } from '../src/queue';
import { startServer, RunningServer } from '../src/server';
import { openStorage } from '../src/storage';

const REDIS_SERVER = process.env.NST_REDIS_SERVER ?? '/usr/bin/redis-server';
const SHARED = process.env.NST_SHARED_DIR ?? path.join(PROJECT_ROOT, '..', 'shared');

export async function benchQueue(options: { jobs?: number; size?: number } = {}): Promise<unknown> {
  const jobs = options.jobs ?? 12;
  const size = options.size ?? 256;
  try {
    execFileSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' });
  } catch {
    return { skipped: `no redis-server at ${REDIS_SERVER}` };
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-bench-queue-'));
  const samplesDir = path.join(scratch, 'samples');
  fs.mkdirSync(path.join(samplesDir, 'content'), { recursive: true });
  fs.mkdirSync(path.join(samplesDir, 'style'), { recursive: true });
  fs.copyFileSync(path.join(SHARED, 'images', 'content', 'tubingen.jpg'), path.join(samplesDir, 'content', 'tubingen.jpg'));
  const modelDir = path.join(SHARED, 'models');
  const body = { method: 'fast', contentSample: 'content/tubingen.jpg', fastStyle: 'wave', size };
  const children: ChildProcess[] = [];
  try {
    // Embedded: one worker thread, one compute thread.
    const embedded = await startServer({ port: 0, dataDir: path.join(scratch, 'embedded'), samplesDir, modelDir, workers: 1, threads: 1 });
    await runJobs(embedded, body, 2); // warm-up
    const embeddedRun = await runJobs(embedded, body, jobs);
    await embedded.close();

    const port = await freePort();
    const redis = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', scratch], { stdio: 'ignore' });
    children.push(redis);
    const url = `redis://127.0.0.1:${port}`;
    const storeDir = path.join(scratch, 'store');
    await waitFor(async () => BullJobQueue.open({ url, storage: openStorage(storeDir), maxPixels: 1e8 }).then(async (q) => (await q.close(), true)));
    const queue = await BullJobQueue.open({ url, storage: openStorage(storeDir), maxPixels: 1e8, reconcileMs: 1000 });
    const api = await startServer({ port: 0, dataDir: path.join(scratch, 'api'), samplesDir, modelDir }, { queue });
    const results: Record<string, unknown> = {};
    let handlingOneWorker = 0;
    for (const count of [1, 2]) {
      while (children.length - 1 < count) children.push(await spawnWorker(['--queue', url, '--storage', storeDir, '--model-dir', modelDir, '--threads', '1', '--concurrency', '1']));
      await runJobs(api, body, count * 2); // warm-up: each worker loads its engine
      const run = await runJobs(api, body, jobs);
      if (count === 1) handlingOneWorker = run.msPerJob - run.computeMsPerJob;
      results[`workers${count}`] = { ...run, jobsPerMinute: round((60_000 / run.msPerJob) * 1) };
    }
    await api.close();
    return {
      size,
      jobs,
      embedded: { ...embeddedRun, jobsPerMinute: round(60_000 / embeddedRun.msPerJob) },
      ...results,
      queueOverheadMsPerJob: round(handlingOneWorker - (embeddedRun.msPerJob - embeddedRun.computeMsPerJob)),
      targetOverheadMsPerJob: 20,
      note:
        'jobs are submitted at once and timed until the last one ends; 1 compute thread per worker. Overhead: the time per job outside the computation ' +
        '(wall time per job minus the compute time the job reports) with 1 queue worker, minus the same with the embedded queue',
    };
  } finally {
    for (const c of children.reverse()) await killAndWait(c);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function runJobs(server: RunningServer, body: object, n: number): Promise<{ ms: number; msPerJob: number; computeMsPerJob: number }> {
  const started = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${server.url}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const job = (await res.json()) as { id: string; error?: string };
    if (res.status !== 201) throw new Error(`POST /api/jobs: ${res.status} ${job.error}`);
    ids.push(job.id);
  }
  let compute = 0;
  for (const id of ids) {
    for (;;) {
      const job = (await (await fetch(`${server.url}/api/jobs/${id}`)).json()) as { status: string; error?: string; result?: { seconds: number } };
      if (job.status === 'succeeded') {
        compute += (job.result?.seconds ?? 0) * 1000;
        break;
      }
      if (job.status !== 'queued' && job.status !== 'running') throw new Error(`job ${id}: ${job.status} ${job.error}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const ms = Date.now() - started;
  return { ms, msPerJob: round(ms / n), computeMsPerJob: round(compute / n) };
}

export function spawnWorker(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'nst.js'), 'worker', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (/ready/.test(out)) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`nst worker exited with ${code}`)));
  });
}

export function killAndWait(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitFor(fn: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('redis-server did not start');
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}
