/** Optimisers over a single tensor variable, counted in loss evaluations. */
export * from './optimizer';
export * from './lbfgs';
export * from './adam';
