/**
 * Style loss at one layer, A the target Gram matrix (computed with the same normalisation):
 * - 'mean' (the project's contract): weight · mean((G(F) − A)²) over C·C
 * - 'sum' (the paper): weight · Σ (G(F) − A)² / (4 N² M²), N = C, M = H·W (or Σmask)
 */
import { mseLoss, Tensor } from '../engine';
import { gramMatrix, LossNormalization } from './gram';

export function styleLoss(features: Tensor, targetGram: Tensor, weight: number, normalization: LossNormalization = 'mean', mask?: Tensor): Tensor {
  const g = gramMatrix(features, normalization, mask);
  if (normalization === 'mean') return mseLoss(g, targetGram).mul(weight);
  const [, c, h, w] = features.shape;
  const m = mask ? Math.max(mask.sum().item(), 1e-8) : h * w;
  return g.sub(targetGram).square().sum().mul(weight / (4 * c * c * m * m));
}
