/**
 * Video jobs on the scale-out queue (real redis-server, two `nst worker` processes sharing a
 * storage directory): the clip is split into chunks that both workers paint at once; one worker
 * is killed with -9 in the middle of its chunk, another resumes that chunk after its last stored
 * frame, and the joined result has every frame of the clip, its frame rate, aspect and audio.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BullJobQueue } from '../src/queue';
import { RunningServer, startServer } from '../src/server';
import { openStorage } from '../src/storage';
import { loadImage, saveImage } from '../src/image';
import { chunkFramesDir, joinSequence, planChunks } from '../src/video/chunks';
import { ffmpeg, needsFfmpeg } from './helpers/ffmpeg';
import { MODELS_DIR, SHARED_DIR } from './helpers/reference';
import { json, jobForm, killAndWait, makeSamplesDir, STYLE_PNG, tempDir } from './helpers/server';
import { redisSkip, spawnWorker, startRedis, TestRedis, until, WorkerProcess } from './helpers/queue';

const quiet = { info: () => undefined, error: () => undefined };
const PHOTO = path.join(SHARED_DIR, 'images', 'content', 'tubingen.jpg');

/** A pan over the photo with a tone: `frames` frames of 96x64 at 24 frames/s. */
function makePan(file: string, frames: number): void {
  ffmpeg(
    '-framerate', '24', '-loop', '1', '-i', PHOTO, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-filter_complex', `[0:v]scale=-2:96,crop=96:64:x='mod(2*n,in_w-out_w)':y=16,format=yuv420p[v]`,
    '-map', '[v]', '-map', '1:a', '-c:a', 'aac', '-r', '24', '-frames:v', String(frames), '-t', String(frames / 24), '-c:v', 'libx264', '-crf', '12', file,
  );
}

function probe(file: string): { streams: { codec_type: string; width?: number; height?: number; avg_frame_rate?: string; nb_read_frames?: string }[] } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-print_format', 'json', '-show_streams', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('chunk plans: equal work per chunk, kept ranges that tile the clip, overlaps before every chunk but the first', () => {
  const chunks = planChunks(240, { chunkFrames: 120, overlap: 12 });
  assert.deepEqual(chunks, [
    { index: 0, paintFrom: 1, keepFrom: 1, keepTo: 126 },
    { index: 1, paintFrom: 115, keepFrom: 127, keepTo: null },
  ]);
  const four = planChunks(240, { chunkFrames: 60, overlap: 12 });
  assert.equal(four.length, 4);
  for (let i = 1; i < four.length; i++) {
    assert.equal(four[i].keepFrom, four[i - 1].keepTo! + 1);
    assert.equal(four[i].keepFrom - four[i].paintFrom, 12);
  }
  const painted = four.map((c) => (c.keepTo ?? 240) - c.paintFrom + 1);
  assert.ok(Math.max(...painted) - Math.min(...painted) <= 1, String(painted));
  // Too short to split with a 12-frame overlap: one chunk.
  assert.deepEqual(planChunks(20, { chunkFrames: 8, overlap: 12 }), [{ index: 0, paintFrom: 1, keepFrom: 1, keepTo: null }]);
});

