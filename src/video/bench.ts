/**
 * Benchmark of the video methods on clips with known motion (`npm run bench`, "video"):
 * - flow: endpoint error of the optical flow on synthetic shifts and a rotation, and its speed;
 * - fast and optimisation: flicker (temporal warping error with the true flow) and style loss,
 *   per-frame vs temporally consistent, on a synthetic pan of a photo; frames/s of the fast
 *   path including the flow; seconds per frame of the optimisation path, first vs later frames;
 * - realClips: both methods' flicker on real clips, where no true flow exists: the error is
 *   taken with the flow estimated between the input frames, weighted by the certainty the painter
 *   uses (forward–backward checks × photometric match of the input frames, as Lai et al. 2018);
 *   scripts/fetch-real-clip.sh gets the clips from Debian.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configureThread, resolvePrecision } from '../engine';
import { loadImage, RgbImage } from '../image';
import { PROJECT_ROOT } from '../models/model-dir';
import { loadStyleModel } from '../models/style-model-format';
import { Vgg19 } from '../models/vgg19';
import { resolveStyle } from '../transfer/fast/styles';
import { resolveStylizeOptions } from '../transfer/gatys/options';
import { FastPainter } from './fast-painter';
import { warpCertainty } from './consistency';
import { decodeFrames, probeVideo } from './ffmpeg';
import { computeFlow, Flow, FLOW_MAX_SIDE, loadOpenCv, toGrey } from './flow';
import { meanStyleLoss, temporalWarpingError } from './metrics';
import { OptimisationPainter } from './optimisation-painter';
import { VIDEO_DEFAULTS } from './options';
import type { FramePainter } from './painter';
import { TemporalSequencer } from './sequencer';
import { constantFlow, endpointError, resample, SyntheticClip, syntheticPan, syntheticRotation } from './synthetic';

export interface VideoBenchOptions {
  threads?: number;
  /** Fast path frame width (16:9 frames). Default 256. */
  fastSize?: number;
  fastFrames?: number;
  /** Optimisation frame width. Default 128. */
  optimisationSize?: number;
  optimisationFrames?: number;
  iterations?: number;
  frameIterations?: number;
  /** Pan speed, px per frame at the frame width (sub-pixel on purpose). */
  speed?: number;
  /** Real clips for the fast path's flicker; default REAL_CLIPS (those that are there). */
  realClips?: RealClip[];
  realClipFrames?: number;
  /** The fast path's blend weights (default: the video defaults), for sweeps. */
  blend?: { coarse: number; detail: number };
}

export interface RealClip {
  file: string;
  /** Seconds into the clip where the measured frames start. */
  start: number;
}

const CLIPS_DIR = path.join(PROJECT_ROOT, '.nst-cache', 'clips');
/**
 * From Debian's opencv-doc sample data (scripts/fetch-real-clip.sh): a handheld camera circling a
 * tree (320×240, 15 frames/s, but each picture repeated ~6 times; it starts moving after 23 s,
 * ~3 px between distinct pictures at 256 px) and an animated film excerpt with camera moves and
 * talking faces (720×528, 24 frames/s, 0.3–1 px/frame).
 */
export const REAL_CLIPS: RealClip[] = [
  { file: path.join(CLIPS_DIR, 'tree.avi'), start: 24 },
  { file: path.join(CLIPS_DIR, 'Megamind.avi'), start: 1 },
];

const SHARED = path.join(PROJECT_ROOT, '..', 'shared');
const PHOTO = path.join(SHARED, 'images', 'content', 'tubingen.jpg');
const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;
const epe = (e: { mean: number; median: number }) => ({ mean: round(e.mean, 3), median: round(e.median, 3) });

async function panClip(width: number, frames: number, speed: number): Promise<SyntheticClip> {
  const height = 2 * Math.round((width * 9) / 16 / 2);
  const photo = await loadImage(PHOTO, { width: Math.ceil(width + frames * speed + 4) });
  return syntheticPan(photo, width, height, frames, speed);
}

