/**
 * One video run, in the calling thread: decode the clip with ffmpeg, paint each frame (fast
 * network or optimisation, made consistent with the previous frame), write every finished frame
 * at once, then assemble the frames and the clip's audio into the output. Cancellation stops
 * after the current frame (the optimisation method drops a half-done frame) and still assembles
 * the frames done into a (partial) video; --resume continues from them.
 *
 * Memory: frames are decoded one at a time as they are painted (the decoder's pipe holds ffmpeg
 * back), and each frame is planned within --max-memory (frame-memory.ts); a size whose frames
 * cannot fit is refused after the network is loaded and before the frames folder is touched.
 */
import { configureThread, resolvePrecision } from '../engine';
import { NstError } from '../errors';
import { loadImage, RgbImage } from '../image';
import { Vgg19, VGG19_LAYER_NAMES } from '../models';
import { loadStyleModel } from '../models/style-model-format';
import { RunMemoryWatch } from '../transfer/gatys/memory-watch';
import { peakResidentBytes, residentBytes } from '../transfer/memory';
import { formatBytes, MIB } from '../transfer/tiling/memory-size';
import { assembleFinished } from './assemble';
import { decodeFrames } from './ffmpeg';
import { FastPainter } from './fast-painter';
import { loadOpenCv } from './flow';
import { checkOptimisationFrames, pipelineBytes, planFastFrames } from './frame-memory';
import { FrameStore } from './frame-store';
import { OptimisationPainter } from './optimisation-painter';
import type { FramePainter } from './painter';
import { TemporalSequencer } from './sequencer';
import type { ResolvedVideoOptions } from './options';
import type { VideoProgress } from './progress';

export type { VideoProgress } from './progress';

export interface VideoResult {
  output: string;
  method: 'fast' | 'optimisation';
  style: string;
  width: number;
  height: number;
  frameRate: string;
  /** Frames in the output; painted in this run; taken from an earlier run. */
  frames: number;
  painted: number;
  resumed: number;
  /** Stopped early: the output holds the frames done so far (see framesDir to resume). */
  cancelled: boolean;
  /** Whether the output was written (a cancelled run with no finished frame writes nothing). */
  written: boolean;
  hasAudio: boolean;
  framesDir: string | null;
  seconds: number;
  /** Mean per painted frame, ms: optical flow + masks, painting. First frame separately (optimisation warm start). */
  flowMs: number;
  paintMs: number;
  firstFrameMs: number | null;
  threads: number;
  precision: string;
  memory: VideoMemoryReport;
}

/** How the run kept within --max-memory. */
export interface VideoMemoryReport {
  budgetMiB: number;
  /** The process after loading the network, plus what the pipeline holds for frames of this size. */
  baseMiB: number;
  /** The process's peak resident memory (all threads) by the end of the painting. */
  peakMiB: number;
  overBudget: boolean;
  /** Side of the smallest tiles a frame was painted in; null: every frame in one piece. */
  tile: number | null;
  /** Frames painted in tiles (in this run). */
  tiledFrames: number;
}

export interface VideoHooks {
  onProgress?(progress: VideoProgress): void;
  isCancelled?(): boolean;
}

/** The settings that make frames comparable across runs (what --resume checks). */
/** What a result says of the clip and the run's settings, however the run ended. */
export function clipFields(o: ResolvedVideoOptions): Pick<VideoResult, 'output' | 'method' | 'style' | 'width' | 'height' | 'frameRate' | 'hasAudio'> {
  return { output: o.output, method: o.method, style: o.styleName, width: o.width, height: o.height, frameRate: o.frameRate, hasAudio: o.clip.hasAudio };
}

