/**
 * STROTSS's moment term: the mean absolute difference of the feature means plus that of the
 * feature covariances, between sampled output rows and the style's rows ([N, D], [M, D]). REMD's
 * cosine cost ignores magnitudes; this term keeps them (and the correlations) in place. The
 * style's moments are computed once (featureMoments) and reused at every evaluation.
 */
import { Tensor } from '../engine';

export interface FeatureMoments {
  /** 1 × D */
  mean: Tensor;
  /** D × D, divided by the row count (biased) */
  cov: Tensor;
}

export function featureMoments(rows: Tensor): FeatureMoments {
  const mean = rows.mean([0], true);
  const centred = rows.sub(mean);
  return { mean, cov: centred.transpose(0, 1).matmul(centred).div(rows.shape[0]) };
}

/** mean|μx − μt| + mean|Σx − Σt|. */
export function momentLoss(rows: Tensor, target: FeatureMoments): Tensor {
  const m = featureMoments(rows);
  return m.mean.sub(target.mean).abs().mean().add(m.cov.sub(target.cov).abs().mean());
}

/** Moments of rows weighted per row (weights [N, 1], ≥ 0, not all 0): a masked region's statistics. */
export function weightedMoments(rows: Tensor, weights: Tensor): FeatureMoments {
  const total = weights.sum().add(1e-8);
  const mean = rows.mul(weights).sum([0], true).div(total);
  const centred = rows.sub(mean);
  return { mean, cov: centred.mul(weights).transpose(0, 1).matmul(centred).div(total) };
}

/** The moments of a mixture of distributions (weights summing to 1): E[x] and E[xxᵀ] − E[x]E[x]ᵀ. */
export function mixtureMoments(parts: { moments: FeatureMoments; weight: number }[]): FeatureMoments {
  let mean: Tensor | null = null;
  let second: Tensor | null = null;
  for (const { moments: m, weight } of parts) {
    const mu = m.mean.mul(weight);
    const s = m.cov.add(m.mean.transpose(0, 1).matmul(m.mean)).mul(weight);
    mean = mean ? mean.add(mu) : mu;
    second = second ? second.add(s) : s;
  }
  return { mean: mean!, cov: second!.sub(mean!.transpose(0, 1).matmul(mean!)) };
}
