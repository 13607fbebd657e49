/**
 * Options of optimisation-based style transfer (Gatys et al.), their defaults (those of
 * jcjohnson/neural-style, with the project's loss contract), and validation into one-line errors.
 */
import { NstError } from '../../errors';
import { checkDeviceName, DeviceName } from '../../engine/device';
import type { PrecisionOption } from '../../engine/runtime';
import { checkLayerNames, PoolGradient, Pooling } from '../../models/vgg19';
import { DEFAULT_MAX_PIXELS } from '../../image';
import type { LossNormalization } from '../../losses';
import { PRESETS, PRESET_NAMES } from './presets';
import { planStages, Quality, QUALITY_NAMES } from './quality';
import { splitLastStage } from './rounds';
import { defaultMaxMemory, parseMemorySize } from '../tiling/memory-size';
import { MIN_TILE } from './tiling/memory-model';
import { CHECKPOINT_MODES, CheckpointMode, DEFAULT_PASSES } from './tiling/settings';
import { nonNegative, nonNegativeInt, oneOf, positiveInt, requireFile, stripUndefined } from '../validate';
import { CONTENT_LOSS_NAMES, ContentLossName, MethodName, METHOD_NAMES, METHODS, STYLE_LOSS_NAMES, StyleLossName } from '../method-names';

export type InitMode = 'content' | 'noise' | 'style';
export type OptimizerName = 'lbfgs' | 'adam';
export type LineSearch = 'strong-wolfe' | 'none';
export type { PrecisionOption };
export type ColourPreservation = 'none' | 'luminance' | 'histogram';
export type AnimationFormat = 'none' | 'gif' | 'webp';

