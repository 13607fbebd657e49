/** Any painting in one pass: the arbitrary-style transformer steered by fitted style vectors. */
export * from './api';
export { checkStyleNameFree, fitNamedStyle } from './fit-named';
export type { FitNamedOptions, FitNamedResult } from './fit-named';
export * from './options';
export * from './style-file';
export { defaultFinishOf, FITTED_STYLISE_DEFAULTS, finishOfSelection, resolveArbitrarySelection, styleCacheDir } from './selection';
export { CLOSE_UP_FINISH, FINISH_CLOSE_UP_RATIO, PLAIN_FINISH } from './finish-choice';
export type { FinishChoice, StyleFinish } from './finish-choice';
export type { ArbitrarySelection, ArbitraryStyleOptions } from './selection';
export { blendVectors, interpolateVectors, stylizeWithVector } from './stylize';
export { PAINT_SCALE_MAX, PAINT_SCALE_MAX_SIDE, paintedSize } from './paint-scale';
export { stylePalette } from './palette-match';
export { contractLosses, fitStage, defaultVectorOptimizer } from './fit';
export type { FitLossSettings, FitStep, VectorOptimizerFactory } from './fit';
export type { FitProgress, FitResult } from './run-fit';
