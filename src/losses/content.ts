/**
 * Content loss at one layer:
 * - 'mean' (the project's contract): weight · mean((F − P)²) over C·H·W
 * - 'sum' (the paper): weight · ½ Σ (F − P)²
 */
import { mseLoss, Tensor } from '../engine';
import type { LossNormalization } from './gram';

export function contentLoss(features: Tensor, target: Tensor, weight: number, normalization: LossNormalization = 'mean'): Tensor {
  if (features.dtype !== target.dtype) features = features.cast(target.dtype as 'float32');
  if (normalization === 'sum') return features.sub(target).square().sum().mul(0.5 * weight);
  return mseLoss(features, target).mul(weight);
}