export interface StylizeOptions {
  /** Content photo (path). */
  content: string;
  /** Style painting(s) (path, or several paths). */
  style: string | string[];
  /** Output image; its extension picks the format (.jpg, .png, .webp, .tif). */
  output: string;
  /**
   * The transfer method (see ../method-names.ts): 'gatys' (default), 'strotss', 'nnst' or 'ot'. Each
   * brings its own default weights and layers; the schedule, optimisers and reports are shared.
   */
  method?: MethodName;
  /** Gatys only: the style loss block, 'gram' (default), 'w2', 'swd' or 'remd'. */
  styleLoss?: StyleLossName;
  /** Gatys only: the content loss block, 'mse' (default) or 'self-similarity'. */
  contentLoss?: ContentLossName;
  /** NNST / STROTSS: content-vs-style trade-off in [0,1] (1 keeps the most of the photo). Default: the method's. */
  alpha?: number;
  /** NNST: also match against the paintings' 90°/180°/270° rotations (more candidates, 4× the search). */
  rotateStyle?: boolean;
  /** Longest side of the output, in pixels. Default 512. */
  size?: number;
  /**
   * Effort, in words: 'draft', 'standard' (the default) or 'high' pick a coarse-to-fine schedule
   * (stages √2 apart, each stopped when it has converged). Explicit `iterations` or `scales` replace it.
   */
  quality?: Quality;
  /**
   * Loss evaluations (per stage with `scales`). Given without `quality`, a single-scale run of exactly
   * this many (as neural-style); with `quality`, the cap of its full-size stage.
   */
  iterations?: number;
  contentWeight?: number;
  styleWeight?: number;
  tvWeight?: number;
  /** Layer preset (see presets.ts): supplies layers and layer weights. Default 'gatys'. */
  preset?: string;
  /** Default: the preset's (['relu4_2']). */
  contentLayers?: string[];
  /** Default: the preset's (['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1']). */
  styleLayers?: string[];
  /** Multipliers of the style weight, one per style layer. */
  styleLayerWeights?: number[];
  /** Layer i's style weight is multiplied by decay^i: < 1 favours fine texture, > 1 coarse forms. */
  styleLayerDecay?: number;
  /** One weight per style image, normalised to sum 1 (blending). Default: equal. */
  styleBlendWeights?: number[];
  /** One mask per style image (white = where that style paints); enables spatial control. */
  styleMasks?: string[];
  /** The style images are resized to styleScale × the output size. Default 1. */
  styleScale?: number;
  /** Keep the photo's colours: 'luminance' (transfer luminance only) or 'histogram' (recolour the style first). */
  preserveColors?: ColourPreservation;
  /** Multi-resolution: the output sizes of successive stages (increasing); overrides `size`. */
  scales?: number[];
  /** Iterations of each stage (default: `iterations` for each). */
  scaleIterations?: number[];
  /**
   * Split the last stage's evaluations into this many rounds, each drawing its random directions
   * and sampled positions anew (see rounds.ts). Default: the method's (ot: METHODS.ot, others 1).
   */
  rounds?: number;
  /** Start from the content, the style, noise, or an image file. Default 'content'. */
  init?: InitMode | string;
  /** Blend this much uniform noise into the starting image (0–1). Default 0. */
  noiseRatio?: number;
  optimizer?: OptimizerName;
  /** Default 1 for L-BFGS, 10 for Adam (as neural-style). */
  learningRate?: number;
  /**
   * L-BFGS step rule: 'strong-wolfe' (default: a line search, never a step that raises the loss) or
   * 'none' (torch's fixed step lr, the classic neural-style trajectory).
   */
  lineSearch?: LineSearch;
  /** Keep the pixels inside the displayable range while optimising (default true). */
  bounded?: boolean;
  /** L-BFGS memory: curvature pairs kept (neural-style's -lbfgs_num_correction). Default 100. */
  lbfgsHistory?: number;
  /** VGG19 pooling. Default 'max'. */
  pooling?: Pooling;
  /** Max pooling's gradient: 'spread' (default; no dotted lattice in flat regions) or 'argmax' (exact). */
  poolGradient?: PoolGradient;
  /** L1-normalise each loss term's gradient (neural-style's -normalize_gradients). */
  normalizeGradients?: boolean;
  /** 'mean' (default: the loss contract) or 'sum' (the paper's ½Σ and 1/(4N²M²); needs other weights). */
  lossNormalization?: LossNormalization;
  /** Seed of the random generator (noise init). Default: a random seed, recorded in the result. */
  seed?: number;
  /** Record losses (and print progress lines when there is no terminal) every N iterations. Default 50. */
  printEvery?: number;
  /** Save the current image every N iterations beside the output (0: never). */
  saveEvery?: number;
  /** Send a preview image to onPreview every N iterations (0: never). */
  previewEvery?: number;
  /** Write `<output>.report.json` and `<output>.losses.svg` beside the output. Default true. */
  report?: boolean;
  /** Also write an animation of the saved frames (`<output>.anim.gif|webp`). Default 'none'. */
  animation?: AnimationFormat;
  threads?: number;
  device?: DeviceName;
  /** Directory that holds vgg19/ (default: the model directory search order). */
  modelDir?: string;
  /** Refuse inputs with more decoded pixels than this. */
  maxPixels?: number;
  /** Keep a paper border around a style painting (by default it is cropped: src/image/painting-border.ts). */
  keepPaintingBorder?: boolean;
  /** VGG19 compute precision: 'auto' (default) picks bf16 on CPUs with bf16 instructions. */
  precision?: PrecisionOption;
  /**
   * Memory budget of the run (bytes, or a size such as '6GB'); a stage that would not fit is
   * optimised in overlapping tiles. Default: 75 % of the machine's memory.
   */
  maxMemory?: number | string;
  /** Tile every stage with tiles of this side (px), whatever the budget (experiments, tests). */
  tileSize?: number;
  /** Passes over the tiles of a tiled stage (the grid shifts between them). Default 2. */
  tilePasses?: number;
  /**
   * Recompute VGG19's activations in the backward pass (half the memory, ~1.5× the time):
   * 'auto' (default) only where it saves tiling a stage or is the only way a tile fits.
   */
  checkpoint?: CheckpointMode;
}

