/**
 * Public entry points of the feed-forward method: validate the options (one-line NstError before
 * anything starts), then run in a worker thread so the event loop stays free. Aborting
 * `callbacks.signal` stops at the next photo / training step / L-BFGS iteration; training then
 * writes a checkpoint.
 */
import { runInWorker, WorkerCallbacks } from '../worker-host';
import type { CompareProgress, CompareReport } from './compare';
import { CompareOptions, resolveCompareOptions } from './compare-options';
import { FastOptions, resolveFastOptions } from './fast-options';
import { resolveTrainOptions, TrainOptions } from './train-options';
import type { FastProgress, FastResult } from './run';
import type { TrainProgress, TrainResult } from './train';

/** Stylises a photo or a folder of photos with a trained network. */
export async function fastStylize(options: FastOptions, callbacks: WorkerCallbacks<FastProgress> = {}): Promise<FastResult> {
  return runInWorker<FastResult, FastProgress>('fast', resolveFastOptions(options), callbacks);
}

/** Trains a style network on a folder of photos and writes the model (and checkpoints). */
export async function trainFast(options: TrainOptions, callbacks: WorkerCallbacks<TrainProgress> = {}): Promise<TrainResult> {
  return runInWorker<TrainResult, TrainProgress>('train', resolveTrainOptions(options), callbacks);
}

/** Objective reached by the network vs by L-BFGS (Johnson et al. Fig. 5); writes JSON and SVG. */
export async function compareFast(options: CompareOptions, callbacks: WorkerCallbacks<CompareProgress> = {}): Promise<CompareReport> {
  return runInWorker<CompareReport, CompareProgress>('compare', resolveCompareOptions(options), callbacks);
}