async function paintClip(painter: FramePainter, clip: SyntheticClip, consistency: boolean) {
  const sequencer = await TemporalSequencer.create(painter, consistency);
  const outputs: RgbImage[] = [];
  const times: number[] = [];
  let flowMs = 0;
  let paintMs = 0;
  for (const frame of clip.frames) {
    const done = (await sequencer.next(frame))!;
    outputs.push(done.image);
    times.push((done.flowMs + done.paintMs) / 1000);
    flowMs += done.flowMs;
    paintMs += done.paintMs;
  }
  return { outputs, times, flowMs: flowMs / clip.frames.length, paintMs: paintMs / clip.frames.length };
}

function compare(perFrame: { error: number; style: number }, consistent: { error: number; style: number }) {
  return {
    warpingErrorReduction: round(1 - consistent.error / perFrame.error, 3),
    styleLossChange: round(consistent.style / perFrame.style - 1, 3),
  };
}

export async function benchFlow(size = 256) {
  const cv = await loadOpenCv();
  const height = 2 * Math.round((size * 9) / 16 / 2);
  const photo = await loadImage(PHOTO, { width: size + 40 });
  const base = resample(photo, size, height, (x, y) => [x + 20, y + 20]);
  const shifts = [
    [2, 0],
    [2.5, -1.25],
    [7.3, 3.6],
  ].map(([dx, dy]) => {
    // The moved frame shows the photo at p + (dx, dy): its flow back onto the base frame is (dx, dy).
    const moved = resample(photo, size, height, (x, y) => [x + 20 + dx, y + 20 + dy]);
    const flow = computeFlow(cv, toGrey(moved), toGrey(base));
    return { dx, dy, endpointError: epe(endpointError(flow, constantFlow(size, height, dx, dy))) };
  });
  const rot = syntheticRotation(base, 2);
  const rotFlow = computeFlow(cv, toGrey(rot.frame), toGrey(base));
  const fullRes = computeFlow(cv, toGrey(rot.frame), toGrey(base), { maxSide: 0 });
  const time = (maxSide: number) => {
    const a = toGrey(base), b = toGrey(rot.frame);
    computeFlow(cv, a, b, { maxSide });
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) computeFlow(cv, a, b, { maxSide });
    return round((performance.now() - t0) / 5, 1);
  };
  return {
    method: 'Farnebäck (@techstark/opencv-js 4.12.0-release.1)',
    frame: `${size}x${height}`,
    flowMaxSide: FLOW_MAX_SIDE,
    shifts,
    rotation: { degrees: 2, endpointError: epe(endpointError(rotFlow, rot.backward)), endpointErrorFullResolution: epe(endpointError(fullRes, rot.backward)) },
    msPerFlow: time(FLOW_MAX_SIDE),
    msPerFlowFullResolution: time(0),
  };
}

export async function benchVideoFast(o: VideoBenchOptions = {}) {
  const size = o.fastSize ?? 256;
  const clip = await panClip(size, o.fastFrames ?? 8, o.speed ?? 2.5);
  const fps = (r: { times: number[] }) => round(r.times.length / r.times.reduce((x, y) => x + y, 0), 2);
  const r = await compareFast(clip, size, o, true);
  return {
    ...r.report,
    frame: `${clip.frames[0].width}x${clip.frames[0].height}`,
    frames: clip.frames.length,
    panPxPerFrame: o.speed ?? 2.5,
    perFrame: { ...r.report.perFrame, framesPerSecond: fps(r.perFrame) },
    consistent: { ...r.report.consistent, framesPerSecond: fps(r.consistent), flowMs: round(r.consistent.flowMs, 1), paintMs: round(r.consistent.paintMs, 1) },
  };
}

/**
 * The fast method (wave, 'auto' precision) per frame and with the blend (default: the video
 * defaults) on `clip`; flicker weighted by `clip.valid` when given (real clips).
 */
