/**
 * Options of `nst video` / stylizeVideo(): which method (a fast style network, or optimisation
 * towards a painting), which part of the clip at which size, temporal consistency, resume.
 * Validation probes the clip with ffprobe, so a missing ffmpeg, a file that is not a video or a
 * clip over the limits fails with one line before any work starts.
 */
import type { DeviceName } from '../engine/device';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../errors';
import { DEFAULT_MAX_PIXELS } from '../image';
import type { Precision } from '../engine';
import { resolveModelPath } from '../transfer/fast/model-path';
import { resolveStylizeOptions, ResolvedStylizeOptions, StylizeOptions } from '../transfer/gatys/options';
import { defaultMaxMemory, parseMemorySize } from '../transfer/tiling/memory-size';
import { nonNegative, nonNegativeInt, oneOf, positiveInt, requireFile, stripUndefined } from '../transfer/validate';
import { probeVideo, requireFfmpeg, VIDEO_OUTPUT_EXTENSIONS, VideoInfo } from './ffmpeg';

/** The stylize() options that apply to every frame of the optimisation method. */
export type VideoStylizeSettings = Pick<
  StylizeOptions,
  | 'contentWeight'
  | 'styleWeight'
  | 'tvWeight'
  | 'preset'
  | 'contentLayers'
  | 'styleLayers'
  | 'styleLayerWeights'
  | 'styleLayerDecay'
  | 'styleBlendWeights'
  | 'styleScale'
  | 'noiseRatio'
  | 'optimizer'
  | 'learningRate'
  | 'lbfgsHistory'
  | 'pooling'
  | 'normalizeGradients'
  | 'lossNormalization'
  | 'seed'
>;

export interface VideoOptions extends VideoStylizeSettings {
  /** The clip (anything ffmpeg reads). */
  input: string;
  /** The stylised clip: .mp4, .mov, .mkv (H.264 + AAC) or .webm (VP9 + Opus). */
  output: string;
  /** Fast method: a style by name (see `nst styles`)… */
  style?: string;
  /** …or a trained model file. */
  model?: string;
  /** Optimisation method (Ruder et al.): the painting(s). */
  styleImage?: string | string[];
  /** Longest side of the output frames; default: the clip's own size. */
  size?: number;
  /** Output frame rate; default: the clip's own. */
  fps?: number;
  /** Seconds into the clip to start at. Default 0. */
  start?: number;
  /** Seconds to paint. Default: to the end. */
  duration?: number;
  /** Temporal consistency (default true); false paints every frame on its own. */
  consistency?: boolean;
  /** Fast method: weight of the warped previous frame in the coarse band (colour, shapes) where the flow is reliable (0–1). Default 0.95. */
  blend?: number;
  /** Fast method: its weight in the fine detail (strokes), whose contrast is then restored (0–1). Default 0.9. */
  detailBlend?: number;
  /** Optimisation method: weight of the temporal loss. Default 50. */
  temporalWeight?: number;
  /** Optimisation method: iterations of the first frame. Default 300. */
  iterations?: number;
  /** Optimisation method: iterations of each later frame (warm-started). Default iterations / 4. */
  frameIterations?: number;
  /** First frame's start: content (default), style or noise; later frames start from the warped previous one. */
  init?: 'content' | 'style' | 'noise';
  /** Keep the clip's colours: luminance (both methods), histogram (optimisation). */
  preserveColors?: 'none' | 'luminance' | 'histogram';
  /** Continue an interrupted run: frames already in <output>.frames/ are kept. */
  resume?: boolean;
  /** Keep <output>.frames/ after a complete run. */
  keepFrames?: boolean;
  /** Refuse clips (the part asked for) with more frames than this. Default 9000. */
  maxFrames?: number;
  /** Refuse clips whose frames have more pixels than this. */
  maxPixels?: number;
  /**
   * Memory budget of the run (bytes, or a size such as '6GB'): frames that would not fit are
   * painted in tiles, and a --size whose frames cannot fit at all is refused. Default: 75 % of
   * the machine's memory.
   */
  maxMemory?: number | string;
  precision?: Precision | 'auto';
  threads?: number;
  device?: DeviceName;
  modelDir?: string;
  /** Progress lines every N frames when there is no terminal (CLI). Default 1. */
  printEvery?: number;
}

export const VIDEO_DEFAULTS = {
  // Measured (docs/video.md): wave at 256×144, −52 % flicker for +8.5 % style loss; udnie −57 % for +0.1 %.
  blend: 0.95,
  detailBlend: 0.9,
  temporalWeight: 50,
  iterations: 300,
  maxFrames: 9000,
  init: 'content' as const,
};

