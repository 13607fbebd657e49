/** The public entry point of optimisation-based transfer: validate, then run off the event loop. */
import { runInWorker, WorkerCallbacks } from '../worker-host';
import { resolveStylizeOptions, StylizeOptions } from './options';
import type { StylizeProgress, StylizeResult } from './run';

/**
 * Paints `options.content` in the style of `options.style` and writes `options.output`.
 * Invalid options throw an NstError before anything starts; compute runs in a worker thread.
 * Aborting `callbacks.signal` stops after the current iteration and keeps the current image.
 */
export async function stylize(options: StylizeOptions, callbacks: WorkerCallbacks<StylizeProgress> = {}): Promise<StylizeResult> {
  const resolved = resolveStylizeOptions(options);
  return runInWorker<StylizeResult, StylizeProgress>('gatys', resolved, callbacks);
}