async function compareFast(clip: SyntheticClip & { valid?: Float32Array[] }, size: number, o: VideoBenchOptions, warmUp = false) {
  const model = loadStyleModel(resolveStyle('wave').path);
  model.net.precision = resolvePrecision('auto', 'cpu');
  const blend = o.blend ?? { coarse: VIDEO_DEFAULTS.blend, detail: VIDEO_DEFAULTS.detailBlend };
  const painterOf = (weights: typeof blend) => new FastPainter(model.net, { blend: weights, preserveColors: 'none' });
  const none = { coarse: 0, detail: 0 };
  let perFrame, consistent;
  try {
    if (warmUp) await paintClip(painterOf(none), { frames: clip.frames.slice(0, 2), backward: [] }, true);
    perFrame = await paintClip(painterOf(none), clip, false);
    consistent = await paintClip(painterOf(blend), clip, true);
  } finally {
    model.net.dispose();
  }
  const net = Vgg19.load({ upTo: 'relu5_1' });
  const painting = await loadImage(path.join(SHARED, 'images', 'style', 'wave.jpg'), { maxSide: size });
  try {
    const a = { error: temporalWarpingError(perFrame.outputs, clip.backward, clip.valid), style: meanStyleLoss(net, painting, perFrame.outputs) };
    const b = { error: temporalWarpingError(consistent.outputs, clip.backward, clip.valid), style: meanStyleLoss(net, painting, consistent.outputs) };
    const report = {
      style: 'wave',
      precision: model.net.precision,
      blend,
      perFrame: { warpingError: round(a.error), styleLoss: round(a.style, 2) },
      consistent: { warpingError: round(b.error), styleLoss: round(b.style, 2) },
      ...compare(a, b),
    };
    return { report, perFrame, consistent };
  } finally {
    net.dispose();
  }
}

/**
 * Decodes `frames` distinct frames of a clip at `width` (even height, the clip's aspect). Repeated
 * frames are skipped: tree.avi repeats each of its frames about six times, and identical pairs
 * would count as perfectly steady.
 */
async function decodeClip(file: string, width: number, frames: number, start: number): Promise<RgbImage[]> {
  const info = probeVideo(file);
  const height = 2 * Math.round((width * info.height) / info.width / 2);
  const out: RgbImage[] = [];
  for await (const frame of decodeFrames(file, { width, height, start })) {
    const last = out[out.length - 1];
    if (last && meanAbsDifference(last, frame) < 1e-3) continue;
    out.push(frame);
    if (out.length === frames) break;
  }
  return out;
}

function meanAbsDifference(a: RgbImage, b: RgbImage): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i] - b.data[i]);
  return sum / a.data.length;
}

/** A real clip's frames with the estimated backward flows and the certainty weights of the metric. */
async function measuredClip(file: string, start: number, size: number, count: number) {
  const frames = await decodeClip(file, size, count, start);
  const cv = await loadOpenCv();
  const backward: Flow[] = [];
  const valid: Float32Array[] = [];
  for (let t = 1; t < frames.length; t++) {
    const cur = toGrey(frames[t]), prev = toGrey(frames[t - 1]);
    const b = computeFlow(cv, cur, prev);
    backward.push(b);
    valid.push(warpCertainty(frames[t], frames[t - 1], b, computeFlow(cv, prev, cur)).certainty);
  }
  const info = {
    frame: `${frames[0].width}x${frames[0].height}`,
    trustedPixels: round(valid.reduce((s, m) => s + m.reduce((x, y) => x + y, 0) / m.length, 0) / valid.length, 3),
    // The input frames' own error: how much of the measure is flow error rather than flicker.
    inputWarpingError: round(temporalWarpingError(frames, backward, valid)),
  };
  return { clip: { frames, backward, valid }, info };
}

/**
 * Both methods on a real clip: per-frame vs consistent, flicker measured with the flow estimated
 * between the input frames and weighted by the certainty (forward–backward × photometric).
 */
