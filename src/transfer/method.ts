/**
 * Each method's objective for one stage of the run loop (gatys/run.ts), and the last touch it
 * gives the finished image. The loop itself (schedule, optimisers, progress, reports, saving) is
 * shared; only what is optimised differs.
 */
import type { Tensor } from '../engine';
import type { RgbImage } from '../image';
import { matchColoursInOklab } from '../image/oklab-colour-match';
import type { Vgg19 } from '../models';
import { GatysObjective, Objective, StyleSource } from '../losses';
import type { ResolvedStylizeOptions } from './gatys/options';
import { NnstObjective } from './nnst/objective';
import { otObjective } from './ot';
import { StrotssObjective, strotssContentWeight, strotssStart } from './strotss';
import { METHODS, MethodName } from './method-names';

export * from './method-names';

/** What a stage hands the method to build its objective. */
export interface StageObjectiveInput {
  net: Vgg19;
  options: ResolvedStylizeOptions;
  /** The preprocessed photo at the stage's size. */
  content: Tensor;
  styles: StyleSource[];
  /** The stage's starting image (preprocessed, the photo's size). */
  start: Tensor;
  /** Recompute activations in the backward pass (the memory plan's choice; Gatys only). */
  checkpoint: boolean;
  /** The stage's index (0: the coarsest). */
  stage: number;
}

/** The objective of one stage of `options.method`. */
export function stageObjective(input: StageObjectiveInput): Objective {
  const { net, options, content, styles, start, checkpoint, stage } = input;
  switch (options.method) {
    case 'gatys':
      return new GatysObjective(
        net,
        content,
        styles,
        { content: options.contentLayers, style: options.styleLayers },
        { content: options.contentWeight, style: options.styleWeight, tv: options.tvWeight },
        {
          styleLayerWeights: options.styleLayerWeights, normalization: options.lossNormalization, normalizeGradients: options.normalizeGradients, checkpoint,
          styleLoss: options.styleLoss, contentLoss: options.contentLoss,
        },
      );
    case 'nnst':
      return new NnstObjective(net, content, styles.map((s) => s.image), start, {
        layers: options.styleLayers,
        // As NNST: the first stage searches with the photo alone (its start may be noise or the painting).
        alpha: stage === 0 ? 1 : options.alpha,
        styleWeight: options.styleWeight,
        contentWeight: options.contentWeight,
        tvWeight: options.tvWeight,
        rotations: options.rotateStyle,
      });
    case 'ot':
      return otObjective(net, content, styles, { content: options.contentLayers, style: options.styleLayers, styleLayerWeights: options.styleLayerWeights }, {
        content: options.contentWeight, style: options.styleWeight, tv: options.tvWeight,
      });
    case 'strotss': {
      // STROTSS's content weight halves at every doubling of the stage's side (α at 64 px × 16).
      const [, , height, width] = content.shape;
      return new StrotssObjective(net, content, styles, {
        contentWeight: strotssContentWeight(Math.max(height, width), options.alpha),
        layers: options.styleLayers,
        tvWeight: options.tvWeight,
      });
    }
  }
}

/**
 * The method's last touch on the finished image (RGB), before --preserve-colors: NNST gives it
 * the paintings' OkLAB colour mean and covariance (unless the photo's colours are to be kept).
 */
export function finishImage(method: MethodName, image: RgbImage, styles: RgbImage[], options: Pick<ResolvedStylizeOptions, 'preserveColors'>): RgbImage {
  if (method !== 'nnst' || options.preserveColors === 'luminance') return image;
  return matchColoursInOklab(image, styles.length === 1 ? styles[0] : concatenated(styles));
}

/** Several images' pixels as one (for colour statistics: only the pixel set matters). */
function concatenated(images: RgbImage[]): RgbImage {
  const n = images.reduce((a, i) => a + i.width * i.height, 0);
  const data = new Float32Array(3 * n);
  let offset = 0;
  for (const image of images) {
    const m = image.width * image.height;
    for (let c = 0; c < 3; c++) data.set(image.data.subarray(c * m, (c + 1) * m), c * n + offset);
    offset += m;
  }
  return { width: n, height: 1, data };
}

/**
 * Whether a run's stages can be optimised in tiles: the method's capability, and for Gatys only
 * with the Gram and MSE blocks (tiles share the whole painting's Gram targets; the sampled losses
 * have no such shared target yet).
 */
export function runTiles(options: Pick<ResolvedStylizeOptions, 'method' | 'styleLoss' | 'contentLoss'>): boolean {
  return METHODS[options.method].capabilities.tiling && options.styleLoss === 'gram' && options.contentLoss === 'mse';
}

/**
 * The method's own start for the first stage when --init is 'content' (null: the photo itself).
 * STROTSS starts from the painting's mean colour plus the photo's finest detail: at the photo its
 * self-similarity loss sits on a kink where L-BFGS finds no descent direction.
 */
export function methodStart(method: MethodName, net: Vgg19, content: Tensor, style: Tensor): Tensor | null {
  return method === 'strotss' ? strotssStart(net, content, style) : null;
}
