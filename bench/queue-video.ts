/**
 * Video jobs on the scale-out queue (`node dist/bench/queue-video.js`, JSON on stdout; needs
 * redis-server and ffmpeg). A pan over a photo with a tone (default 10 s at 24 frames/s) is painted
 * with the fast method (wave, 256 px) and by optimisation (starry_night, 128 px), each:
 * - in one process (stylizeVideo, 1 thread), with and without temporal consistency;
 * - as a queue job with 1 `nst worker` of 1 thread, then with 2 of 1 thread each (same plan);
 * frames/s = frames of the clip / wall time from submission to the result. Flicker is the
 * warping error of the results (flow estimated between the input frames, weighted by its
 * certainty, as the video bench's real clips): at the joins (the frame pairs from the cross-fade
 * to the first kept frame of each chunk) against inside the chunks, and for the whole clip
 * against frame-by-frame painting, next to the single-process run's.
 *
 * Options: --seconds S, --fast-size N, --opt-size N, --iterations N, --frame-iterations N,
 * --chunk-frames N, --only fast|optimisation.
 */
import { spawnSync, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { BullJobQueue } from '../src/queue';
import { startServer, RunningServer } from '../src/server';
import { openStorage } from '../src/storage';
import { decodeFrames, frameSize, probeVideo, stylizeVideo, VideoOptions } from '../src/video';
import { CHUNK_DEFAULTS, joinSequence, VideoChunk } from '../src/video/chunks';
import { FrameStore } from '../src/video/frame-store';
import { warpCertainty } from '../src/video/consistency';
import { computeFlow, Flow, loadOpenCv, toGrey } from '../src/video/flow';
import { temporalWarpingError } from '../src/video/metrics';
import { loadImage, RgbImage } from '../src/image';
import { freePort, killAndWait, spawnWorker, waitFor } from './queue-bench';

const REDIS_SERVER = process.env.NST_REDIS_SERVER ?? '/usr/bin/redis-server';
const SHARED = process.env.NST_SHARED_DIR ?? path.join(PROJECT_ROOT, '..', 'shared');
const PHOTO = path.join(SHARED, 'images', 'content', 'tubingen.jpg');
const STYLE = path.join(SHARED, 'images', 'style', 'starry_night.jpg');
const MODELS = path.join(SHARED, 'models');

export interface QueueVideoBenchOptions {
  seconds?: number;
  fastSize?: number;
  optimisationSize?: number;
  iterations?: number;
  frameIterations?: number;
  chunkFrames?: number;
  only?: 'fast' | 'optimisation';
}

interface Method {
  name: 'fast' | 'optimisation';
  size: number;
  /** The job's fields, and the library's options, of this method. */
  fields: Record<string, string | number>;
  library: Partial<VideoOptions>;
}

export async function benchQueueVideo(o: QueueVideoBenchOptions = {}): Promise<unknown> {
  for (const [tool, args] of [[REDIS_SERVER, ['--version']], ['ffmpeg', ['-version']]] as const) {
    if (spawnSync(tool, [...args], { stdio: 'ignore' }).status !== 0) return { skipped: `${tool} cannot run` };
  }
  const seconds = o.seconds ?? 10;
  const iterations = o.iterations ?? 40;
  const frameIterations = o.frameIterations ?? Math.max(1, Math.round(iterations / 4));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-bench-queue-video-'));
  const clip = path.join(scratch, 'pan.mp4');
  makePan(clip, seconds);
  const methods = ([
    { name: 'fast' as const, size: o.fastSize ?? 256, fields: { fastStyle: 'wave' }, library: { style: 'wave' } },
    {
      name: 'optimisation' as const,
      size: o.optimisationSize ?? 128,
      fields: { iterations, frameIterations, seed: 1 },
      library: { styleImage: STYLE, iterations, frameIterations, seed: 1 },
    },
  ] as Method[]).filter((m) => !o.only || m.name === o.only);
  const children: ChildProcess[] = [];
  const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);
  try {
    const port = await freePort();
    children.push(spawnRedis(port, scratch));
    const url = `redis://127.0.0.1:${port}`;
    const storeDir = path.join(scratch, 'store');
    await waitFor(async () => BullJobQueue.open({ url, storage: openStorage(storeDir), maxPixels: 1e8 }).then(async (q) => (await q.close(), true)));
    const queue = await BullJobQueue.open({ url, storage: openStorage(storeDir), maxPixels: 1e8, reconcileMs: 1000, keepVideoChunks: true });
    const api = await startServer({ port: 0, dataDir: path.join(scratch, 'api'), samplesDir: path.join(scratch, 'samples'), modelDir: MODELS, maxVideoSeconds: seconds + 1 }, { queue, log: { info: () => undefined, error: (m) => process.stderr.write(`${m}\n`) } });
    const workerArgs = ['--queue', url, '--storage', storeDir, '--model-dir', MODELS, '--threads', '1', '--concurrency', '1'];
    const report: Record<string, unknown> = { clip: { seconds, frameRate: 24, frames: Math.round(seconds * 24) }, loadBefore: load(), cpus: os.cpus().length };
    for (const m of methods) {
      const single = await paintInProcess(clip, scratch, m, true);
      const perFrame = await paintInProcess(clip, scratch, m, false);
      while (children.length - 1 < 1) children.push(await spawnWorker(workerArgs));
      const one = await measured(children.slice(1), () => runJob(api, clip, m, o.chunkFrames));
      while (children.length - 1 < 2) children.push(await spawnWorker(workerArgs));
      const two = await measured(children.slice(1), () => runJob(api, clip, m, o.chunkFrames));
      for (const c of children.splice(1)) await killAndWait(c);
      const flicker = await measureFlicker(clip, m.size, { single: single.file, perFrame: perFrame.file, one: one.file, two: two.file }, two.chunks, CHUNK_DEFAULTS[m.name].crossfade);
      // The same stored chunks joined again without and with the cross-fade, compared as PNG frames.
      const crossfades: Record<string, unknown> = {};
      for (const crossfade of [...new Set([0, 6, CHUNK_DEFAULTS[m.name].crossfade])]) {
        const sequenceDir = path.join(scratch, `${m.name}-crossfade-${crossfade}`);
        await joinSequence({ chunks: two.chunks, root: path.join(storeDir, 'jobs', two.id, 'chunks'), sequenceDir, crossfade });
        crossfades[`crossfade${crossfade}`] = await flicker.ofSequence(sequenceDir);
      }
      report[m.name] = {
        size: m.size,
        ...(m.name === 'optimisation' ? { iterations, frameIterations } : {}),
        framesPerSecond: { singleProcess: single.fps, queue1Worker: one.fps, queue2Workers: two.fps },
        speedup2WorkersOver1: round(two.fps / one.fps),
        // CPU seconds of the worker processes (and their ffmpeg) per wall second: what a busy machine left them.
        workerCoresUsed: { queue1Worker: one.coresUsed, queue2Workers: two.coresUsed },
        workerCpuSecondsPerFrame: { queue1Worker: one.cpuPerFrame, queue2Workers: two.cpuPerFrame },
        speedup2WorkersOverSingleProcess: round(two.fps / single.fps),
        target: '2 workers >= 1.7x 1 worker',
        chunks: two.chunks.map((c) => ({ keep: [c.keepFrom, c.keepTo], paintFrom: c.paintFrom, worker: c.worker, seconds: c.seconds })),
        flicker: flicker.report,
        joinsOfPngFrames: crossfades,
        loadAfter: load(),
      };
    }
    await api.close();
    return { ...report, chunkSettings: { fast: CHUNK_DEFAULTS.fast, optimisation: CHUNK_DEFAULTS.optimisation } };
  } finally {
    for (const c of children.reverse()) await killAndWait(c);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** CPU seconds (user + system, with waited-for children) of a process so far, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime, stime, cutime, cstime are fields 14–17 of the whole line (11–14 after the name).
    return fields.slice(11, 15).reduce((a, b) => a + Number(b), 0) / 100;
  } catch {
    return 0;
  }
}

