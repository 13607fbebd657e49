/**
 * A restart loses nothing. `nst serve` runs as a child process; it is killed with SIGKILL while an
 * optimisation job runs, then started again on the same data directory: the finished result is
 * still there and the job resumes from its last saved image with the remaining iterations. Killed
 * again and started with --no-resume, the job is marked interrupted and its last image is kept.
 * SIGTERM stops the server gracefully.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { MODELS_DIR } from './helpers/reference';
import { json, killAndWait, makeSamplesDir, readEvents, spawnServer, tempDir, waitForJob } from './helpers/server';

const dataDir = tempDir('nst-restart-');
const samplesDir = makeSamplesDir();
const args = ['--data-dir', dataDir, '--samples-dir', samplesDir, '--model-dir', MODELS_DIR, '--threads', '2'];
const children: import('node:child_process').ChildProcess[] = [];

after(async () => {
  for (const c of children) await killAndWait(c);
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(samplesDir, { recursive: true, force: true });
});

async function start(extra: string[] = []) {
  const s = await spawnServer([...args, ...extra]);
  children.push(s.child);
  return s;
}

test('SIGKILL during a job: finished results stay, the job resumes from its checkpoint, or is marked interrupted with its image kept', async () => {
  // --- first run: one finished job, one killed mid-way -------------------------------------
  let s = await start();
  const post = async (body: object) => {
    const res = await fetch(`${s.url}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const job = await json(res);
    assert.equal(res.status, 201, JSON.stringify(job));
    return job;
  };
  const finished = await post({ method: 'fast', contentSample: 'content/tiny_photo.png', fastStyle: 'wave', size: 48 });
  await waitForJob(s.url, finished.id, (j) => j.status === 'succeeded');
  const resultBytes = Buffer.from(await (await fetch(`${s.url}/api/jobs/${finished.id}/result`)).arrayBuffer());

  const long = await post({ contentSample: 'content/tiny_photo.png', styleSample: 'style/tiny_painting.png', size: 48, iterations: 300, previewEvery: 4, seed: 3 });
  const seen = await waitForJob(s.url, long.id, (j) => (j.checkpointIteration ?? 0) >= 4);
  await killAndWait(s.child, 'SIGKILL');
  assert.ok(fs.existsSync(path.join(dataDir, 'jobs', long.id, 'checkpoint.png')), 'checkpoint on disk');

  // What a crash may leave: a folder of a job never recorded, a half-written temp file.
  const orphan = path.join(dataDir, 'jobs', '0123456789abcdef');
  fs.mkdirSync(orphan);
  fs.writeFileSync(path.join(orphan, 'content.png'), 'x');
  const partial = path.join(dataDir, 'jobs', long.id, '.preview.jpg.123.abc.tmp');
  fs.writeFileSync(partial, 'x');

  // --- second run: resumed ----------------------------------------------------------------
  s = await start();
  assert.equal(fs.existsSync(orphan), false, 'unrecorded folder swept');
  assert.equal(fs.existsSync(partial), false, 'temp file swept');
  const kept = await json(await fetch(`${s.url}/api/jobs/${finished.id}`));
  assert.equal(kept.status, 'succeeded');
  assert.deepEqual(Buffer.from(await (await fetch(`${s.url}/api/jobs/${finished.id}/result`)).arrayBuffer()), resultBytes);

  const resumed = await json(await fetch(`${s.url}/api/jobs/${long.id}`));
  assert.ok(['queued', 'running'].includes(resumed.status), resumed.status);
  assert.equal(resumed.resumes.length, 1);
  const from = resumed.resumes[0].fromIteration;
  assert.ok(from >= seen.checkpointIteration && from % 4 === 0, `resumed from ${from} (saw ${seen.checkpointIteration})`);
  assert.match(s.stderr(), new RegExp(`job ${long.id}: interrupted by a restart; resuming from iteration ${from}`));
  // It goes on from there: the next iterations are numbered after the checkpoint.
  const events = await readEvents(`${s.url}/api/jobs/${long.id}/events`, { until: (e) => e.event === 'preview' && e.data.iteration > from });
  const firstProgress = events.find((e) => e.event === 'progress');
  assert.ok(firstProgress, events.map((e) => e.event).join(','));
  assert.ok(firstProgress.data.iteration > from && firstProgress.data.iteration <= from + 4, `first iteration after resume: ${firstProgress.data.iteration}`);
  assert.equal(firstProgress.data.iterations, 300);
  const again = await waitForJob(s.url, long.id, (j) => (j.checkpointIteration ?? 0) > from);
  await killAndWait(s.child, 'SIGKILL');

  // --- third run, --no-resume: interrupted, last image kept -----------------------------------
  s = await start(['--no-resume']);
  const interrupted = await json(await fetch(`${s.url}/api/jobs/${long.id}`));
  assert.equal(interrupted.status, 'interrupted');
  assert.match(interrupted.error, /server stopped while the job was running; its last image \(iteration \d+\) is kept/);
  assert.equal(interrupted.result.partial, true);
  assert.ok(interrupted.result.iterations >= again.checkpointIteration);
  const image = await fetch(`${s.url}/api/jobs/${long.id}/result`);
  assert.equal(image.status, 200);
  const meta = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
  assert.deepEqual([meta.width, meta.height], [48, 36]);
  assert.equal((await json(await fetch(`${s.url}/api/jobs/${finished.id}`))).status, 'succeeded');
  const report = await json(await fetch(`${s.url}/api/jobs/${long.id}/report`));
  assert.equal(report.resumes.length, 1);
  assert.ok(report.lossHistory.rows.length > 0);

  // --- SIGTERM: a graceful stop --------------------------------------------------------------
  const code = await new Promise<number | null>((resolve) => {
    s.child.once('exit', (c) => resolve(c));
    s.child.kill('SIGTERM');
  });
  assert.equal(code, 0);
});