export function fingerprint(o: ResolvedVideoOptions): object {
  const g = o.gatys;
  return {
    input: o.input,
    width: o.width,
    height: o.height,
    frameRate: o.frameRate,
    start: o.start,
    duration: o.duration ?? null,
    method: o.method,
    style: o.modelPath ?? g?.styles,
    consistency: o.consistency,
    blend: o.method === 'fast' ? [o.blend, o.detailBlend] : undefined,
    temporalWeight: o.method === 'optimisation' ? o.temporalWeight : undefined,
    iterations: o.method === 'optimisation' ? [o.iterations, o.frameIterations] : undefined,
    preserveColors: o.preserveColors,
    // The budget changes how frames are tiled, not what they look like enough to refuse a resume.
    gatys: g ? { ...g, seed: undefined, threads: undefined, printEvery: undefined, output: undefined, maxMemory: undefined } : undefined,
  };
}

interface Painter {
  painter: FramePainter;
  precision: string;
  /** The base the frames are planned over: the process with the network loaded, plus the pipeline. */
  baseBytes: number;
}

/**
 * Loads the method's network and plans its frames within the budget (a size that cannot fit is
 * refused here, before anything is decoded or written).
 */
export async function createPainter(o: ResolvedVideoOptions, runtime: { device: string; threads: number }): Promise<Painter> {
  // OpenCV's heap is part of the process the frames are planned over.
  if (o.consistency) await loadOpenCv();
  return o.method === 'fast' ? createFastPainter(o, runtime) : createOptimisationPainter(o, runtime);
}

function createFastPainter(o: ResolvedVideoOptions, { device, threads }: { device: string; threads: number }): Painter {
  const model = loadStyleModel(o.modelPath!, device);
  try {
    model.net.precision = resolvePrecision(o.precision, device);
    const base = residentBytes();
    const { tiling } = planFastFrames(o, base, { modelPath: o.modelPath!, precision: model.net.precision, threads, device });
    const blend = o.consistency ? { coarse: o.blend, detail: o.detailBlend } : { coarse: 0, detail: 0 };
    return {
      painter: new FastPainter(model.net, { blend, preserveColors: o.preserveColors === 'luminance' ? 'luminance' : 'none', tiling }),
      precision: model.net.precision,
      baseBytes: base + pipelineBytes('fast', o.width, o.height),
    };
  } catch (err) {
    model.net.dispose();
    throw err;
  }
}

async function createOptimisationPainter(o: ResolvedVideoOptions, { device, threads }: { device: string; threads: number }): Promise<Painter> {
  const g = o.gatys!;
  const precision = resolvePrecision(g.precision, device);
  const styleSide = Math.max(16, Math.round(Math.max(o.width, o.height) * g.styleScale));
  const styles = await Promise.all(g.styles.map((s) => loadImage(s, { maxSide: styleSide, maxPixels: g.maxPixels })));
  const deepest = [...g.contentLayers, ...g.styleLayers].reduce((a, b) => (VGG19_LAYER_NAMES.indexOf(a) > VGG19_LAYER_NAMES.indexOf(b) ? a : b), VGG19_LAYER_NAMES[0]);
  const net = Vgg19.load({ modelDir: g.modelDir, pooling: g.pooling, device, upTo: deepest, precision });
  try {
    const watch = new RunMemoryWatch(o.maxMemory, residentBytes() + pipelineBytes('optimisation', o.width, o.height), { threads, device, modelDir: g.modelDir });
    checkOptimisationFrames(o, styles, precision, watch);
    const painter = new OptimisationPainter(net, {
      gatys: g,
      styles,
      iterations: o.iterations,
      frameIterations: o.frameIterations,
      temporalWeight: o.consistency ? o.temporalWeight : 0,
      device,
      memory: { watch, precision },
    });
    return { painter, precision, baseBytes: watch.baseBytes };
  } catch (err) {
    net.dispose();
    throw err;
  }
}