/** Options with every default filled in, presets applied and values checked. */
export interface ResolvedStylizeOptions {
  method: MethodName;
  styleLoss: StyleLossName;
  contentLoss: ContentLossName;
  /** The method's trade-off (methods without one: 0, unused). */
  alpha: number;
  rotateStyle: boolean;
  content: string;
  styles: string[];
  styleBlendWeights: number[];
  styleMasks: string[];
  output: string;
  /** Output sizes of the stages (one entry without multi-resolution). */
  scales: number[];
  /** Iterations per stage (the most, when the stage's tolerance stops it earlier). */
  scaleIterations: number[];
  /** Per stage: stop when the loss improved by less than this fraction over 10 evaluations (0: never). */
  scaleTolerances: number[];
  /** The quality whose schedule was chosen, or null when iterations/scales were given explicitly. */
  quality: Quality | null;
  contentWeight: number;
  styleWeight: number;
  tvWeight: number;
  preset: string;
  contentLayers: string[];
  styleLayers: string[];
  styleLayerWeights: number[];
  styleScale: number;
  preserveColors: ColourPreservation;
  init: string;
  noiseRatio: number;
  optimizer: OptimizerName;
  learningRate: number;
  lineSearch: LineSearch;
  bounded: boolean;
  lbfgsHistory: number;
  pooling: Pooling;
  poolGradient: PoolGradient;
  normalizeGradients: boolean;
  lossNormalization: LossNormalization;
  seed: number;
  printEvery: number;
  saveEvery: number;
  previewEvery: number;
  report: boolean;
  animation: AnimationFormat;
  threads?: number;
  device?: DeviceName;
  modelDir?: string;
  maxPixels: number;
  keepPaintingBorder: boolean;
  precision: PrecisionOption;
  /** Memory budget, bytes. */
  maxMemory: number;
  tileSize?: number;
  tilePasses: number;
  checkpoint: CheckpointMode;
}

export const STYLIZE_DEFAULTS = {
  size: 512,
  /** Of a single-scale run when `iterations` is given without a quality; the default run uses `quality`. */
  iterations: 500,
  quality: 'standard' as Quality,
  lineSearch: 'strong-wolfe' as LineSearch,
  contentWeight: 5,
  styleWeight: 100,
  tvWeight: 1e-3,
  preset: 'gatys',
  contentLayers: PRESETS.gatys.contentLayers,
  styleLayers: PRESETS.gatys.styleLayers,
  styleScale: 1,
  preserveColors: 'none' as ColourPreservation,
  init: 'content' as InitMode | string,
  noiseRatio: 0,
  optimizer: 'lbfgs' as OptimizerName,
  lbfgsHistory: 100,
  pooling: 'max' as Pooling,
  poolGradient: 'spread' as PoolGradient,
  lossNormalization: 'mean' as LossNormalization,
  printEvery: 50,
  saveEvery: 0,
  previewEvery: 0,
  animation: 'none' as AnimationFormat,
  maxPixels: DEFAULT_MAX_PIXELS,
  precision: 'auto' as PrecisionOption,
};

