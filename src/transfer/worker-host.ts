/**
 * Runs a transfer in a worker thread so the Node event loop (progress bar, signals, HTTP server)
 * stays responsive while libtorch computes. Cancellation is a flag in shared memory that the
 * worker polls once per iteration; the worker then saves what it has and returns normally.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { NstError } from '../errors';
import { applyThreadPoolDefaults } from '../engine/thread-pools';
import type { RgbImage } from '../image';

export type TaskKind = 'gatys' | 'fast' | 'train' | 'compare' | 'explore' | 'fit-style';

/**
 * A task of a layer above transfer/ (e.g. video/): the worker thread loads `module` (an absolute
 * path) and calls its export `run(options, hooks)`, so this layer never imports the ones above it.
 */
export interface TaskModule {
  module: string;
  run: string;
}

/** Messages a worker posts to its host. */
export type WorkerMessage =
  | { type: 'progress'; progress: unknown }
  | { type: 'preview'; image: RgbImage; iteration: number }
  | { type: 'done'; result: unknown }
  | { type: 'error'; message: string; userError: boolean };

export interface WorkerCallbacks<P> {
  onProgress?(progress: P): void;
  onPreview?(image: RgbImage, iteration: number): void;
  /** Aborting asks the worker to stop after the current iteration (it still saves its image). */
  signal?: AbortSignal;
}

/** Workers running now, and those being stopped by terminateWorkers (whose runs never settle). */
const running = new Set<Worker>();
const stopping = new WeakSet<Worker>();

/**
 * Stops every compute thread now, without waiting for its iteration to end (the quick way out
 * of a second Ctrl-C). Resolves once they are gone: a thread inside a native call (e.g. loading
 * libtorch) goes when the call returns.
 */
export async function terminateWorkers(): Promise<void> {
  const all = [...running];
  for (const w of all) stopping.add(w);
  await Promise.all(all.map((w) => w.terminate()));
}

export function runInWorker<R, P>(kind: TaskKind | TaskModule, options: unknown, callbacks: WorkerCallbacks<P> = {}): Promise<R> {
  const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
  applyThreadPoolDefaults();
  const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: { kind, options, cancelFlag } });
  running.add(worker);
  worker.once('exit', () => running.delete(worker));
  const cancel = () => Atomics.store(cancelFlag, 0, 1);
  if (callbacks.signal?.aborted) cancel();
  callbacks.signal?.addEventListener('abort', cancel, { once: true });
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      callbacks.signal?.removeEventListener('abort', cancel);
      fn();
    };
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'progress') callbacks.onProgress?.(msg.progress as P);
      else if (msg.type === 'preview') callbacks.onPreview?.(msg.image, msg.iteration);
      else if (msg.type === 'done') finish(() => resolve(msg.result as R));
      else if (msg.type === 'error') finish(() => reject(msg.userError ? new NstError(msg.message) : new Error(msg.message)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => {
      if (!stopping.has(worker)) finish(() => reject(new Error(`the compute thread exited with code ${code}`)));
    });
  });
}
