/**
 * Conversions between images as tensors (RGB, [0,1], NCHW) and the Caffe convention the VGG19
 * weights expect (BGR, 0–255, minus the ImageNet mean, no scaling by a standard deviation).
 */
import { Tensor, tensor } from '../engine';

/** ImageNet mean in B, G, R order, on the 0–255 scale. */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;

function meanTensor(device: string): Tensor {
  return tensor(Float32Array.from(CAFFE_MEAN_BGR), [1, 3, 1, 1], device);
}

/** RGB [0,1] NCHW → BGR ×255 − mean. */
export function toCaffe(rgb: Tensor): Tensor {
  return rgb.indexSelect(1, [2, 1, 0]).mul(255).sub(meanTensor(rgb.device));
}

/** BGR ×255 − mean → RGB [0,1] (not clamped). */
export function fromCaffe(bgr: Tensor): Tensor {
  return bgr.add(meanTensor(bgr.device)).div(255).indexSelect(1, [2, 1, 0]);
}
