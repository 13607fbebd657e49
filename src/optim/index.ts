/** Optimisers over a single tensor variable, counted in loss evaluations. */
export * from './optimizer';
export * from './box';
export * from './lbfgs-history';
export * from './line-search';
export * from './lbfgs';
export * from './lbfgs-wolfe';
export * from './adam';