export interface ResolvedVideoOptions {
  input: string;
  output: string;
  /** Where finished frames are written as they finish (for resume and partial assembly). */
  framesDir: string;
  method: 'fast' | 'optimisation';
  /** Fast method: the network. */
  modelPath?: string;
  styleName: string;
  /** Optimisation method: every stylize setting, resolved (content = the clip, size = the frame size). */
  gatys?: ResolvedStylizeOptions;
  clip: VideoInfo;
  /** Size of the painted frames (even, aspect of the clip). */
  width: number;
  height: number;
  /** Output frame rate: ffmpeg rational or number. */
  frameRate: string;
  fps?: number;
  start: number;
  duration?: number;
  /** Frames expected (from the container; the decode is authoritative). */
  expectedFrames: number;
  consistency: boolean;
  blend: number;
  detailBlend: number;
  temporalWeight: number;
  iterations: number;
  frameIterations: number;
  preserveColors: 'none' | 'luminance' | 'histogram';
  resume: boolean;
  keepFrames: boolean;
  /** Memory budget, bytes. */
  maxMemory: number;
  precision: Precision | 'auto';
  threads?: number;
  device?: DeviceName;
}

/** The even frame size whose longest side is `size` (or the clip's), with the clip's display aspect. */
export function frameSize(clip: VideoInfo, size?: number): { width: number; height: number } {
  const even = (v: number) => Math.max(2, 2 * Math.round(v / 2));
  const aspect = clip.displayAspect;
  const longest = size ?? Math.max(clip.width, Math.round(clip.height * aspect), clip.height, Math.round(clip.width / aspect));
  return aspect >= 1 ? { width: even(longest), height: even(longest / aspect) } : { width: even(longest * aspect), height: even(longest) };
}

