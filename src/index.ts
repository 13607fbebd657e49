/**
 * neural-style-ts: the library API. The CLI (src/cli) and the server are thin layers over it.
 *
 * - `stylize(options, callbacks)`: optimisation-based transfer, off the event loop: `method` 'gatys'
 *   (Gatys et al.), 'strotss' or 'nnst' (neural neighbours; METHODS lists each one's capabilities).
 * - `stylizeVideo(options, callbacks)`: a clip painted without flicker, with either method.
 * - building blocks: the tensor engine, VGG19, the losses, the optimisers and image I/O.
 */
export * from './errors';
export * from './transfer';
export * from './video';
export * as engine from './engine';
export { Vgg19, VGG19_LAYER_NAMES, toCaffe, fromCaffe, CAFFE_MEAN_BGR, modelDirCandidates } from './models';
export * from './losses';
export * from './optim';
export * from './image';
export { startServer, resolveServeOptions, SERVE_DEFAULTS } from './server';
export type { ServeOptions, RunningServer } from './server';
export { BullJobQueue, startQueueWorker, PAYLOAD_VERSION } from './queue';
export type { BullQueueOptions, QueueWorkerOptions, RunningQueueWorker, DistributedQueue } from './queue';
export { openStorage, DirectoryStorage, S3Storage } from './storage';
export type { Storage } from './storage';
export { matchColoursInOklab, rgbToOklab, oklabToRgb } from './image/oklab-colour-match';
export type { OklabMatchOptions } from './image/oklab-colour-match';
