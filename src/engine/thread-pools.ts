/**
 * How the engine's thread pools wait for work. libtorch's OpenMP (GNU libgomp) threads spin for
 * ~300,000 iterations before sleeping; alone on a machine that saves microseconds per parallel
 * region, but two jobs sharing the cores spin against each other: measured on 2 cores, two
 * 2-thread 256-px stylize runs at once took 3–9× their time alone. A spin of 1,000 iterations
 * kept the time alone within ~3 % and brought the pair to ~1.8× (passive waiting: 1.8×, but
 * +7 % alone). libgomp reads its settings once, when libtorch is loaded, from the process's
 * environment, so they are set here before that; a user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
 */
import { isMainThread } from 'node:worker_threads';

export const DEFAULT_GOMP_SPINCOUNT = '1000';

/** Sets the engine's thread-pool defaults in the process environment (main thread only: a worker's env is its own copy). */
export function applyThreadPoolDefaults(): void {
  if (!isMainThread) return;
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
    process.env.GOMP_SPINCOUNT = DEFAULT_GOMP_SPINCOUNT;
  }
}
