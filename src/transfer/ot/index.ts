/**
 * The optimal-transport method (issue 23): Gatys's optimisation with distribution-matching loss
 * blocks in place of the Gram matrix and the feature MSE. Style: the sliced-Wasserstein loss
 * (Heitz et al., CVPR 2021) at relu1_1…relu5_1 — every feature's distribution along as many
 * random directions as channels, matched quantile by quantile, not just its second moments.
 * Content: STROTSS's self-similarity (cosine structure of the photo's features), which keeps the
 * photo's layout without holding the features' magnitudes where the style wants them.
 *
 * The blocks are the tested ones in src/losses; this module is only the recipe (which blocks,
 * which layers) and its objective for one stage of the run loop.
 */
import type { Tensor } from '../../engine';
import type { Vgg19 } from '../../models';
import { GatysObjective, StyleSource } from '../../losses';
import type { ContentLossName, StyleLossName } from '../../losses/layer-losses';

export const otRecipe: { styleLoss: StyleLossName; contentLoss: ContentLossName; contentLayers: readonly string[] } = {
  styleLoss: 'swd',
  contentLoss: 'self-similarity',
  contentLayers: ['relu4_2'],
};

export interface OtWeights {
  content: number;
  style: number;
  tv: number;
}

/** One stage's objective: the recipe's blocks at the given style layers, with these weights. */
export function otObjective(net: Vgg19, content: Tensor, styles: StyleSource[], styleLayers: string[], weights: OtWeights, styleLayerWeights?: number[]): GatysObjective {
  return new GatysObjective(net, content, styles, { content: [...otRecipe.contentLayers], style: styleLayers }, weights, {
    styleLayerWeights,
    styleLoss: otRecipe.styleLoss,
    contentLoss: otRecipe.contentLoss,
  });
}
