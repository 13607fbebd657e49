/** Style loss at one layer: weight · mean((G(F) − A)²) over C·C, A the target Gram matrix. */
import { mseLoss, Tensor } from '../engine';
import { gramMatrix } from './gram';

export function styleLoss(features: Tensor, targetGram: Tensor, weight: number): Tensor {
  return mseLoss(gramMatrix(features), targetGram).mul(weight);
}
