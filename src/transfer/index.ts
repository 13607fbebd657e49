/** The transfer methods. */
export * from './gatys';
export * from './fast';
export * from './arbitrary';
export * from './explore';
export * from './image-tensor';
export { runInWorker } from './worker-host';
export * from './method';
export * from './method-memory';
export { NnstObjective, NNST_CONTENT_TERM, NNST_STYLE_TERM, nearestNeighbourIndices, neuralNeighbours } from './nnst';
export type { NnstSettings } from './nnst';
