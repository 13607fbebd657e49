/**
 * Conversions between images as tensors (RGB, [0,1], NCHW) and the conventions VGG19 weights expect:
 * Caffe (BGR, 0–255, minus the ImageNet mean, no scaling by a standard deviation; the default) and
 * torchvision (RGB, 0–1, minus the mean, divided by the standard deviation).
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

/**
 * The input convention a VGG19's weights expect: 'caffe' (the original weights and their Keras
 * port: BGR, 0–255, minus CAFFE_MEAN_BGR) or 'torchvision' (torchvision's own training: RGB, 0–1,
 * minus TORCHVISION_MEAN, divided by TORCHVISION_STD).
 */
export type Preprocessing = 'caffe' | 'torchvision';
export const PREPROCESSINGS: readonly Preprocessing[] = ['caffe', 'torchvision'];

/** ImageNet mean and standard deviation in R, G, B order on the 0–1 scale (torchvision). */
export const TORCHVISION_MEAN = [0.485, 0.456, 0.406] as const;
export const TORCHVISION_STD = [0.229, 0.224, 0.225] as const;

function channelTensor(values: readonly number[], device: string): Tensor {
  return tensor(Float32Array.from(values), [1, 3, 1, 1], device);
}

/** RGB [0,1] NCHW → (x − mean) / std. */
export function toTorchvision(rgb: Tensor): Tensor {
  return rgb.sub(channelTensor(TORCHVISION_MEAN, rgb.device)).div(channelTensor(TORCHVISION_STD, rgb.device));
}

/** (x − mean) / std → RGB [0,1] (not clamped). */
export function fromTorchvision(x: Tensor): Tensor {
  return x.mul(channelTensor(TORCHVISION_STD, x.device)).add(channelTensor(TORCHVISION_MEAN, x.device));
}

/** RGB [0,1] NCHW → the network input of `kind`. */
export function preprocessImage(rgb: Tensor, kind: Preprocessing): Tensor {
  return kind === 'torchvision' ? toTorchvision(rgb) : toCaffe(rgb);
}

/** The network input of `kind` → RGB [0,1] (not clamped). */
export function deprocessImage(x: Tensor, kind: Preprocessing): Tensor {
  return kind === 'torchvision' ? fromTorchvision(x) : fromCaffe(x);
}

/** One line describing `kind`, for messages and metadata. */
export function describePreprocessing(kind: Preprocessing): string {
  return kind === 'torchvision'
    ? 'RGB, 0–1, minus mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225)'
    : 'BGR, 0–255, minus mean (B, G, R) = (103.939, 116.779, 123.68)';
}
