/** Memory budgets that hold on any machine: costs measured on it (calibration) and the process's peak. */
export * from './types';
export { cachedCost, calibratedCost, calibrationCacheFile, fitCost, FAST_BLOCKS_PROBE_SIZES, FAST_PROBE_SIZES, GATYS_PROBE_SIZES, PLAN_MARGIN } from './calibration';
export { peakResidentBytes, residentBytes } from './peak';
