/**
 * Video jobs over HTTP: a clip uploaded with a fast style is painted frame by frame (progress
 * counts frames), the result is an MP4 with the clip's frames, rate and audio, served with byte
 * ranges, with a poster for the gallery; bad uploads (not a video, a still image, no video
 * stream, over a limit) answer 4xx with one line and leave nothing behind; a server restarted in
 * the middle resumes the job from its finished frames (video jobs on the distributed queue: queue-video.test.ts).
 * Clips are made here with Debian's ffmpeg from a shared photo (96x64, 12 fps).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RgbImage } from '../src/image';
import { decodeFrames } from '../src/video';
import { SHARED_DIR, MODELS_DIR } from './helpers/reference';
import { CONTENT_PNG, STYLE_PNG, json, jobForm, killAndWait, makeSamplesDir, readEvents, spawnServer, startTestServer, tempDir, waitForJob } from './helpers/server';

const PHOTO = path.join(SHARED_DIR, 'images', 'content', 'tubingen.jpg');
const HAS_FFMPEG = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0 && spawnSync('ffprobe', ['-version'], { stdio: 'ignore' }).status === 0;
const needsFfmpeg = HAS_FFMPEG ? {} : { skip: 'ffmpeg is not installed (apt-get install ffmpeg)' };
const tmp = tempDir('nst-server-video-');
const clip = (name: string) => path.join(tmp, name);

function ffmpeg(...args: string[]): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

/** A pan over the photo, `width`x`height`, `seconds` long at `fps`, with a tone (or none). */
function makePan(file: string, o: { width: number; height: number; seconds: number; fps: number; audio?: boolean }): void {
  const audio = o.audio === false ? [] : ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'];
  ffmpeg(
    '-framerate', String(o.fps), '-loop', '1', '-i', PHOTO, ...audio,
    '-filter_complex', `[0:v]scale=-2:${o.height + 32},crop=${o.width}:${o.height}:x='mod(2*n,in_w-out_w)':y=16,format=yuv420p[v]`,
    '-map', '[v]', ...(o.audio === false ? [] : ['-map', '1:a', '-c:a', 'aac']), '-r', String(o.fps), '-t', String(o.seconds), '-c:v', 'libx264', '-crf', '12', file,
  );
}

function probe(file: string): { streams: { codec_type: string; width?: number; height?: number; avg_frame_rate?: string; nb_frames?: string }[] } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', file], { encoding: 'utf8' });
  return JSON.parse(r.stdout);
}

async function frames(file: string, width: number, height: number): Promise<RgbImage[]> {
  const out: RgbImage[] = [];
  for await (const f of decodeFrames(file, { width, height })) out.push(f);
  return out;
}

function meanAbsDiff(a: RgbImage, b: RgbImage): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i] - b.data[i]);
  return s / a.data.length;
}

function videoForm(file: string, fields: Record<string, string | number | boolean> = { method: 'video', fastStyle: 'wave' }): FormData {
  return jobForm(fields, { content: { name: path.basename(file), bytes: fs.readFileSync(file), type: 'video/mp4' } });
}

function jobFolders(dataDir: string): string[] {
  return fs.readdirSync(path.join(dataDir, 'jobs'));
}

