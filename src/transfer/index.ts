/** The transfer methods. */
export * from './gatys';
export * from './fast';
export * from './arbitrary';
export * from './explore';
export * from './image-tensor';
export { runInWorker } from './worker-host';
