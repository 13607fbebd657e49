/**
 * Relaxed earth mover's distance (STROTSS, Kolkin et al. 2019) between two sets of feature
 * vectors, one per row ([N, D] and [M, D]). The exact EMD needs an optimal transport plan; the
 * relaxation drops one marginal constraint at a time (every x moves to its nearest y, or every y
 * to its nearest x) and keeps the larger of the two lower bounds, so neither set can collapse
 * onto a few of the other's vectors. The cost is the cosine distance, which compares the
 * direction of a hypercolumn (what it shows) and not its magnitude (left to the moment term).
 */
import { Tensor } from '../engine';

/**
 * Added to the squared norms: an all-zero vector (a dead relu position, a black pixel) then has
 * distance 1 to everything and a finite gradient (√ of exactly 0 has an infinite derivative,
 * which turned into NaN gradients).
 */
export const NORM_EPS = 1e-8;

/** Rows scaled to (about) unit length: x / √(|x|² + eps). */
export function unitRows(x: Tensor, eps = NORM_EPS): Tensor {
  return x.div(x.square().sum([1], true).add(eps).sqrt());
}

/** 1 − cos(xᵢ, yⱼ) for every pair of rows: [N, D] × [M, D] → [N, M] (eps: see unitRows). */
export function cosineDistances(x: Tensor, y: Tensor, eps = NORM_EPS): Tensor {
  return unitRows(x, eps).matmul(unitRows(y, eps).transpose(0, 1)).neg().add(1);
}

/** max(mean over rows of the row minimum, mean over columns of the column minimum) of a cost matrix. */
export function relaxedEmd(cost: Tensor): Tensor {
  return cost.minAlong(1).mean().maximum(cost.minAlong(0).mean());
}

/** REMD with cosine cost between the rows of x ([N, D]) and of y ([M, D]). */
export function remdLoss(x: Tensor, y: Tensor): Tensor {
  if (x.shape[1] !== y.shape[1]) throw new Error(`remdLoss: ${x.shape[1]} vs ${y.shape[1]} columns`);
  return relaxedEmd(cosineDistances(x, y));
}

/** 1 × C × H × W features as H·W rows of C values (float32). */
export function featureRows(features: Tensor): Tensor {
  const [n, c, h, w] = features.shape;
  if (n !== 1) throw new Error(`featureRows expects a batch of one (got ${n})`);
  const f = features.dtype === 'float32' ? features : features.cast('float32');
  return f.reshape([c, h * w]).transpose(0, 1);
}
