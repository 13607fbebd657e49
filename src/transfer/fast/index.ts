/** Feed-forward style transfer (Johnson et al. 2016, instance norm): stylise, train, compare. */
export * from './fast-options';
export * from './train-options';
export * from './compare-options';
export * from './model-path';
export * from './image-files';
export * from './styles';
export * from './api';
export { stylizeImage } from './run';
export type { FastProgress, FastResult } from './run';
export type { TrainProgress, TrainResult } from './train';
export type { CompareProgress, CompareReport } from './compare';
export { benchFast } from './bench';
export type { FastBenchResult } from './bench';