export async function benchVideoRealClip(clip: RealClip, o: VideoBenchOptions = {}) {
  const { file, start } = clip;
  if (!fs.existsSync(file)) return { skipped: `no clip at ${file} (bash scripts/fetch-real-clip.sh gets it from Debian)` };
  const size = o.fastSize ?? 256;
  const measured = await measuredClip(file, start, size, o.realClipFrames ?? 24);
  const fast = { ...measured.info, frames: measured.clip.frames.length, ...(await compareFast(measured.clip, size, o)).report };
  const small = await measuredClip(file, start, o.optimisationSize ?? 128, o.optimisationFrames ?? 4);
  const optimisation = { ...small.info, ...(await compareOptimisation(small.clip, o)) };
  return { clip: path.basename(file), start, fast, optimisation };
}

export async function benchVideoOptimisation(o: VideoBenchOptions = {}) {
  const size = o.optimisationSize ?? 128;
  const clip = await panClip(size, o.optimisationFrames ?? 4, (o.speed ?? 2.5) / 2);
  return { frame: `${clip.frames[0].width}x${clip.frames[0].height}`, ...(await compareOptimisation(clip, o)) };
}

/**
 * The optimisation method (starry_night, fp32) per frame and consistent on `clip`; the flicker
 * weighted by `clip.valid` when given (real clips), else over the pixels whose source is inside.
 */
async function compareOptimisation(clip: SyntheticClip & { valid?: Float32Array[] }, o: VideoBenchOptions) {
  const size = Math.max(clip.frames[0].width, clip.frames[0].height);
  const stylePath = path.join(SHARED, 'images', 'style', 'starry_night.jpg');
  const iterations = o.iterations ?? 60;
  const frameIterations = o.frameIterations ?? Math.round(iterations / 4);
  const gatys = resolveStylizeOptions({ content: PHOTO, style: stylePath, output: 'unused.png', size, iterations, seed: 1, precision: 'fp32' });
  const styles = [await loadImage(stylePath, { maxSide: size })];
  const net = Vgg19.load({ upTo: 'relu5_1' });
  const painterOf = (consistent: boolean) =>
    new OptimisationPainter(net, { gatys, styles, iterations, frameIterations: consistent ? frameIterations : iterations, temporalWeight: consistent ? 50 : 0, device: 'cpu' });
  // The painters share the network: keep it alive by not calling their dispose().
  try {
    const perFrame = await paintClip(painterOf(false), clip, false);
    const consistent = await paintClip(painterOf(true), clip, true);
    const a = { error: temporalWarpingError(perFrame.outputs, clip.backward, clip.valid), style: meanStyleLoss(net, styles[0], perFrame.outputs) };
    const b = { error: temporalWarpingError(consistent.outputs, clip.backward, clip.valid), style: meanStyleLoss(net, styles[0], consistent.outputs) };
    const later = consistent.times.slice(1);
    const laterMean = later.reduce((x, y) => x + y, 0) / Math.max(later.length, 1);
    return {
      style: 'starry_night',
      frames: clip.frames.length,
      iterations,
      frameIterations,
      temporalWeight: 50,
      perFrame: { warpingError: round(a.error), styleLoss: round(a.style, 2), secondsPerFrame: round(perFrame.times.reduce((x, y) => x + y, 0) / perFrame.times.length, 2) },
      consistent: { warpingError: round(b.error), styleLoss: round(b.style, 2), firstFrameSeconds: round(consistent.times[0], 2), laterFrameSeconds: round(laterMean, 2), laterOverFirst: round(laterMean / consistent.times[0], 3) },
      ...compare(a, b),
    };
  } finally {
    net.dispose();
  }
}

async function sequential<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  for (const job of jobs) out.push(await job());
  return out;
}

/** Everything above, as one JSON-able object. */
export async function benchVideo(o: VideoBenchOptions = {}) {
  const runtime = configureThread({ threads: o.threads });
  return {
    threads: runtime.threads,
    flow: await benchFlow(o.fastSize ?? 256),
    fast: await benchVideoFast(o),
    realClips: await sequential((o.realClips ?? REAL_CLIPS).map((c) => () => benchVideoRealClip(c, o))),
    optimisation: await benchVideoOptimisation(o),
  };
}


