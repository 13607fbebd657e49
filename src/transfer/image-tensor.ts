/** Conversions between decoded images (planar RGB in [0,1]) and NCHW tensors. */
import { Tensor, tensor, tidy } from '../engine';
import type { RgbImage } from '../image';

export function imageToTensor(image: RgbImage, device = 'cpu'): Tensor {
  return tensor(image.data, [1, 3, image.height, image.width], device);
}

/** An NCHW RGB tensor (batch 1) as an image, clamped to [0,1]. */
export function tensorToImage(t: Tensor): RgbImage {
  const [, , height, width] = t.shape;
  const data = tidy(() => t.detach().clamp(0, 1).data());
  return { width, height, data };
}
