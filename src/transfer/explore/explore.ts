/** The public entry point of `nst explore`: validate, then run every cell off the event loop. */
import { runInWorker, WorkerCallbacks } from '../worker-host';
import { ExploreOptions, resolveExploreOptions } from './options';
import type { ExploreProgress, ExploreResult } from './run';

/**
 * Runs one experiment (see EXPERIMENTS) and writes its contact sheet `<output>.png` and
 * `<output>.json`. Invalid options throw an NstError before anything starts; the cells run one
 * after the other in one worker thread. Aborting `callbacks.signal` stops the current cell after
 * its current iteration and still writes the sheet of the cells done so far.
 */
export async function explore(options: ExploreOptions, callbacks: WorkerCallbacks<ExploreProgress> = {}): Promise<ExploreResult> {
  const resolved = resolveExploreOptions(options);
  return runInWorker<ExploreResult, ExploreProgress>('explore', resolved, callbacks);
}
