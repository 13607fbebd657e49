/**
 * A clip in chunks that different machines paint at once (the distributed queue's video jobs):
 * plan the chunks, paint one (in a compute thread), join them into one file.
 */
import * as path from 'node:path';
import { runInWorker, WorkerCallbacks } from '../../transfer/worker-host';
import type { ChunkPaintOptions, ChunkProgress, ChunkResult } from './paint-chunk';

export { CHUNK_DEFAULTS, keptFrames, paintedFrames, planChunks } from './plan';
export type { ChunkMethod, ChunkPlanOptions, VideoChunk } from './plan';
export { chunkFramesDir, joinChunks, joinSequence, lastContiguousFrame } from './join';
export type { JoinOptions, JoinResult } from './join';
export type { ChunkPaintOptions, ChunkProgress, ChunkResult } from './paint-chunk';

/** Paints one chunk off the event loop; aborting the signal stops after the current frame. */
export function paintChunk(options: ChunkPaintOptions, callbacks: WorkerCallbacks<ChunkProgress> = {}): Promise<ChunkResult> {
  return runInWorker<ChunkResult, ChunkProgress>({ module: path.join(__dirname, 'paint-chunk.js'), run: 'runChunk' }, options, callbacks);
}
