/**
 * A short clip painted frame by frame without flicker, as a job: the library's `stylizeVideo()`
 * (in a worker thread) with a pretrained style network (`fastStyle`), or, without one, by
 * optimisation towards an uploaded painting. Progress counts frames; the latest finished frame is
 * the preview; the result is an MP4 (audio kept) with its first frame as the gallery's poster.
 *
 * Resuming does not go through the manager's checkpoint.png: finished frames stay in
 * `result.mp4.frames/` and every run asks the library to keep them, so a run after a restart
 * paints only the frames that were missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeImage, loadImage, RgbImage } from '../../image';
import { stylizeVideo, VIDEO_DEFAULTS } from '../../video';
import type { VideoOptions, VideoProgress, VideoResult } from '../../video';
import { decodeFrames } from '../../video/ffmpeg';
import { FrameStore } from '../../video/frame-store';
import { badRequest } from '../http-error';
import type { FieldReader } from '../fields';
import { writeAtomic } from '../files';
import type { JobProgress } from '../store';
import { parseColourMode } from './stylize';
import type { InputRole, JobKind, JobOutcome, JobRunContext, KindContext, RunSettings } from './types';

export interface VideoJobParams {
  /** A pretrained style (fast method); absent: optimisation towards the uploaded style image. */
  fastStyle?: string;
  /** Longest side of the painted frames; absent: the clip's, at most DEFAULT_VIDEO_SIZE. */
  size?: number;
  /** Temporal consistency (false paints every frame on its own, and flickers). */
  consistency: boolean;
  preserveColors: 'none' | 'luminance' | 'histogram';
  /** Optimisation method: iterations of the first frame and of each later (warm-started) frame. */
  iterations?: number;
  frameIterations?: number;
  seed?: number;
  /** Distributed queue: frames each chunk keeps (chunks run on different workers at once); absent: 5 s of the clip. */
  chunkFrames?: number;
}

// Small by default: the fast network takes about 1–3 s a frame at 256–384 px on a CPU.
export const DEFAULT_VIDEO_SIZE = 256;
export const VIDEO_RESULT = 'result.mp4';
export const VIDEO_POSTER = 'poster.jpg';
/** Previews of a fast job come faster than anyone watches them: one a second is enough. */
const PREVIEW_EVERY_MS = 1000;

export const videoKind: JobKind = {
  name: 'video',
  description: 'a short video painted frame by frame without flicker: needs a video and fastStyle (or a style image, by optimisation)',
  resumable: false,
  videoInput: 'content',

  parse(f: FieldReader, ctx: KindContext): Record<string, unknown> {
    const fastStyle = f.string('fastStyle', { max: 100 });
    if (fastStyle && !ctx.styles.find(fastStyle)) {
      const known = ctx.styles.list().map((s) => s.name).join(', ') || 'none installed';
      throw badRequest(`unknown fast style '${fastStyle}' (available: ${known})`);
    }
    const params: VideoJobParams = {
      size: f.integer('size', { min: 32, max: ctx.maxSize }),
      consistency: f.boolean('consistency') ?? true,
      preserveColors: parseColourMode(f, fastStyle ? ['none', 'luminance'] : ['none', 'luminance', 'histogram']),
    };
    if (fastStyle) {
      params.fastStyle = fastStyle;
    } else {
      const iterations = f.integer('iterations', { min: 1, max: ctx.maxIterations }) ?? Math.min(VIDEO_DEFAULTS.iterations, ctx.maxIterations);
      params.iterations = iterations;
      params.frameIterations = f.integer('frameIterations', { min: 1, max: ctx.maxIterations }) ?? Math.max(1, Math.round(iterations / 4));
      params.seed = f.integer('seed', { min: 0, max: 2 ** 31 - 1 }) ?? Math.floor(Math.random() * 2 ** 31);
    }
    const chunkFrames = f.integer('chunkFrames', { min: 2, max: 100_000 });
    if (chunkFrames !== undefined) params.chunkFrames = chunkFrames;
    if (params.size === undefined) delete params.size;
    return params as unknown as Record<string, unknown>;
  },

  inputs(params: Record<string, unknown>): InputRole[] {
    return params.fastStyle ? ['content'] : ['content', 'style'];
  },

  async run(ctx: JobRunContext): Promise<JobOutcome> {
    const p = ctx.job.params as unknown as VideoJobParams;
    const started = Date.now();
    // Seconds spent before a restart count too.
    const before = ctx.job.resumes.length > 0 ? (ctx.job.progress?.elapsedSeconds ?? 0) : 0;
    const output = path.join(ctx.dir, VIDEO_RESULT);
    const framesDir = `${output}.frames`;
    const previews = new FramePreviews(ctx, framesDir);
    const result = await stylizeVideo(
      { ...videoOptions(ctx, output), resume: true },
      {
        signal: ctx.signal,
        onProgress: (q: VideoProgress) => {
          if (q.type !== 'frame') return;
          ctx.progress(frameProgress(q, before + (Date.now() - started) / 1000));
          previews.offer(q.frame);
        },
      },
    );
    await previews.settled();
    const seconds = before + (Date.now() - started) / 1000;
    const details = videoDetails(result, p);
    if (!result.written) return { cancelled: true, image: null, file: null, iterations: 0, seconds, details };
    await writePoster(output, result, path.join(ctx.dir, VIDEO_POSTER));
    return {
      cancelled: result.cancelled,
      image: null,
      file: { name: VIDEO_RESULT, width: result.width, height: result.height, poster: VIDEO_POSTER },
      iterations: result.frames,
      seconds,
      details,
    };
  },
};