export function resolveVideoOptions(options: VideoOptions): ResolvedVideoOptions {
  const o = { ...VIDEO_DEFAULTS, ...stripUndefined(options) } as typeof VIDEO_DEFAULTS & VideoOptions;
  requireFile(o.input, 'input video');
  if (!o.output) throw new NstError('an output video is required (--output)');
  const ext = path.extname(o.output).toLowerCase();
  if (!VIDEO_OUTPUT_EXTENSIONS.includes(ext)) {
    throw new NstError(`cannot write '${o.output}': ${ext ? `unknown video extension '${ext}'` : 'no file extension'} (use ${VIDEO_OUTPUT_EXTENSIONS.join(', ')})`);
  }
  checkWritableDir(o.output);
  if (path.resolve(o.output) === path.resolve(o.input)) throw new NstError('--output must differ from --input');

  const styleImages = (Array.isArray(o.styleImage) ? o.styleImage : o.styleImage ? [o.styleImage] : []).filter(Boolean);
  const fastGiven = !!(o.style || o.model);
  if (fastGiven && styleImages.length > 0) throw new NstError('give either --style/--model (fast network) or --style-image (optimisation), not both');
  if (!fastGiven && styleImages.length === 0) throw new NstError("a style is required: --style NAME or --model FILE (fast), or --style-image PAINTING (optimisation)");
  const method = fastGiven ? 'fast' : 'optimisation';

  if (o.size !== undefined) positiveInt(o.size, 'size');
  if (o.fps !== undefined && !(o.fps > 0 && o.fps <= 240)) throw new NstError(`--fps must be a number in (0, 240] (got ${o.fps})`);
  const start = o.start ?? 0;
  nonNegative(start, 'start');
  if (o.duration !== undefined && !(o.duration > 0 && Number.isFinite(o.duration))) throw new NstError(`--duration must be a positive number of seconds (got ${o.duration})`);
  if (!(o.blend >= 0 && o.blend < 1)) throw new NstError(`--blend must be in [0, 1) (got ${o.blend})`);
  if (!(o.detailBlend >= 0 && o.detailBlend < 1)) throw new NstError(`--detail-blend must be in [0, 1) (got ${o.detailBlend})`);
  nonNegative(o.temporalWeight, 'temporal-weight');
  positiveInt(o.iterations, 'iterations');
  const frameIterations = o.frameIterations ?? Math.max(1, Math.round(o.iterations / 4));
  positiveInt(frameIterations, 'frame-iterations');
  positiveInt(o.maxFrames, 'max-frames');
  const maxPixels = o.maxPixels ?? DEFAULT_MAX_PIXELS;
  positiveInt(maxPixels, 'max-pixels');
  const maxMemory = o.maxMemory === undefined ? defaultMaxMemory() : parseMemorySize(o.maxMemory);
  const preserveColors = o.preserveColors ?? 'none';
  oneOf(preserveColors, method === 'fast' ? ['none', 'luminance'] : ['none', 'luminance', 'histogram'], 'preserve-colors');
  oneOf(o.init, ['content', 'style', 'noise'], 'init');
  const precision = o.precision ?? 'auto';
  oneOf(precision, ['fp32', 'bf16', 'auto'], 'precision');
  if (o.threads !== undefined) positiveInt(o.threads, 'threads');
  if (o.device !== undefined) oneOf(o.device, ['cpu', 'cuda'], 'device');
  if (o.printEvery !== undefined) nonNegativeInt(o.printEvery, 'print-every');

  // The method's own settings, checked by the method's own validation.
  let modelPath: string | undefined;
  let styleName: string;
  let gatys: ResolvedStylizeOptions | undefined;
  if (method === 'fast') {
    ({ modelPath, styleName } = resolveModelPath(o));
  } else {
    gatys = resolveStylizeOptions({
      ...pickStylizeSettings(o),
      content: o.input,
      style: styleImages,
      output: o.output,
      iterations: o.iterations,
      init: o.init,
      preserveColors,
      precision,
      threads: o.threads,
      device: o.device,
      modelDir: o.modelDir,
      maxPixels,
      maxMemory,
      report: false,
    });
    styleName = styleImages.map((s) => path.basename(s)).join(' + ');
  }

  // The clip: ffmpeg present, a video, within the limits.
  requireFfmpeg();
  const clip = probeVideo(o.input);
  if (clip.width * clip.height > maxPixels) throw new NstError(`'${o.input}' has ${clip.width}x${clip.height} frames, over --max-pixels ${maxPixels}`);
  if (clip.duration > 0 && start >= clip.duration) throw new NstError(`--start ${start} s is past the end of '${o.input}' (${clip.duration.toFixed(2)} s)`);
  const seconds = Math.min(clip.duration > 0 ? clip.duration - start : Infinity, o.duration ?? Infinity);
  const rate = o.fps ?? clip.fps;
  const expectedFrames = Number.isFinite(seconds) ? Math.max(1, Math.round(seconds * rate)) : clip.frameCount;
  if (expectedFrames > o.maxFrames) {
    throw new NstError(`'${o.input}' has about ${expectedFrames} frames to paint, over --max-frames ${o.maxFrames}; paint a part with --start/--duration, lower --fps, or raise --max-frames`);
  }
  const { width, height } = frameSize(clip, o.size);
  if (width * height > maxPixels) throw new NstError(`frames of ${width}x${height} are over --max-pixels ${maxPixels}`);
  if (gatys) gatys = { ...gatys, scales: [Math.max(width, height)], scaleIterations: [o.iterations] };

  return {
    input: o.input,
    output: o.output,
    framesDir: `${o.output}.frames`,
    method,
    modelPath,
    styleName,
    gatys,
    clip,
    width,
    height,
    frameRate: o.fps !== undefined ? String(o.fps) : clip.frameRate,
    fps: o.fps,
    start,
    duration: o.duration,
    expectedFrames,
    consistency: o.consistency ?? true,
    blend: o.blend,
    detailBlend: o.detailBlend,
    temporalWeight: o.temporalWeight,
    iterations: o.iterations,
    frameIterations,
    preserveColors,
    resume: o.resume ?? false,
    keepFrames: o.keepFrames ?? false,
    maxMemory,
    precision,
    threads: o.threads,
    device: o.device,
  };
}

function pickStylizeSettings(o: VideoStylizeSettings): VideoStylizeSettings {
  const keys: (keyof VideoStylizeSettings)[] = [
    'contentWeight', 'styleWeight', 'tvWeight', 'preset', 'contentLayers', 'styleLayers', 'styleLayerWeights', 'styleLayerDecay',
    'styleBlendWeights', 'styleScale', 'noiseRatio', 'optimizer', 'learningRate', 'lbfgsHistory', 'pooling', 'normalizeGradients',
    'lossNormalization', 'seed',
  ];
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as VideoStylizeSettings;
}

/** The output's folder exists and is writable (the frames folder and the video go there). */
function checkWritableDir(output: string): void {
  const dir = path.dirname(path.resolve(output));
  try {
    if (!fs.statSync(dir).isDirectory()) throw new Error('not a directory');
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'the folder does not exist' : code === 'EACCES' ? 'permission denied' : (err as Error).message.split('\n')[0];
    throw new NstError(`cannot write '${output}': ${why}`);
  }
  if (fs.statSync(output, { throwIfNoEntry: false })?.isDirectory()) throw new NstError(`cannot write '${output}': it is a directory`);
}
