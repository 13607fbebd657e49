/** The transfer methods. */
export * from './gatys';
export * from './image-tensor';
export { runInWorker } from './worker-host';
