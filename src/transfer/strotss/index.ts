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
 *
 * For the run loop:
 * - stage sides: strotssStageSides(size) (64, 128, …, size); α per stage: strotssContentWeight;
 * - the first stage starts from strotssStart(net, content, style), not from the photo: at the
 *   photo the self-similarity loss sits on its kink and L-BFGS's first line search fails; later
 *   stages start from the upscaled previous result (upscaleStage, with the photo's detail band);
 * - the objective samples positions from libtorch's generator: seed it (manualSeed) for
 *   repeatable runs; its loss varies a little from one evaluation to the next by design;
 * - it needs the whole image at once (sampling and self-similarity are global): no tiling, no
 *   gradient checkpointing or per-layer gradient normalisation.
 */
export { StrotssObjective } from './objective';
export type { StrotssOptions } from './objective';
export { strotssDefaults, strotssContentWeight, strotssStageSides } from './defaults';
export type { StrotssSchedule } from './defaults';
export { hypercolumns, samplePositions, bilinearRows } from './hypercolumns';
export type { Positions } from './hypercolumns';
export { strotssStart } from './start';
