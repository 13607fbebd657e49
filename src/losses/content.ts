/** Content loss: weight · mean((F − P)²) over C·H·W at one layer. */
import { mseLoss, Tensor } from '../engine';

export function contentLoss(features: Tensor, target: Tensor, weight: number): Tensor {
  return mseLoss(features, target).mul(weight);
}
