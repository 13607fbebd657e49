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