before(() => {
  if (!HAS_FFMPEG) return;
  makePan(clip('pan.mp4'), { width: 96, height: 64, seconds: 1, fps: 12 });
  makePan(clip('long.mp4'), { width: 96, height: 64, seconds: 2, fps: 12, audio: false });
  makePan(clip('wide.mp4'), { width: 128, height: 96, seconds: 0.5, fps: 12, audio: false });
  makePan(clip('restart.mp4'), { width: 96, height: 64, seconds: 4, fps: 24, audio: false });
  makePan(clip('short.mp4'), { width: 96, height: 64, seconds: 0.25, fps: 12, audio: false });
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '1', '-c:a', 'aac', clip('tone.m4a'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('video jobs over HTTP', needsFfmpeg, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    server = await startTestServer({ threads: 1, maxVideoSeconds: 1.5, maxVideoPixels: 100 * 80 });
  });
  after(async () => server?.close());

  test('a clip with a fast style: frames progress, an MP4 with the same frames, rate and audio, painted, served in ranges, with a poster', async () => {
    const res = await fetch(`${server.url}/api/jobs`, { method: 'POST', body: videoForm(clip('pan.mp4')) });
    const created = await json(res);
    assert.equal(res.status, 201, JSON.stringify(created));
    assert.equal(created.method, 'video');
    assert.deepEqual({ ...created.inputs.content.video, seconds: undefined }, { seconds: undefined, frameRate: '12/1', frames: 12, hasAudio: true, codec: 'h264' });

    const events = await readEvents(`${server.url}/api/jobs/${created.id}/events`);
    const end = events[events.length - 1];
    assert.equal(end.event, 'end');
    assert.equal(end.data.job.status, 'succeeded', JSON.stringify(end.data.job.error));
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data);
    assert.ok(progress.length >= 1 && progress.every((p) => p.unit === 'frames' && p.iterations === 12), JSON.stringify(progress));
    // One event per frame, in order (the stream may have opened after the first ones).
    const done = progress.map((p) => p.iteration);
    assert.deepEqual(done, [...Array(done.length).keys()].map((i) => 13 - done.length + i), JSON.stringify(done));
    assert.ok(done.length >= 6, JSON.stringify(done));
    assert.ok(events.some((e) => e.event === 'preview'), 'the first frame is shown while it paints');

    const job = end.data.job;
    assert.equal(job.result.iterations, 12);
    assert.equal(job.result.details.frames, 12);
    assert.equal(job.result.partial, false);
    assert.deepEqual([job.result.width, job.result.height], [96, 64]);

    const got = await fetch(`${server.url}${job.result.url}`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'video/mp4');
    assert.equal(got.headers.get('accept-ranges'), 'bytes');
    const bytes = Buffer.from(await got.arrayBuffer());
    const result = clip('result.mp4');
    fs.writeFileSync(result, bytes);
    const streams = probe(result).streams;
    const v = streams.find((s) => s.codec_type === 'video')!;
    assert.deepEqual([v.width, v.height, v.avg_frame_rate, Number(v.nb_frames)], [96, 64, '12/1', 12]);
    assert.ok(streams.some((s) => s.codec_type === 'audio'), 'audio kept');
    const painted = await frames(result, 96, 64);
    const original = await frames(clip('pan.mp4'), 96, 64);
    assert.equal(painted.length, 12);
    const diffs = painted.map((p, i) => meanAbsDiff(p, original[i]));
    assert.ok(Math.min(...diffs) > 0.05, `every frame painted (mean abs differences ${diffs.map((d) => d.toFixed(3)).join(' ')})`);

    const part = await fetch(`${server.url}${job.result.url}`, { headers: { Range: 'bytes=10-109' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 10-109/${bytes.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(10, 110));
    const tail = await fetch(`${server.url}${job.result.url}`, { headers: { Range: 'bytes=-5' } });
    assert.deepEqual([tail.status, Buffer.from(await tail.arrayBuffer())], [206, bytes.subarray(bytes.length - 5)]);
    const beyond = await fetch(`${server.url}${job.result.url}`, { headers: { Range: `bytes=${bytes.length}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${bytes.length}`);

    for (const thumb of [job.result.poster, `/api/jobs/${job.id}/thumbnail/content?size=48`]) {
      const t = await fetch(`${server.url}${thumb}`);
      assert.equal(t.status, 200, thumb);
      assert.equal(t.headers.get('content-type'), 'image/jpeg');
    }
    const input = await fetch(`${server.url}/api/jobs/${job.id}/inputs/content`);
    assert.equal(input.headers.get('content-type'), 'video/mp4');
    assert.ok(!fs.existsSync(path.join(server.dataDir, 'jobs', job.id, 'result.mp4.frames')), 'the frames folder goes once the video is complete');
  });

  test('without fastStyle, a clip is painted by optimisation towards an uploaded painting', async () => {
    const form = jobForm({ method: 'video', size: 48, iterations: 4, frameIterations: 2, seed: 1 }, {
      content: { name: 'short.mp4', bytes: fs.readFileSync(clip('short.mp4')), type: 'video/mp4' },
      style: STYLE_PNG,
    });
    const res = await fetch(`${server.url}/api/jobs`, { method: 'POST', body: form });
    const created = await json(res);
    assert.equal(res.status, 201, JSON.stringify(created));
    const job = await waitForJob(server.url, created.id, (j) => j.status !== 'running' && j.status !== 'queued', 120_000);
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.result.details.method, 'optimisation');
    assert.equal(job.result.details.frames, 3);
    assert.deepEqual([job.result.width, job.result.height], [48, 32]);
  });

  test('bad uploads answer 4xx with one line and leave no job behind', async () => {
    const before = jobFolders(server.dataDir);
    const cases: [string, FormData, number, RegExp][] = [
      ['text', jobForm({ method: 'video', fastStyle: 'wave' }, { content: { name: 'clip.mp4', bytes: Buffer.from('not a video at all\n') } }), 415, /^the file is not a video ffmpeg can read \(.+\)$/],
      ['a still image', videoForm(CONTENT_PNG), 415, /^the file is not a video ffmpeg can read \(not a video \(no video stream\)\)$/],
      ['no video stream', videoForm(clip('tone.m4a')), 415, /no video stream/],
      ['empty', jobForm({ method: 'video', fastStyle: 'wave' }, { content: { name: 'empty.mp4', bytes: Buffer.alloc(0) } }), 400, /^the video is empty$/],
      ['too long', videoForm(clip('long.mp4')), 413, /^the video is 2\.0 s long, over the server's limit of 1\.5 s$/],
      ['too many pixels', videoForm(clip('wide.mp4')), 413, /^the video's frames are 128x96 \(12288 pixels\), over the server's limit of 8000 pixels$/],
      ['no style', videoForm(clip('pan.mp4'), { method: 'video' }), 400, /^a style image is required/],
      ['unknown style', videoForm(clip('pan.mp4'), { method: 'video', fastStyle: 'nope' }), 400, /^unknown fast style 'nope'/],
      ['an image format', videoForm(clip('pan.mp4'), { method: 'video', fastStyle: 'wave', format: 'png' }), 400, /^unknown field 'format' for method 'video'/],
    ];
    for (const [what, form, status, message] of cases) {
      const res = await fetch(`${server.url}/api/jobs`, { method: 'POST', body: form });
      const body = await json(res);
      assert.equal(res.status, status, `${what}: ${JSON.stringify(body)}`);
      assert.match(body.error, message, what);
      assert.ok(!body.error.includes('\n') && !body.error.includes(server.dataDir), `${what}: one line, no server path: ${body.error}`);
    }
    const sample = await fetch(`${server.url}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ method: 'video', fastStyle: 'wave', contentSample: 'content/tiny_photo.png' }) });
    assert.equal(sample.status, 400);
    assert.match((await json(sample)).error, /needs an uploaded video/);
    assert.deepEqual(jobFolders(server.dataDir), before, 'no job folder left');
    assert.deepEqual(fs.readdirSync(path.join(server.dataDir, 'uploads')), [], 'no upload left');
  });

  test('a video over the size limit in bytes is refused', async () => {
    const small = await startTestServer({ threads: 1, maxVideoBytes: 2048 });
    try {
      const res = await fetch(`${small.url}/api/jobs`, { method: 'POST', body: videoForm(clip('pan.mp4')) });
      const body = await json(res);
      assert.equal(res.status, 413, JSON.stringify(body));
      assert.match(body.error, /^the video is \d+ KiB, over the server's limit of 2 KiB$/);
      assert.deepEqual(jobFolders(small.dataDir), []);
      assert.deepEqual(fs.readdirSync(path.join(small.dataDir, 'uploads')), []);
      // Images keep their own limit (maxUploadBytes), whatever the video limit.
      const image = await fetch(`${small.url}/api/jobs`, { method: 'POST', body: jobForm({ method: 'fast', fastStyle: 'wave' }, { content: CONTENT_PNG }) });
      assert.equal(image.status, 201);
    } finally {
      await small.close();
    }
  });
});

test('a server restarted during a video job resumes it from its finished frames', needsFfmpeg, async () => {
  const dataDir = tempDir('nst-video-restart-');
  let server = await startTestServer({ dataDir, threads: 1 });
  try {
    const res = await fetch(`${server.url}/api/jobs`, { method: 'POST', body: videoForm(clip('restart.mp4')) });
    const created = await json(res);
    assert.equal(res.status, 201, JSON.stringify(created));
    await waitForJob(server.url, created.id, (j) => (j.progress?.iteration ?? 0) >= 3 || (j.status !== 'running' && j.status !== 'queued'), 120_000);
    await server.close();
    const kept = fs.readdirSync(path.join(dataDir, 'jobs', created.id, 'result.mp4.frames')).filter((f) => f.endsWith('.png')).length;
    assert.ok(kept >= 3 && kept < 96, `frames kept over the restart: ${kept}`);

    server = await startTestServer({ dataDir, threads: 1 });
    const job = await waitForJob(server.url, created.id, (j) => j.status !== 'running' && j.status !== 'queued', 120_000);
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.resumes.length, 1);
    assert.equal(job.result.details.frames, 96);
    assert.ok(job.result.details.resumedFrames >= kept - 1 && job.result.details.resumedFrames <= kept, JSON.stringify(job.result.details));
    assert.equal(job.result.details.paintedFrames, 96 - job.result.details.resumedFrames);
    const out = path.join(dataDir, 'jobs', created.id, 'result.mp4');
    assert.equal(Number(probe(out).streams.find((s) => s.codec_type === 'video')!.nb_frames), 96);
    // The report is written just after the job ends: let it land before the server closes.
    for (let i = 0; i < 50 && !fs.existsSync(path.join(dataDir, 'jobs', created.id, 'report.json')); i++) await new Promise((r) => setTimeout(r, 100));
  } finally {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a server killed (SIGKILL) during a video job resumes it from its finished frames; a cancelled one keeps a partial video', needsFfmpeg, async () => {
  const dataDir = tempDir('nst-video-kill-');
  const samplesDir = makeSamplesDir();
  const args = ['--data-dir', dataDir, '--samples-dir', samplesDir, '--model-dir', MODELS_DIR, '--threads', '1', '--max-video-seconds', '5'];
  let s = await spawnServer(args);
  try {
    const post = async () => {
      const res = await fetch(`${s.url}/api/jobs`, { method: 'POST', body: videoForm(clip('restart.mp4')) });
      const job = await json(res);
      assert.equal(res.status, 201, JSON.stringify(job));
      return job;
    };
    const killed = await post();
    await waitForJob(s.url, killed.id, (j) => (j.progress?.iteration ?? 0) >= 3 || (j.status !== 'running' && j.status !== 'queued'), 120_000);
    await killAndWait(s.child, 'SIGKILL');
    const frames = path.join(dataDir, 'jobs', killed.id, 'result.mp4.frames');
    const kept = fs.readdirSync(frames).filter((f) => /^frame_\d+\.png$/.test(f)).length;
    assert.ok(kept >= 3 && kept < 96, `frames kept: ${kept}`);

    s = await spawnServer(args);
    const job = await waitForJob(s.url, killed.id, (j) => j.status !== 'running' && j.status !== 'queued', 120_000);
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.result.details.frames, 96);
    assert.ok(job.result.details.resumedFrames >= kept - 1, JSON.stringify(job.result.details));

    const cancelled = await post();
    await waitForJob(s.url, cancelled.id, (j) => (j.progress?.iteration ?? 0) >= 2, 120_000);
    assert.equal((await fetch(`${s.url}/api/jobs/${cancelled.id}/cancel`, { method: 'POST' })).status, 202);
    const stopped = await waitForJob(s.url, cancelled.id, (j) => j.status !== 'running', 120_000);
    assert.equal(stopped.status, 'cancelled');
    assert.equal(stopped.result.partial, true);
    const partial = clip('partial.mp4');
    fs.writeFileSync(partial, Buffer.from(await (await fetch(`${s.url}${stopped.result.url}`)).arrayBuffer()));
    const count = Number(probe(partial).streams.find((x) => x.codec_type === 'video')!.nb_frames);
    assert.ok(count >= 2 && count < 96 && count === stopped.result.details.frames, `partial video of ${count} frames`);
  } finally {
    await killAndWait(s.child, 'SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(samplesDir, { recursive: true, force: true });
  }
});
