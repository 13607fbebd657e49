/** Tiled optimisation of stages too large for the memory budget (print sizes). */
export * from './block-targets';
export * from './memory-model';
export * from './settings';
export * from './style-targets';
export * from './tiled-stage';
export * from './measured-plan';
