/**
 * Sliced-Wasserstein style loss (Heitz et al., CVPR 2021): the output's and the style's feature
 * vectors are projected on K unit directions, each projection is sorted, and the loss is the mean
 * squared difference of the sorted values (the 1-D optimal transport cost along every direction).
 * The style's sorted projections are resampled (quantile by quantile) to the output's position
 * count when they differ.
 *
 * Directions: the paper draws new ones at every step (its optimiser is stochastic anyway). Ours
 * are drawn once per objective from libtorch's seeded generator and kept, so the loss is a fixed
 * function of the image: L-BFGS's line search and curvature pairs need that (a new set per
 * evaluation makes every line search compare two different functions). A coarse-to-fine run makes
 * a new objective, so a new set, per stage, and per round of a last stage split into rounds
 * (src/transfer/gatys/rounds.ts: ot's default, since one set run to convergence is overfitted). They are not src/quality's fixed directions (those come
 * from a TypeScript generator), so the run cannot overfit the measure's own projections.
 */
import { randn, resize, Tensor } from '../engine';
import { featureRows, unitRows } from './remd';

/** K random unit directions in C dimensions ([K, C]), from libtorch's generator (see manualSeed). */
export function randomDirections(channels: number, count: number, device = 'cpu'): Tensor {
  return unitRows(randn([count, channels], device));
}

/** [K, N]: the 1 × C × H × W features projected on each direction, sorted along the positions. */
export function sortedProjections(features: Tensor, directions: Tensor): Tensor {
  return directions.matmul(featureRows(features).transpose(0, 1)).sortAlong(1);
}

/** Sorted projections [K, M] resampled to [K, n] (linear interpolation between quantiles). */
export function resampleQuantiles(sorted: Tensor, n: number): Tensor {
  const [k, m] = sorted.shape;
  if (m === n) return sorted;
  return resize(sorted.reshape([1, 1, k, m]), k, n, 'bilinear', true).reshape([k, n]);
}

/**
 * weight · mean((sort(D·F) − T)²) with D the directions ([K, C]) and T the target's sorted
 * projections on the same directions ([K, M], resampled here when M differs from H·W).
 */
export function swdLoss(features: Tensor, directions: Tensor, targetSorted: Tensor, weight = 1): Tensor {
  return swdColumnsLoss(featureRows(features).transpose(0, 1), directions, targetSorted, weight);
}

/** swdLoss of feature vectors given as columns ([C, N]): e.g. a subset of an output's positions. */
export function swdColumnsLoss(columns: Tensor, directions: Tensor, targetSorted: Tensor, weight = 1): Tensor {
  const projected = directions.matmul(columns).sortAlong(1);
  const target = resampleQuantiles(targetSorted, projected.shape[1]);
  return projected.sub(target).square().mean().mul(weight);
}
