/**
 * STROTSS (Kolkin et al., CVPR 2019): style by optimal transport of sampled VGG19 hypercolumns
 * (relaxed EMD + moments + a colour REMD), content by self-similarity. The run loop constructs one
 * StrotssObjective per coarse-to-fine stage:
 *
 *   new StrotssObjective(net, content, styles, { contentWeight: strotssContentWeight(side, α) })
 *
 * net: the loaded VGG19; content: the preprocessed photo at the stage's size (NCHW, the network's
 * convention, as GatysObjective takes it); styles: one preprocessed painting or StyleSources
 * (several without masks are pooled by their weights; with masks, each paints its region).
 */
export { StrotssObjective } from './objective';
export type { StrotssOptions } from './objective';
export { strotssDefaults, strotssContentWeight, strotssStageSides } from './defaults';
export type { StrotssSchedule } from './defaults';
export { hypercolumns, samplePositions, bilinearRows } from './hypercolumns';
export type { Positions } from './hypercolumns';
export { strotssStart } from './start';
