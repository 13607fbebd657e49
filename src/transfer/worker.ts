/** Worker-thread entry point of runInWorker: runs one task and posts progress and the result. */
import { parentPort, workerData } from 'node:worker_threads';
import { NstError } from '../errors';
import type { RgbImage } from '../image';
import { runStylize } from './gatys/run';
import { runExplore } from './explore/run';
import { runCompare } from './fast/compare';
import { runFast } from './fast/run';
import { runTrain } from './fast/train';
import { runFitStyle } from './arbitrary/run-fit';
import type { TaskKind, TaskModule, WorkerMessage } from './worker-host';

const { kind, options, cancelFlag } = workerData as { kind: TaskKind | TaskModule; options: any; cancelFlag: Int32Array };
const post = (msg: WorkerMessage) => parentPort!.postMessage(msg);
const isCancelled = () => Atomics.load(cancelFlag, 0) === 1;

async function main(): Promise<unknown> {
  if (typeof kind === 'object') {
    // A task of a layer above (video/): it brings its own module.
    const run = require(kind.module)[kind.run] as (options: unknown, hooks: object) => Promise<unknown>;
    return run(options, {
      isCancelled,
      onProgress: (progress: unknown) => post({ type: 'progress', progress }),
      onPreview: (image: RgbImage, iteration: number) => post({ type: 'preview', image, iteration }),
    });
  }
  switch (kind) {
    case 'gatys':
      return runStylize(options, {
        isCancelled,
        onProgress: (progress) => post({ type: 'progress', progress }),
        onPreview: (image, iteration) => post({ type: 'preview', image, iteration }),
      });
    case 'fast':
      return runFast(options, { isCancelled, onProgress: (progress) => post({ type: 'progress', progress }) });
    case 'train':
      return runTrain(options, { isCancelled, onProgress: (progress) => post({ type: 'progress', progress }) });
    case 'compare':
      return runCompare(options, { isCancelled, onProgress: (progress) => post({ type: 'progress', progress }) });
    case 'fit-style':
      return runFitStyle(options, { isCancelled, onProgress: (progress) => post({ type: 'progress', progress }) });
    case 'explore':
      return runExplore(options, { isCancelled, onProgress: (progress) => post({ type: 'progress', progress }) });
    default:
      throw new Error(`unknown task kind '${kind}'`);
  }
}

main().then(
  (result) => post({ type: 'done', result }),
  (err: Error) => post({ type: 'error', message: err?.message ?? String(err), userError: err instanceof NstError }),
);
