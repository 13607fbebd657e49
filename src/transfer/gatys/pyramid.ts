/**
 * Moving a result between the stages of a multi-resolution run (an image pyramid). Upsampling the
 * previous stage's result alone gives a blurred start whose fine texture statistics are far from
 * the full-size style (the objective jumps back up at each stage). With a content start, the
 * band of detail the coarser stage could not represent is taken from the content image itself,
 * as the single-scale run starts from it: a Laplacian-pyramid step.
 */
import { resize, Tensor } from '../../engine';

/**
 * `previous` (NCHW) upsampled to `reference`'s size; with `reference`, plus the reference's detail
 * band: reference − upsample(downsample(reference to previous's size)).
 */
export function upscaleStage(previous: Tensor, height: number, width: number, reference?: Tensor): Tensor {
  const up = resize(previous, height, width, 'bilinear');
  if (!reference) return up;
  const [, , h, w] = previous.shape;
  const coarse = resize(resize(reference, h, w, 'area'), height, width, 'bilinear');
  return up.add(reference.sub(coarse));
}
