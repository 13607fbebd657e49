/**
 * Gram matrix of a feature map, F reshaped to C × (H·W), batch size 1:
 * - 'mean' (the project's contract): G = F Fᵀ / (C·H·W)
 * - 'sum' (the paper): G = F Fᵀ, unnormalised
 * With a spatial mask (1 × 1 × H × W, values in [0,1], at the feature map's size), the features
 * are weighted by the mask first and 'mean' divides by C·Σmask instead, so the statistics
 * describe the masked region only, whatever its size (Gatys et al. 2017, spatial control).
 * bfloat16 features (VGG19 run in bf16, channels-last) are multiplied in bf16, read as the H·W × C
 * matrix their memory already is (no copy): oneDNN accumulates in float32 and rounds each entry to
 * bf16 once (0.4 % at most, well below the bf16 convolutions' own error); the result is returned
 * as float32 either way. That is 5x faster than casting the features to float32.
 */
import { Tensor } from '../engine';

export type LossNormalization = 'mean' | 'sum';

export function gramMatrix(features: Tensor, normalization: LossNormalization = 'mean', mask?: Tensor): Tensor {
  const [n, c, h, w] = features.shape;
  if (n !== 1) throw new Error(`gramMatrix expects a batch of one (got ${n})`);
  let g: Tensor;
  if (features.dtype === 'bfloat16' && !mask) {
    g = bf16GramProducts(features).reshape([c, c]);
  } else {
    const f32 = features.dtype === 'float32' ? features : features.cast('float32');
    const f = (mask ? f32.mul(mask) : f32).reshape([c, h * w]);
    g = f.matmul(f.transpose(0, 1));
  }
  if (normalization === 'sum') return g;
  const area = mask ? Math.max(mask.sum().item(), 1e-8) : h * w;
  return g.div(c * area);
}

/**
 * Gram matrices of a batch of feature maps: [N, C, H, W] → [N, C, C] (float32), each normalised by
 * C·H·W; bfloat16 features are multiplied in bf16 as in gramMatrix.
 */
export function gramMatrixBatch(features: Tensor): Tensor {
  const [n, c, h, w] = features.shape;
  if (features.dtype === 'bfloat16') return bf16GramProducts(features).div(c * h * w);
  const f = features.reshape([n, c, h * w]);
  return f.matmul(f.transpose(1, 2)).div(c * h * w);
}

/**
 * Fᵀ F per image of bf16 channels-last features, [N, C, C] in float32, not normalised. One image
 * goes through a plain matrix product: with it, libtorch's batched product and its backward take
 * 1.4–3.7× as long (a batch of 4 is faster batched than image by image).
 */
function bf16GramProducts(features: Tensor): Tensor {
  const [n, c, h, w] = features.shape;
  if (n === 1) {
    const f = features.permute([0, 2, 3, 1]).reshape([h * w, c]);
    return f.transpose(0, 1).matmul(f).cast('float32').reshape([1, c, c]);
  }
  const f = features.permute([0, 2, 3, 1]).reshape([n, h * w, c]);
  return f.transpose(1, 2).matmul(f).cast('float32');
}