/** A queue run, with the CPU its workers spent on it. */
async function measured<T extends { fps: number; wall: number; frames: number }>(workers: ChildProcess[], run: () => Promise<T>): Promise<T & { coresUsed: number; cpuPerFrame: number }> {
  const before = workers.reduce((a, w) => a + cpuSeconds(w.pid), 0);
  const r = await run();
  const cpu = workers.reduce((a, w) => a + cpuSeconds(w.pid), 0) - before;
  return { ...r, coresUsed: round(cpu / r.wall), cpuPerFrame: round(cpu / r.frames) };
}

function makePan(file: string, seconds: number): void {
  const speed = Math.min(2, 430 / (24 * seconds)).toFixed(3);
  const r = spawnSync('ffmpeg', [
    '-v', 'error', '-y', '-framerate', '24', '-loop', '1', '-i', PHOTO, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    // A steady pan without a wrap: at most 2 px a frame over the 432 px the crop leaves.
    '-filter_complex', `[0:v]scale=-2:900,crop=768:432:x='${speed}*n':y=200,format=yuv420p[v]`,
    '-map', '[v]', '-map', '1:a', '-c:a', 'aac', '-r', '24', '-t', String(seconds), '-c:v', 'libx264', '-crf', '16', file,
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
}

function spawnRedis(port: number, dir: string): ChildProcess {
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  return spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
}

async function paintInProcess(clip: string, scratch: string, m: Method, consistency: boolean): Promise<{ file: string; fps: number }> {
  const file = path.join(scratch, `${m.name}-${consistency ? 'single' : 'per-frame'}.mp4`);
  const started = Date.now();
  const r = await stylizeVideo({ input: clip, output: file, size: m.size, threads: 1, consistency, modelDir: MODELS, ...m.library });
  return { file, fps: round(r.frames / ((Date.now() - started) / 1000)) };
}

type ChunkDetails = VideoChunk & { worker: string; seconds: number };

async function runJob(api: RunningServer, clip: string, m: Method, chunkFrames?: number): Promise<{ id: string; file: string; fps: number; wall: number; frames: number; chunks: ChunkDetails[] }> {
  const form = new FormData();
  for (const [k, v] of Object.entries({ method: 'video', size: m.size, ...m.fields, ...(chunkFrames ? { chunkFrames } : {}) })) form.append(k, String(v));
  form.append('content', new Blob([new Uint8Array(fs.readFileSync(clip))], { type: 'video/mp4' }), 'pan.mp4');
  if (m.name === 'optimisation') form.append('style', new Blob([new Uint8Array(fs.readFileSync(STYLE))], { type: 'image/jpeg' }), 'starry_night.jpg');
  const started = Date.now();
  const res = await fetch(`${api.url}/api/jobs`, { method: 'POST', body: form });
  const created = (await res.json()) as { id: string; error?: string };
  if (res.status !== 201) throw new Error(`POST /api/jobs: ${res.status} ${created.error}`);
  for (;;) {
    const job = (await (await fetch(`${api.url}/api/jobs/${created.id}`)).json()) as { status: string; error?: string; result?: { details: { frames: number; chunks: ChunkDetails[] } } };
    if (job.status === 'succeeded') {
      const wall = (Date.now() - started) / 1000;
      const file = path.join(path.dirname(clip), `${m.name}-${created.id}.mp4`);
      fs.writeFileSync(file, Buffer.from(await (await fetch(`${api.url}/api/jobs/${created.id}/result`)).arrayBuffer()));
      return { id: created.id, file, fps: round(job.result!.details.frames / wall), wall, frames: job.result!.details.frames, chunks: job.result!.details.chunks };
    }
    if (job.status !== 'queued' && job.status !== 'running') throw new Error(`job ${created.id}: ${job.status} ${job.error}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function decodeAll(file: string, width: number, height: number): Promise<RgbImage[]> {
  const out: RgbImage[] = [];
  for await (const f of decodeFrames(file, { width, height })) out.push(f);
  return out;
}

/**
 * Warping error of each frame pair (t−1, t) of each result, then the means over the pairs at the
 * joins, inside the chunks, and over the whole clip.
 */
async function measureFlicker(clip: string, size: number, results: Record<'single' | 'perFrame' | 'one' | 'two', string>, chunks: VideoChunk[], crossfade: number) {
  const { width, height } = frameSize(probeVideo(clip), size);
  const input = await decodeAll(clip, width, height);
  const cv = await loadOpenCv();
  const backward: Flow[] = [];
  const valid: Float32Array[] = [];
  for (let t = 1; t < input.length; t++) {
    const cur = toGrey(input[t]);
    const prev = toGrey(input[t - 1]);
    const b = computeFlow(cv, cur, prev);
    backward.push(b);
    valid.push(warpCertainty(input[t], input[t - 1], b, computeFlow(cv, prev, cur)).certainty);
  }
  const errorsOf = (frames: RgbImage[]) => frames.slice(1).map((f, i) => temporalWarpingError([frames[i], f], [backward[i]], [valid[i]]));
  const pairErrors = async (file: string) => errorsOf(await decodeAll(file, width, height));
  // Pair index i is frames (i+1, i+2) in 1-based clip numbers: the pair ending at frame i+2.
  const atJoin = new Set<number>();
  for (const c of chunks.slice(1)) for (let end = c.keepFrom - crossfade; end <= c.keepFrom; end++) atJoin.add(end - 2);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const split = (errors: number[]) => {
    const join = errors.filter((_, i) => atJoin.has(i));
    const inside = errors.filter((_, i) => !atJoin.has(i));
    return { whole: mean(errors), joins: mean(join), inside: mean(inside), joinsOverInside: mean(join) / mean(inside) };
  };
  const [single, perFrame, one, two] = await Promise.all([pairErrors(results.single), pairErrors(results.perFrame), pairErrors(results.one), pairErrors(results.two)]);
  const s = split(single), p = split(perFrame), q1 = split(one), q2 = split(two);
  const reduction = (x: { whole: number }) => 1 - x.whole / p.whole;
  const ofSequence = async (dir: string) => {
    const frames: RgbImage[] = [];
    for (let i = 1; fs.existsSync(FrameStore.framePath(dir, i)); i++) frames.push(await loadImage(FrameStore.framePath(dir, i)));
    return r4(split(errorsOf(frames)));
  };
  const report = {
    measure: 'mean warping error per frame pair (estimated flow between input frames, certainty-weighted)',
    joinPairs: atJoin.size,
    joinPairsAre: `the ${crossfade} cross-faded frames before each chunk's first kept frame, and that frame`,
    perFrame: r4(p),
    singleProcess: { ...r4(s), reductionVsPerFrame: round(reduction(s)) },
    queue1Worker: { ...r4(q1), reductionVsPerFrame: round(reduction(q1)) },
    queue2Workers: { ...r4(q2), reductionVsPerFrame: round(reduction(q2)) },
    reductionPointsBelowSingleProcess: round(100 * (reduction(s) - reduction(q2))),
    targets: 'joinsOverInside <= 1.2 (queue); reduction within 5 points of the single process',
  };
  return { report, ofSequence };
}

function r4(x: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, Math.round(v * 1e4) / 1e4]));
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}

function parseArgs(argv: string[]): QueueVideoBenchOptions {
  const o: QueueVideoBenchOptions = {};
  const num = (i: number) => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${argv[i]} needs a positive number`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') o.seconds = num(i++);
    else if (a === '--fast-size') o.fastSize = num(i++);
    else if (a === '--opt-size') o.optimisationSize = num(i++);
    else if (a === '--iterations') o.iterations = num(i++);
    else if (a === '--frame-iterations') o.frameIterations = num(i++);
    else if (a === '--chunk-frames') o.chunkFrames = num(i++);
    else if (a === '--only' && (argv[i + 1] === 'fast' || argv[i + 1] === 'optimisation')) o.only = argv[++i] as 'fast' | 'optimisation';
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

if (require.main === module) {
  let options: QueueVideoBenchOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`queue-video: ${(err as Error).message}\n`);
    process.exit(2);
  }
  benchQueueVideo(options).then(
    (r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'),
    (err) => {
      process.stderr.write(`queue-video: ${(err as Error)?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
