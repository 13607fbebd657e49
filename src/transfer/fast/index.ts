/** Feed-forward style transfer (Johnson et al. 2016, instance norm): stylise, train, compare. */
export * from './options';
export * from './styles';
export * from './api';
export { stylizeImage } from './run';
export type { FastProgress, FastResult } from './run';
export type { TrainProgress, TrainResult } from './train';
export type { CompareProgress, CompareReport } from './compare';
export { benchFast } from './bench';
export type { FastBenchResult } from './bench';
