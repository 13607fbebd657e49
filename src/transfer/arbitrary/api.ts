/**
 * Public entry points of the arbitrary-style transformer (Ghiasi et al. 2017): fit a painting's
 * style vector off the event loop. Stylising with fitted vectors goes through `fastStylize`
 * (`style: 'name'`, `styleImage`, `styleBlendWeights`, `styleStrength`).
 */
import { runInWorker, WorkerCallbacks } from '../worker-host';
import { FitStyleOptions, resolveFitOptions } from './options';
import type { FitProgress, FitResult } from './run-fit';

/** Fits the style vector of a painting and writes its style file (see `nst styles fit`). */
export async function fitStyle(options: FitStyleOptions, callbacks: WorkerCallbacks<FitProgress> = {}): Promise<FitResult> {
  return runInWorker<FitResult, FitProgress>('fit-style', resolveFitOptions(options), callbacks);
}