/** Fills defaults, applies the preset and checks every option; throws NstError (one line) on the first problem. */
export function resolveStylizeOptions(options: StylizeOptions): ResolvedStylizeOptions {
  const o = { ...STYLIZE_DEFAULTS, ...stripUndefined(options) } as typeof STYLIZE_DEFAULTS & StylizeOptions;
  requireFile(o.content, 'photo');
  const styles = (Array.isArray(o.style) ? o.style : [o.style]).filter((s) => s !== undefined && s !== '');
  if (styles.length === 0) throw new NstError('a style image is required');
  for (const s of styles) requireFile(s, 'style image');
  if (!o.output) throw new NstError('an output path is required');
  const methodName = o.method ?? 'gatys';
  oneOf(methodName, METHOD_NAMES, 'method');
  const method = METHODS[methodName];
  checkMethodOptions(options, methodName);

  const preset = PRESETS[o.preset];
  if (!preset) throw new NstError(`unknown preset '${o.preset}' (available: ${PRESET_NAMES.join(', ')})`);
  const contentLayers = options.contentLayers ?? method.defaults.contentLayers?.slice() ?? (method.defaults.styleLayers ? [] : preset.contentLayers);
  const styleLayers = options.styleLayers ?? method.defaults.styleLayers?.slice() ?? preset.styleLayers;
  if (styleLayers.length === 0 && (options.styleWeight ?? method.defaults.styleWeight) > 0) throw new NstError('--style-layers needs at least one layer (or --style-weight 0)');
  if (contentLayers.length === 0 && styleLayers.length === 0) throw new NstError('no loss layers: give --content-layers or --style-layers');
  checkLayerNames(contentLayers, 'content');
  checkLayerNames(styleLayers, 'style');

  let styleLayerWeights = options.styleLayerWeights ?? (options.styleLayers || method.defaults.styleLayers ? undefined : preset.styleLayerWeights) ?? styleLayers.map(() => 1);
  if (styleLayerWeights.length !== styleLayers.length) {
    throw new NstError(`--style-layer-weights has ${styleLayerWeights.length} values for ${styleLayers.length} style layers`);
  }
  styleLayerWeights.forEach((w) => nonNegative(w, 'style-layer-weights'));
  if (o.styleLayerDecay !== undefined) {
    if (!(o.styleLayerDecay > 0) || !Number.isFinite(o.styleLayerDecay)) throw new NstError(`--style-layer-decay must be a positive number (got ${o.styleLayerDecay})`);
    styleLayerWeights = styleLayerWeights.map((w, i) => w * o.styleLayerDecay! ** i);
  }

  const styleMasks = o.styleMasks ?? [];
  if (styleMasks.length > 0 && styleMasks.length !== styles.length) {
    throw new NstError(`got ${styleMasks.length} style mask(s) for ${styles.length} style image(s); give one --style-mask per --style`);
  }
  for (const m of styleMasks) requireFile(m, 'style mask');
  let blend = o.styleBlendWeights ?? styles.map(() => 1);
  if (o.styleBlendWeights && styleMasks.length > 0) throw new NstError('--style-blend-weights cannot be combined with --style-mask (each mask already says where its style goes)');
  if (blend.length !== styles.length) throw new NstError(`got ${blend.length} blend weight(s) for ${styles.length} style image(s)`);
  blend.forEach((w) => nonNegative(w, 'style-blend-weights'));
  const blendSum = blend.reduce((a, b) => a + b, 0);
  if (!(blendSum > 0)) throw new NstError('--style-blend-weights must not all be zero');
  blend = styleMasks.length > 0 ? blend.map(() => 1) : blend.map((w) => w / blendSum);

  positiveInt(o.iterations, 'iterations');
  positiveInt(o.size, 'size');
  if (options.quality !== undefined) oneOf(options.quality, QUALITY_NAMES, 'quality');
  // The schedule: explicit scales, else an explicit single-scale iteration count, else a quality's plan.
  const quality = options.scales || (options.iterations !== undefined && options.quality === undefined) ? null : o.quality;
  let scales: number[];
  let scaleIterations: number[];
  let scaleTolerances: number[];
  if (quality) {
    const plan = planStages(o.size, quality);
    scales = plan.map((s) => s.size);
    scaleIterations = plan.map((s, i) => (i === plan.length - 1 && options.iterations !== undefined ? options.iterations : s.iterations));
    scaleTolerances = plan.map((s, i) => (i === plan.length - 1 && options.iterations !== undefined ? 0 : s.tolerance));
  } else {
    scales = o.scales ?? [o.size];
    scales.forEach((s) => positiveInt(s, o.scales ? 'scales' : 'size'));
    for (let i = 1; i < scales.length; i++) {
      if (scales[i] <= scales[i - 1]) throw new NstError(`--scales must be increasing (got ${scales.join(',')})`);
    }
    scaleIterations = o.scaleIterations ?? scales.map(() => o.iterations);
    if (scaleIterations.length !== scales.length) throw new NstError(`--scale-iterations has ${scaleIterations.length} values for ${scales.length} scales`);
    scaleTolerances = scales.map(() => 0);
  }
  scaleIterations.forEach((n) => positiveInt(n, 'scale-iterations'));
  if (options.rounds !== undefined) positiveInt(options.rounds, 'rounds');
  ({ scales, scaleIterations, scaleTolerances } = splitLastStage({ scales, scaleIterations, scaleTolerances }, options.rounds ?? method.defaults.rounds, options.rounds !== undefined));

  const contentWeight = options.contentWeight ?? method.defaults.contentWeight;
  const styleWeight = options.styleWeight ?? method.defaults.styleWeight;
  const tvWeight = options.tvWeight ?? method.defaults.tvWeight;
  nonNegative(contentWeight, 'content-weight');
  nonNegative(styleWeight, 'style-weight');
  nonNegative(tvWeight, 'tv-weight');
  if (!(o.styleScale > 0) || !Number.isFinite(o.styleScale)) throw new NstError(`--style-scale must be a positive number (got ${o.styleScale})`);
  if (!(o.noiseRatio >= 0 && o.noiseRatio <= 1)) throw new NstError(`--noise-ratio must be between 0 and 1 (got ${o.noiseRatio})`);
  nonNegativeInt(o.printEvery, 'print-every');
  nonNegativeInt(o.saveEvery, 'save-every');
  nonNegativeInt(o.previewEvery, 'preview-every');
  positiveInt(o.maxPixels, 'max-pixels');
  oneOf(o.optimizer, ['lbfgs', 'adam'], 'optimizer');
  oneOf(o.lineSearch, ['strong-wolfe', 'none'], 'line-search');
  oneOf(o.pooling, ['max', 'avg'], 'pooling');
  oneOf(o.poolGradient, ['spread', 'argmax'], 'pool-gradient');
  oneOf(o.precision, ['fp32', 'bf16', 'auto'], 'precision');
  oneOf(o.preserveColors, ['none', 'luminance', 'histogram'], 'preserve-colors');
  oneOf(o.lossNormalization, ['mean', 'sum'], 'loss-normalization');
  oneOf(o.animation, ['none', 'gif', 'webp'], 'animation');
  if (o.animation !== 'none' && o.saveEvery === 0) throw new NstError('--animation needs --save-every N (the frames of the animation)');
  if (!['content', 'noise', 'style'].includes(o.init)) requireFile(o.init, 'init image');
  const learningRate = options.learningRate ?? (o.optimizer === 'adam' ? 10 : 1);
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new NstError(`--learning-rate must be a positive number (got ${learningRate})`);
  const lbfgsHistory = options.lbfgsHistory ?? method.defaults.lbfgsHistory;
  positiveInt(lbfgsHistory, 'lbfgs-history');
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  nonNegativeInt(seed, 'seed');
  if (o.threads !== undefined) positiveInt(o.threads, 'threads');
  if (o.device !== undefined) checkDeviceName(o.device);
  const maxMemory = o.maxMemory === undefined ? defaultMaxMemory() : parseMemorySize(o.maxMemory);
  if (o.tileSize !== undefined) {
    positiveInt(o.tileSize, 'tile-size');
    if (o.tileSize < MIN_TILE) throw new NstError(`--tile-size must be at least ${MIN_TILE} px (got ${o.tileSize})`);
  }
  const checkpoint = o.checkpoint ?? 'auto';
  oneOf(checkpoint, CHECKPOINT_MODES, 'checkpoint mode');
  const tilePasses = o.tilePasses ?? DEFAULT_PASSES;
  positiveInt(tilePasses, 'tile-passes');

  return {
    method: methodName,
    styleLoss: o.styleLoss ?? 'gram',
    contentLoss: o.contentLoss ?? 'mse',
    alpha: o.alpha ?? method.defaults.alpha,
    rotateStyle: o.rotateStyle ?? false,
    content: o.content,
    styles,
    styleBlendWeights: blend,
    styleMasks,
    output: o.output,
    scales,
    scaleIterations,
    scaleTolerances,
    quality,
    contentWeight,
    styleWeight,
    tvWeight,
    preset: o.preset,
    contentLayers,
    styleLayers,
    styleLayerWeights,
    styleScale: o.styleScale,
    preserveColors: o.preserveColors,
    init: o.init,
    noiseRatio: o.noiseRatio,
    optimizer: o.optimizer,
    learningRate,
    lineSearch: o.lineSearch,
    bounded: o.bounded ?? true,
    lbfgsHistory,
    pooling: o.pooling,
    poolGradient: o.poolGradient,
    normalizeGradients: o.normalizeGradients ?? false,
    lossNormalization: o.lossNormalization,
    seed,
    printEvery: o.printEvery,
    saveEvery: o.saveEvery,
    previewEvery: o.previewEvery,
    report: o.report ?? true,
    animation: o.animation,
    threads: o.threads,
    device: o.device,
    modelDir: o.modelDir,
    maxPixels: o.maxPixels,
    keepPaintingBorder: o.keepPaintingBorder ?? false,
    precision: o.precision,
    maxMemory,
    tileSize: o.tileSize,
    tilePasses,
    checkpoint,
  };
}

