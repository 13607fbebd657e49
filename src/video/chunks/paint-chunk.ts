/**
 * Paints one chunk of a clip, in the calling thread (a compute thread: see api.ts): decodes the
 * clip, skips to the chunk's first painted frame, and paints its frames in order with temporal
 * consistency exactly as a whole run does, writing each finished frame at once (PNG, atomically)
 * as `frame_NNNNNN.png` (its number in the clip) and announcing it, so the caller can store it
 * before the next one is done. A chunk resumed after a crash starts after its last saved frame,
 * blended from that saved painting (the sequencer's seed), as `--resume` does for a whole clip.
 */
import { configureThread } from '../../engine';
import { NstError } from '../../errors';
import { loadImage, RgbImage } from '../../image';
import { decodeFrames } from '../ffmpeg';
import { FrameStore } from '../frame-store';
import type { ResolvedVideoOptions } from '../options';
import { createPainter } from '../run';
import { TemporalSequencer } from '../sequencer';
import type { VideoChunk } from './plan';

export interface ChunkPaintOptions {
  video: ResolvedVideoOptions;
  chunk: VideoChunk;
  /** Where finished frames are written. */
  framesDir: string;
  /** The last frame an earlier run of this chunk saved, and that painting: continue after it. */
  resume?: { frame: number; painted: string } | null;
  /** The clip's frames beyond this are not painted (the server's limit). */
  maxFrames?: number;
}

export type ChunkProgress =
  | { type: 'frame'; frame: number; file: string; kept: boolean; flowMs: number; paintMs: number }
  | { type: 'iteration'; frame: number; iteration: number; iterations: number };

export interface ChunkResult {
  /** Frames painted in this run. */
  painted: number;
  /** The last frame of the chunk's range the clip has (the chunk's end, or the clip's). */
  lastFrame: number;
  /** The clip ended before the chunk's range did. */
  clipEnded: boolean;
  cancelled: boolean;
  threads: number;
  precision: string;
  /** Mean per painted frame, ms. */
  flowMs: number;
  paintMs: number;
}

export interface ChunkHooks {
  onProgress?(p: ChunkProgress): void;
  isCancelled?(): boolean;
}

export async function runChunk(options: ChunkPaintOptions, hooks: ChunkHooks = {}): Promise<ChunkResult> {
  const o = options.video;
  const { chunk } = options;
  const resume = options.resume ?? null;
  const runtime = configureThread({ threads: o.threads, device: o.device, seed: o.gatys?.seed });
  const { painter, precision } = await createPainter(o, runtime);
  const last = Math.min(chunk.keepTo ?? Infinity, options.maxFrames ?? Infinity);
  let index = 0;
  let painted = 0;
  let cancelled = false;
  let flowMs = 0;
  let paintMs = 0;
  try {
    const sequencer = await TemporalSequencer.create(painter, o.consistency);
    let previous: RgbImage | null = null;
    for await (const frame of decodeFrames(o.input, { width: o.width, height: o.height, fps: o.fps, start: o.start, duration: o.duration })) {
      index++;
      if (index < chunk.paintFrom) continue;
      if (index > last) {
        index--;
        break;
      }
      if (resume && index <= resume.frame) {
        previous = frame;
        continue;
      }
      if (hooks.isCancelled?.()) {
        cancelled = true;
        break;
      }
      if (resume && previous) {
        sequencer.seed(previous, await loadImage(resume.painted));
        previous = null;
      }
      const at = index;
      const done = await sequencer.next(frame, {
        isCancelled: hooks.isCancelled,
        onIteration: (iteration, iterations) => hooks.onProgress?.({ type: 'iteration', frame: at, iteration, iterations }),
      });
      if (!done) {
        cancelled = true;
        break;
      }
      const file = FrameStore.framePath(options.framesDir, index);
      await FrameStore.existing(options.framesDir).save(index, done.image);
      painted++;
      flowMs += done.flowMs;
      paintMs += done.paintMs;
      hooks.onProgress?.({ type: 'frame', frame: index, file, kept: index >= chunk.keepFrom, flowMs: done.flowMs, paintMs: done.paintMs });
    }
  } finally {
    painter.dispose();
  }
  if (index === 0) throw new NstError(`'${o.input}' has no video frames`);
  return {
    painted,
    lastFrame: cancelled ? index - 1 : index,
    clipEnded: !cancelled && index < last && chunk.keepTo !== null,
    cancelled,
    threads: runtime.threads,
    precision,
    flowMs: painted ? flowMs / painted : 0,
    paintMs: painted ? paintMs / painted : 0,
  };
}
