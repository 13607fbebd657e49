/** The engine: tensors, ops, autograd and runtime settings over the native libtorch addon. */
export * from './tensor';
export { tidy, keep, dispose } from './scope';
export * from './runtime';