test('joining chunks: kept frames in order, the last overlap frames cross-faded into the next chunk, a gap refused', async () => {
  const root = tempDir('nst-join-');
  try {
    const grey = (v: number) => ({ width: 4, height: 2, data: new Float32Array(24).fill(v) });
    const chunks = planChunks(20, { chunkFrames: 10, overlap: 4 });
    assert.deepEqual(chunks.map((c) => [c.paintFrom, c.keepFrom, c.keepTo]), [[1, 1, 12], [9, 13, null]]);
    for (const c of chunks) {
      const dir = chunkFramesDir(root, c.index);
      fs.mkdirSync(dir, { recursive: true });
      for (let f = c.paintFrom; f <= (c.keepTo ?? 20); f++) await saveImage(grey(c.index === 0 ? 0.2 : 0.8), path.join(dir, `frame_${String(f).padStart(6, '0')}.png`));
    }
    const sequenceDir = path.join(root, 'sequence');
    const joined = await joinSequence({ chunks, root, sequenceDir, crossfade: 3 });
    assert.deepEqual(joined, { frames: 20, kept: [12, 8], blended: 3 });
    const values: number[] = [];
    for (let f = 1; f <= 20; f++) values.push(Math.round((await loadImage(path.join(sequenceDir, `frame_${String(f).padStart(6, '0')}.png`))).data[0] * 255));
    // Frames 10–12 go a quarter of the way further each (8-bit PNG rounding).
    const fade = [1, 2, 3].map((j) => Math.round(255 * (0.2 + (0.6 * j) / 4)));
    assert.deepEqual(values, [...Array(9).fill(51), ...fade, ...Array(8).fill(204)]);

    fs.rmSync(path.join(chunkFramesDir(root, 0), 'frame_000012.png'));
    await assert.rejects(joinSequence({ chunks, root, sequenceDir }), { message: 'frames 12–12 are missing before chunk 2' });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

describe('video jobs on queue workers', { ...needsFfmpeg, ...(redisSkip() ? { skip: redisSkip() as string } : {}) }, () => {
  let redis: TestRedis;
  let server: RunningServer;
  const workers: WorkerProcess[] = [];
  const tmp = tempDir('nst-queue-video-');
  const storeDir = path.join(tmp, 'store');
  const clip = path.join(tmp, 'pan.mp4');
  const samplesDir = makeSamplesDir();
  const FRAMES = 96;

  before(async () => {
    makePan(clip, FRAMES);
    redis = await startRedis();
    const queue = await BullJobQueue.open({ url: redis.url, storage: openStorage(storeDir), maxPixels: 1e7, reconcileMs: 500 });
    server = await startServer({ port: 0, dataDir: path.join(tmp, 'api'), samplesDir, modelDir: MODELS_DIR }, { queue, log: quiet });
    const args = ['--queue', redis.url, '--storage', storeDir, '--model-dir', MODELS_DIR, '--threads', '1', '--lock-timeout', '2'];
    workers.push(...(await Promise.all([spawnWorker(args), spawnWorker(args)])));
  });
  after(async () => {
    for (const w of workers) await killAndWait(w.child);
    await server?.close();
    await redis?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(samplesDir, { recursive: true, force: true });
  });

  test('two chunks on two workers, one killed with -9 mid-chunk: every frame, the rate and the audio in the result', async (t) => {
    const form = jobForm({ method: 'video', fastStyle: 'wave', chunkFrames: 48 }, { content: { name: 'pan.mp4', bytes: fs.readFileSync(clip), type: 'video/mp4' } });
    const res = await fetch(`${server.url}/api/jobs`, { method: 'POST', body: form });
    const created = await json(res);
    assert.equal(res.status, 201, JSON.stringify(created));
    const id = created.id;
    const get = async () => json(await fetch(`${server.url}/api/jobs/${id}`));

    // Both workers paint a chunk at once; the one whose chunk is not done yet is killed.
    await until('both chunks running', async () => workers.every((w) => w.started(id)), 60_000, 50);
    const chunkOf = (w: WorkerProcess) => Number(new RegExp(`job ${id} \\(video chunk (\\d+)`).exec(w.stderr())![1]);
    assert.deepEqual(workers.map(chunkOf).sort(), [1, 2], 'each worker took a chunk');
    const progressed = await until('frames painted', async () => {
      const j = await get();
      return (j.progress?.iteration ?? 0) >= 12 ? j : undefined;
    }, 60_000, 50);
    assert.equal(progressed.status, 'running');
    assert.equal(progressed.progress.unit, 'frames');
    const victim = workers.find((w) => !w.stderr().includes(`video chunk ${chunkOf(w)} done`));
    assert.ok(victim, 'a worker still painting its chunk');
    const victimChunk = chunkOf(victim);
    await killAndWait(victim.child, 'SIGKILL');
    workers.splice(workers.indexOf(victim), 1);
    const storedAtKill = fs.readdirSync(path.join(storeDir, 'jobs', id, 'chunks', `chunk-00${victimChunk - 1}`)).filter((f) => /^frame_\d+\.png$/.test(f)).length;
    assert.ok(storedAtKill > 0, 'the killed worker had stored frames');

    const end = await until('the job to end', async () => {
      const j = await get();
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
    }, 120_000);
    assert.equal(end.status, 'succeeded', end.error);
    const d = end.result.details;
    t.diagnostic(`chunks: ${JSON.stringify(d.chunks)}; stored by the killed worker: ${storedAtKill}`);
    assert.equal(d.frames, FRAMES);
    assert.deepEqual([end.progress.iteration, end.progress.iterations, end.progress.unit], [FRAMES, FRAMES, 'frames']);
    assert.equal(d.chunks.length, 2);
    assert.deepEqual(d.chunks.map((c: { kept: number }) => c.kept).reduce((a: number, b: number) => a + b, 0), FRAMES);
    // The resumed chunk went on after the frames the killed worker had stored.
    const resumed = d.chunks.find((c: { index: number }) => c.index === victimChunk - 1);
    assert.equal(resumed.worker, workers[0].name);
    assert.equal(resumed.resumedFrom, resumed.paintFrom + storedAtKill - 1, JSON.stringify(resumed));
    assert.equal(resumed.painted, (resumed.keepTo ?? FRAMES) - resumed.resumedFrom, 'only the frames not stored are painted again');
    assert.equal(end.resumes.length, 1);
    assert.equal(end.resumes[0].worker, workers[0].name);

    const video = path.join(tmp, 'result.mp4');
    fs.writeFileSync(video, Buffer.from(await (await fetch(`${server.url}/api/jobs/${id}/result`)).arrayBuffer()));
    const streams = probe(video).streams;
    const v = streams.find((s) => s.codec_type === 'video')!;
    assert.equal(Number(v.nb_read_frames), FRAMES, 'every frame of the clip');
    assert.equal(v.avg_frame_rate, '24/1');
    assert.deepEqual([v.width, v.height], [96, 64]);
    assert.ok(streams.some((s) => s.codec_type === 'audio'), 'the audio is kept');
    const poster = await fetch(`${server.url}/api/jobs/${id}/thumbnail/result`);
    assert.equal(poster.status, 200);
    await until('its chunk frames to leave the storage', async () => !fs.existsSync(path.join(storeDir, 'jobs', id, 'chunks')), 10_000);
    assert.ok(fs.existsSync(path.join(storeDir, 'jobs', id, 'result.mp4')));
  });

  test('by optimisation: chunks with the longer overlap on both workers, every frame in the result', async () => {
    const args = ['--queue', redis.url, '--storage', storeDir, '--model-dir', MODELS_DIR, '--threads', '1', '--lock-timeout', '2'];
    while (workers.length < 2) workers.push(await spawnWorker(args));
    const fields = { method: 'video', size: 48, iterations: 4, frameIterations: 1, seed: 3, chunkFrames: 40 };
    const form = jobForm(fields, { content: { name: 'pan.mp4', bytes: fs.readFileSync(clip), type: 'video/mp4' }, style: STYLE_PNG });
    const created = await json(await fetch(`${server.url}/api/jobs`, { method: 'POST', body: form }));
    assert.ok(created.id, JSON.stringify(created));
    const end = await until('the job to end', async () => {
      const j = await json(await fetch(`${server.url}/api/jobs/${created.id}`));
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
    }, 180_000);
    assert.equal(end.status, 'succeeded', end.error);
    const d = end.result.details;
    assert.equal(d.method, 'optimisation');
    assert.equal(d.frames, FRAMES);
    assert.deepEqual(d.chunks.map((c: { paintFrom: number; keepFrom: number }) => c.keepFrom - c.paintFrom), [0, 24]);
    assert.equal(d.blendedAtJoins, 24);
    assert.equal(new Set(d.chunks.map((c: { worker: string }) => c.worker)).size, 2, 'both workers painted a chunk');
  });

  test('cancel reaches every chunk: the job ends cancelled and no worker goes on painting it', async () => {
    const args = ['--queue', redis.url, '--storage', storeDir, '--model-dir', MODELS_DIR, '--threads', '1', '--lock-timeout', '2'];
    while (workers.length < 2) workers.push(await spawnWorker(args));
    const form = jobForm({ method: 'video', fastStyle: 'wave', chunkFrames: 48 }, { content: { name: 'pan.mp4', bytes: fs.readFileSync(clip), type: 'video/mp4' } });
    const created = await json(await fetch(`${server.url}/api/jobs`, { method: 'POST', body: form }));
    const id = created.id;
    await until('frames painted', async () => ((await json(await fetch(`${server.url}/api/jobs/${id}`))).progress?.iteration ?? 0) >= 4, 60_000, 50);
    assert.equal((await fetch(`${server.url}/api/jobs/${id}/cancel`, { method: 'POST' })).status, 202);
    const end = await until('the job to end', async () => {
      const j = await json(await fetch(`${server.url}/api/jobs/${id}`));
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
    }, 60_000);
    assert.equal(end.status, 'cancelled');
    await until('both workers to stop their chunks', async () => workers.filter((w) => w.started(id)).every((w) => w.stderr().includes(`job ${id}: cancel requested`)), 30_000);
    assert.ok(!workers.some((w) => w.stderr().includes(`job ${id}: video chunk 2 done`) && w.stderr().includes(`job ${id}: video chunk 1 done`)), 'not every chunk ran to its end');
  });
});