export async function runVideo(o: ResolvedVideoOptions, hooks: VideoHooks = {}): Promise<VideoResult> {
  const started = Date.now();
  const runtime = configureThread({ threads: o.threads, device: o.device, seed: o.gatys?.seed });
  const { painter, precision, baseBytes } = await createPainter(o, runtime);
  let opened: ReturnType<typeof FrameStore.open>;
  try {
    opened = FrameStore.open(o.framesDir, fingerprint(o), o.resume);
  } catch (err) {
    painter.dispose();
    throw err;
  }
  const { store, finished, discarded } = opened;
  if (discarded > 0) hooks.onProgress?.({ type: 'warning', message: `discarded ${discarded} frame(s) of an earlier run in ${o.framesDir} (--resume keeps them)` });
  hooks.onProgress?.({ type: 'painting', framesDir: o.framesDir, resumed: finished });
  let decoded = 0;
  let painted = 0;
  let cancelled = false;
  let flowMs = 0;
  let paintMs = 0;
  let firstFrameMs: number | null = null;
  let tile: number | null = null;
  let tiledFrames = 0;
  try {
    const sequencer = await TemporalSequencer.create(painter, o.consistency);
    const loopStart = performance.now();
    let previousFrame: RgbImage | null = null;
    for await (const frame of decodeFrames(o.input, { width: o.width, height: o.height, fps: o.fps, start: o.start, duration: o.duration })) {
      decoded++;
      if (decoded <= finished) {
        previousFrame = frame;
        continue;
      }
      if (hooks.isCancelled?.()) {
        cancelled = true;
        break;
      }
      if (decoded === finished + 1 && finished > 0) sequencer.seed(previousFrame!, await store.load(finished));
      previousFrame = null;
      const index = decoded;
      const done = await sequencer.next(frame, {
        isCancelled: hooks.isCancelled,
        onIteration: (iteration, iterations, loss) => hooks.onProgress?.({ type: 'iteration', frame: index, iteration, iterations, loss }),
      });
      if (!done) {
        cancelled = true;
        break;
      }
      if (painter.tile !== null) {
        if (tiledFrames === 0 && o.method === 'optimisation') {
          hooks.onProgress?.({ type: 'warning', message: `frames of ${o.width}x${o.height} do not fit --max-memory ${formatBytes(o.maxMemory)} whole: they are optimised in ${painter.tile}-px tiles, without the temporal loss (each starts from the warped previous frame)` });
        }
        tiledFrames++;
        tile = Math.min(tile ?? Infinity, painter.tile);
      }
      await store.save(index, done.image);
      painted++;
      flowMs += done.flowMs;
      paintMs += done.paintMs;
      if (index === 1) firstFrameMs = done.flowMs + done.paintMs;
      const elapsed = (performance.now() - loopStart) / 1000;
      const rate = painted / Math.max(elapsed, 1e-9);
      const frames = Math.max(o.expectedFrames, index);
      hooks.onProgress?.({ type: 'frame', frame: index, frames, resumed: finished, framesPerSecond: rate, etaSeconds: (frames - index) / rate, flowMs: done.flowMs, paintMs: done.paintMs });
    }
  } catch (err) {
    // A run that fails before its first frame leaves nothing behind.
    if (store.finishedFrames() === 0) store.remove();
    throw err;
  } finally {
    painter.dispose();
  }
  const peak = peakResidentBytes();
  if (decoded === 0) {
    store.remove();
    throw new NstError(`'${o.input}' has no video frames${o.start > 0 || o.duration !== undefined ? ' in the part asked for (--start/--duration)' : ''}`);
  }
  const frames = await assembleFinished(o, store, cancelled, hooks.onProgress);
  const keep = cancelled || o.keepFrames;
  if (!keep) store.remove();
  return {
    ...clipFields(o),
    frames,
    painted,
    resumed: Math.min(finished, frames),
    cancelled,
    written: frames > 0,
    framesDir: keep ? o.framesDir : null,
    seconds: (Date.now() - started) / 1000,
    flowMs: painted > 0 ? flowMs / painted : 0,
    paintMs: painted > 0 ? paintMs / painted : 0,
    firstFrameMs,
    threads: runtime.threads,
    precision,
    memory: { budgetMiB: Math.round(o.maxMemory / MIB), baseMiB: Math.round(baseBytes / MIB), peakMiB: Math.round(peak / MIB), overBudget: peak > o.maxMemory, tile, tiledFrames },
  };
}
