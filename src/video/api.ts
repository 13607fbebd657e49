/** The public entry point of video stylisation: validate (one-line NstError), then run off the event loop. */
import * as path from 'node:path';
import { runInWorker, WorkerCallbacks } from '../transfer/worker-host';
import { resolveVideoOptions, ResolvedVideoOptions, VideoOptions } from './options';
import type { VideoProgress, VideoResult } from './run';

/**
 * Paints `options.input` frame by frame, temporally consistent, and writes `options.output`
 * (audio, frame rate and aspect kept). Finished frames are kept in `<output>.frames/` while it
 * runs; aborting `callbacks.signal` stops after the current frame and assembles a partial video
 * from the frames done (`resume: true` continues later).
 */
export async function stylizeVideo(options: VideoOptions, callbacks: WorkerCallbacks<VideoProgress> = {}): Promise<VideoResult> {
  return paintVideo(resolveVideoOptions(options), callbacks);
}

/** stylizeVideo() with the options already resolved (a caller that needs them too, e.g. to finish a stopped run). */
export function paintVideo(options: ResolvedVideoOptions, callbacks: WorkerCallbacks<VideoProgress> = {}): Promise<VideoResult> {
  // run.ts's runVideo, loaded by the worker thread (transfer/ does not import video/).
  return runInWorker<VideoResult, VideoProgress>({ module: path.join(__dirname, 'run.js'), run: 'runVideo' }, options, callbacks);
}
