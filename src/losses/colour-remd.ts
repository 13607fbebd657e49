/**
 * STROTSS's palette term: REMD between sampled pixel colours of the output and of the painting,
 * in STROTSS's orthonormal luma/chroma basis (a YUV-like rotation of RGB), with the cost of a pair
 * the cosine distance (hue and saturation) plus the Euclidean distance (which also sees
 * brightness), so the output takes the painting's colours, not only its hues.
 */
import { tensor, Tensor } from '../engine';
import { cosineDistances, relaxedEmd } from './remd';

/** Rows of the basis: luma (1,1,1)/√3 and two chroma axes, as in STROTSS. */
const YUV_BASIS = [
  [0.57735, 0.57735, 0.57735],
  [-0.57735, 0.788675, -0.211325],
  [-0.57735, -0.211325, 0.788675],
];

/** [N, 3] RGB rows → [N, 3] rows in the luma/chroma basis. */
export function strotssColourSpace(rgb: Tensor): Tensor {
  return rgb.matmul(tensor(YUV_BASIS.flat(), [3, 3], rgb.device).transpose(0, 1));
}

/** √(|xᵢ − yⱼ|² / D), the squared distance clamped to [1e-5, 1e5] as STROTSS does (a finite gradient at 0). */
export function euclideanDistances(x: Tensor, y: Tensor): Tensor {
  const xx = x.square().sum([1], true);
  const yy = y.square().sum([1], true).transpose(0, 1);
  const sq = xx.add(yy).sub(x.matmul(y.transpose(0, 1)).mul(2));
  return sq.clamp(1e-5, 1e5).div(x.shape[1]).sqrt();
}

/**
 * Colours within about 0.03 of black have no hue: their cosine term fades out there instead of
 * pulling with a gradient of 1/|colour| (a black pixel of the output would dominate the image's).
 */
export const COLOUR_NORM_EPS = 1e-3;

/** REMD between RGB rows x ([N, 3]) and y ([M, 3]), cost cosine + Euclidean in the YUV-like basis. */
export function colourRemdLoss(x: Tensor, y: Tensor): Tensor {
  const a = strotssColourSpace(x);
  const b = strotssColourSpace(y);
  return relaxedEmd(cosineDistances(a, b, COLOUR_NORM_EPS).add(euclideanDistances(a, b)));
}
