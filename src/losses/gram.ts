/** Gram matrix of a feature map: G = F Fᵀ / (C·H·W), F reshaped to C × (H·W). Batch size 1. */
import { Tensor } from '../engine';

export function gramMatrix(features: Tensor): Tensor {
  const [n, c, h, w] = features.shape;
  if (n !== 1) throw new Error(`gramMatrix expects a batch of one (got ${n})`);
  const f = features.reshape([c, h * w]);
  return f.matmul(f.transpose(0, 1)).div(c * h * w);
}