/**
 * The options a method does not take, refused in one line rather than silently ignored: loss
 * blocks (Gatys only), α (NNST, STROTSS), masks and tiles where the method cannot use them.
 */
function checkMethodOptions(options: StylizeOptions, name: MethodName): void {
  const can = METHODS[name].capabilities;
  if (options.styleLoss !== undefined) oneOf(options.styleLoss, STYLE_LOSS_NAMES, 'style loss');
  if (options.contentLoss !== undefined) oneOf(options.contentLoss, CONTENT_LOSS_NAMES, 'content loss');
  const others = (what: (c: typeof can) => boolean) => METHOD_NAMES.filter((m) => what(METHODS[m].capabilities)).join(' or ');
  if (!can.lossBlocks && (options.styleLoss !== undefined || options.contentLoss !== undefined)) {
    throw new NstError(`--style-loss and --content-loss pick the loss blocks of --method ${others((c) => c.lossBlocks)}, not ${name}`);
  }
  if (options.alpha !== undefined) {
    if (!can.alpha) throw new NstError(`--alpha is the content-vs-style trade-off of --method ${others((c) => c.alpha)}; ${name} uses --content-weight and --style-weight`);
    if (!(options.alpha >= 0 && options.alpha <= 1)) throw new NstError(`--alpha must be between 0 and 1 (got ${options.alpha})`);
  }
  if (options.rotateStyle && name !== 'nnst') throw new NstError(`--rotate-style applies to --method nnst only, not ${name}`);
  // NNST pools several paintings' hypercolumns as candidates: there is no blend to weight.
  if (name === 'nnst' && options.styleBlendWeights) throw new NstError('--method nnst takes no --style-blend-weights: several paintings are pooled as neighbour candidates');
  if (!can.masks && (options.styleMasks?.length ?? 0) > 0) throw new NstError(`--method ${name} does not support --style-mask (use --method ${others((c) => c.masks)})`);
  if (!can.tiling && options.tileSize !== undefined) throw new NstError(`--method ${name} cannot optimise in tiles (--tile-size): it matches features across the whole image`);
  if (!can.weights && (options.contentWeight !== undefined || options.styleWeight !== undefined)) {
    throw new NstError(`--method ${name} balances content and style with --alpha, not --content-weight / --style-weight`);
  }
  if (options.styleLoss !== undefined && options.styleLoss !== 'gram' && (options.styleMasks?.length ?? 0) > 0) {
    throw new NstError(`--style-mask works with --style-loss gram only (not ${options.styleLoss})`);
  }
  if ((options.styleLoss ?? 'gram') !== 'gram' || (options.contentLoss ?? 'mse') !== 'mse') {
    if (options.tileSize !== undefined) throw new NstError('--tile-size works with --style-loss gram and --content-loss mse only (tiles share the painting\'s Gram targets)');
  }
  if (!can.gatysKnobs) {
    if (options.normalizeGradients) throw new NstError(`--normalize-gradients applies to --method gatys only, not ${name}`);
    if (options.lossNormalization === 'sum') throw new NstError(`--loss-normalization sum applies to --method gatys only, not ${name}`);
    if (options.checkpoint === 'on') throw new NstError(`--checkpoint on applies to --method gatys only, not ${name}`);
  }
}