/** The library's options of a video job's run (also of each of its chunks on the distributed queue). */
export function videoOptions(ctx: Pick<JobRunContext, 'job' | 'inputs' | 'maxVideoFrames'> & RunSettings, output: string): VideoOptions {
  const p = ctx.job.params as unknown as VideoJobParams;
  const clip = ctx.job.inputs.content;
  const size = p.size ?? (clip && Math.max(clip.width, clip.height) > DEFAULT_VIDEO_SIZE ? DEFAULT_VIDEO_SIZE : undefined);
  return {
    input: ctx.inputs.content!,
    output,
    ...(p.fastStyle ? { style: p.fastStyle } : { styleImage: ctx.inputs.style!, iterations: p.iterations, frameIterations: p.frameIterations, seed: p.seed }),
    size,
    consistency: p.consistency,
    preserveColors: p.preserveColors,
    ...(ctx.maxVideoFrames ? { maxFrames: ctx.maxVideoFrames } : {}),
    threads: ctx.threads,
    device: ctx.device,
    precision: ctx.precision,
    modelDir: ctx.modelDir,
    maxPixels: ctx.maxPixels,
    maxMemory: ctx.maxMemory,
  };
}

function frameProgress(q: Extract<VideoProgress, { type: 'frame' }>, elapsedSeconds: number): JobProgress {
  return {
    iteration: q.frame,
    iterations: q.frames,
    elapsedSeconds,
    etaSeconds: q.etaSeconds,
    iterationsPerSecond: q.framesPerSecond,
    unit: 'frames',
  };
}

function videoDetails(r: VideoResult, p: VideoJobParams): Record<string, unknown> {
  return {
    method: r.method,
    style: r.style,
    frames: r.frames,
    frameRate: r.frameRate,
    hasAudio: r.hasAudio,
    paintedFrames: r.painted,
    resumedFrames: r.resumed,
    consistency: p.consistency,
    flowMs: Math.round(r.flowMs),
    paintMs: Math.round(r.paintMs),
    threads: r.threads,
    precision: r.precision,
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
  };
}

/**
 * The latest finished frame as the job's preview, at most once a second (and always the first):
 * read from the frames folder, where the run has saved it before announcing it.
 */
class FramePreviews {
  private lastAt = 0;
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: JobRunContext, private readonly framesDir: string) {}

  offer(frame: number): void {
    const now = Date.now();
    if (now - this.lastAt < PREVIEW_EVERY_MS) return;
    this.lastAt = now;
    this.pending = this.pending.then(async () => {
      let image: RgbImage;
      try {
        image = await loadImage(FrameStore.framePath(this.framesDir, frame));
      } catch {
        return; // the run has cleared its frames meanwhile: nothing to show
      }
      this.ctx.preview(image, image, frame);
    });
  }

  settled(): Promise<void> {
    return this.pending;
  }
}

/** The output's first frame as a JPEG: what a resumed or complete run agree on, whatever was painted when. */
async function writePoster(output: string, result: VideoResult, poster: string): Promise<void> {
  for await (const frame of decodeFrames(output, { width: result.width, height: result.height })) {
    await writeAtomic(poster, await encodeImage(frame, 'jpeg', { quality: 88 }));
    return;
  }
  fs.rmSync(poster, { force: true });
}
