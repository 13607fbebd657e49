/**
 * How a clip is split into chunks that different machines paint at once. A chunk keeps a range of
 * frames; every chunk but the first also paints `overlap` frames before its range and throws them
 * away (all but the last `crossfade`, which the join blends with the previous chunk's), so the
 * temporal blending, which carries the look from frame to frame, has settled by the first frame
 * it keeps. Chunks are sized so each paints about the same number of frames (the first has no
 * overlap, so it keeps more): equal work, equal finishing times on equal machines.
 */

export interface VideoChunk {
  /** 0-based position in the plan. */
  index: number;
  /** First frame painted (1-based clip frame). */
  paintFrom: number;
  /** First frame kept in the output. */
  keepFrom: number;
  /** Last frame kept (inclusive); null: to the end of the clip (the last chunk). */
  keepTo: number | null;
}

/**
 * Per method (measured with bench/queue-video.ts, docs/scale-out.md). The fast method's blending
 * settles within a dozen frames and a short cross-fade makes its joins as steady as the rest. An
 * optimised frame holds on to the painting it was warm-started from, so two chunks' paintings of
 * the same frame stay apart: a longer overlap, cross-faded over its whole length, spreads that
 * difference thin.
 */
export const CHUNK_DEFAULTS = {
  fast: { overlap: 12, crossfade: 6 },
  optimisation: { overlap: 24, crossfade: 24 },
  /** Frames a chunk keeps, aimed at; the plan rounds to a whole number of equal chunks. */
  frames: 120,
};

export type ChunkMethod = 'fast' | 'optimisation';

export interface ChunkPlanOptions {
  chunkFrames?: number;
  /** Default: the method's (fast without one). */
  overlap?: number;
  method?: ChunkMethod;
}

/** Splits `frames` frames (an estimate: the last chunk runs to the clip's real end) into chunks. */
export function planChunks(frames: number, options: ChunkPlanOptions = {}): VideoChunk[] {
  const chunkFrames = Math.max(1, Math.round(options.chunkFrames ?? CHUNK_DEFAULTS.frames));
  const overlap = Math.max(0, Math.round(options.overlap ?? CHUNK_DEFAULTS[options.method ?? 'fast'].overlap));
  // Each chunk after the first must keep at least as many frames as it discards.
  const most = Math.max(1, Math.floor((frames + overlap) / (2 * overlap || 1)));
  const count = Math.max(1, Math.min(Math.round(frames / chunkFrames), most, frames));
  // `count` chunks painting `share` frames each cover the clip plus the overlaps.
  const share = (frames + (count - 1) * overlap) / count;
  const chunks: VideoChunk[] = [];
  for (let i = 0; i < count; i++) {
    const keepFrom = i === 0 ? 1 : Math.round(1 + share + (i - 1) * (share - overlap));
    const next = i + 1 < count ? Math.round(1 + share + i * (share - overlap)) : null;
    chunks.push({ index: i, paintFrom: Math.max(1, keepFrom - (i === 0 ? 0 : overlap)), keepFrom, keepTo: next === null ? null : next - 1 });
  }
  return chunks;
}

/** Frames a chunk paints when the clip has `frames` frames. */
export function paintedFrames(chunk: VideoChunk, frames: number): number {
  return Math.max(0, Math.min(chunk.keepTo ?? frames, frames) - chunk.paintFrom + 1);
}

/** Frames a chunk keeps when the clip has `frames` frames. */
export function keptFrames(chunk: VideoChunk, frames: number): number {
  return Math.max(0, Math.min(chunk.keepTo ?? frames, frames) - chunk.keepFrom + 1);
}
