/**
 * Wasserstein-2 style loss (as crowsonkb/style-transfer-pytorch): each layer's features are fitted
 * by a Gaussian (mean μ, covariance Σ over the positions) and the loss is the squared 2-Wasserstein
 * distance between the output's and the style's Gaussians, per channel:
 *   mean((μ − μₜ)²) + mean(diag(Σ + Σₜ − 2·(√Σₜ Σ √Σₜ)^½)).
 * Unlike the Gram matrix it separates the mean from the spread, so a style's bright-and-flat and
 * dark-and-busy regions are not confused. Matrix square roots come from Newton–Schulz iterations
 * (matrix products only, differentiable by autograd); the style's √Σₜ is computed once.
 */
import { tensor, Tensor } from '../engine';
import { featureRows } from './remd';

/** Newton–Schulz iterations of the square roots (crowsonkb uses 12). */
export const W2_SQRT_ITERATIONS = 12;
/** Added to the covariances' diagonal: keeps them positive definite (as crowsonkb). */
export const W2_EPS = 1e-4;

export function identityMatrix(n: number, device = 'cpu'): Tensor {
  const values = new Float32Array(n * n);
  for (let i = 0; i < n; i++) values[i * n + i] = 1;
  return tensor(values, [n, n], device);
}

/**
 * √A of a symmetric positive semi-definite matrix by the coupled Newton–Schulz iteration:
 * Y₀ = A/‖A‖_F, Z₀ = I; T = (3I − ZY)/2, Y ← YT, Z ← TZ; √A ≈ Y·√‖A‖_F.
 */
export function sqrtmNewtonSchulz(a: Tensor, iterations = W2_SQRT_ITERATIONS): Tensor {
  const n = a.shape[0];
  const norm = a.square().sum().sqrt();
  const eye = identityMatrix(n, a.device);
  let y = a.div(norm);
  let z = eye;
  for (let i = 0; i < iterations; i++) {
    const t = eye.mul(3).sub(z.matmul(y)).mul(0.5);
    y = y.matmul(t);
    z = t.matmul(z);
  }
  return y.mul(norm.sqrt());
}

export interface GaussianFit {
  /** C values */
  mean: Tensor;
  /** C × C, plus W2_EPS on the diagonal */
  cov: Tensor;
}

/** Mean and (biased) covariance of 1 × C × H × W features over the positions. */
export function gaussianFit(features: Tensor): GaussianFit {
  return gaussianFitRows(featureRows(features));
}

/** The same for feature vectors given as rows ([N, C]). */
export function gaussianFitRows(rows: Tensor): GaussianFit {
  const [m, c] = rows.shape;
  const mean = rows.mean([0]);
  const centred = rows.sub(mean);
  const cov = centred.transpose(0, 1).matmul(centred).div(m).add(identityMatrix(c, rows.device).mul(W2_EPS));
  return { mean, cov };
}

/** The style side of the loss: its Gaussian and √Σₜ, computed once. */
export interface W2Target extends GaussianFit {
  covSqrt: Tensor;
}

export function w2Target(features: Tensor): W2Target {
  return w2TargetFromRows(featureRows(features));
}

export function w2TargetFromRows(rows: Tensor): W2Target {
  const fit = gaussianFitRows(rows);
  return { ...fit, covSqrt: sqrtmNewtonSchulz(fit.cov) };
}

/** weight · the squared W2 distance per channel between the features' Gaussian and the target's. */
export function w2Loss(features: Tensor, target: W2Target, weight = 1): Tensor {
  const { mean, cov } = gaussianFit(features);
  const c = mean.shape[0];
  const meanTerm = mean.sub(target.mean).square().mean();
  const cross = sqrtmNewtonSchulz(target.covSqrt.matmul(cov).matmul(target.covSqrt));
  const eye = identityMatrix(c, mean.device);
  const covTerm = target.cov.add(cov).sub(cross.mul(2)).mul(eye).sum().div(c);
  return meanTerm.add(covTerm).mul(weight);
}
