/**
 * The fast method's temporal blend, in two bands. A plain blend out = (1 − b)·net + b·W(prev)
 * averages two different drawings of the same strokes: it steadies the picture but washes out
 * the texture that makes the style (wave at 256×144, b = 0.5: −56 % flicker, +31 % style loss).
 * Here the frame is split at a Gaussian of σ = 1 px:
 * - the coarse band (colour, shapes) takes the warped previous frame with weight `coarse`;
 * - the fine detail takes it with the smaller weight `detail`, and its local contrast is raised
 *   back to the network's own (the average of two uncorrelated textures has less of it), so the
 *   strokes stay as crisp as in a single frame.
 * Both weights are multiplied by the per-pixel certainty of the warp (0 where it is unreliable).
 */
import { conv2d, pad, tensor, Tensor, tidy } from '../engine';
import type { RgbImage } from '../image';
import type { TemporalGuide } from './painter';

export interface BlendWeights {
  /** Weight of the warped previous frame in the coarse band. */
  coarse: number;
  /** Weight of the warped previous frame in the fine detail. */
  detail: number;
}

/** σ of the band split, and of the window over which the detail's contrast is matched (px). */
const SPLIT_SIGMA = 1;
const CONTRAST_SIGMA = 4;
/** The detail's contrast is raised at most this much (never lowered). */
const MAX_GAIN = 1.6;

/** Separable Gaussian blur of each channel, the border repeated. */
function gaussianBlur(x: Tensor, sigma: number): Tensor {
  const radius = Math.ceil(3 * sigma);
  const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = taps.reduce((a, b) => a + b, 0);
  const channels = x.shape[1];
  const kernel = new Float32Array(channels * taps.length);
  for (let c = 0; c < channels; c++) taps.forEach((t, i) => (kernel[c * taps.length + i] = t / total));
  const vertical = tensor(kernel, [channels, 1, taps.length, 1], x.device);
  const horizontal = tensor(kernel, [channels, 1, 1, taps.length], x.device);
  const padded = pad(x, [radius, radius, radius, radius], 'replicate');
  return conv2d(conv2d(padded, vertical, null, 1, 0, channels), horizontal, null, 1, 0, channels);
}

/**
 * Rows a band reaches beyond itself: the band split's blur (3σ = 3 px) feeds the contrast
 * window's (3σ = 12 px), so rows this far inside a band are exactly what the whole frame gives.
 */
const HALO = Math.ceil(3 * SPLIT_SIGMA) + Math.ceil(3 * CONTRAST_SIGMA);
/** Pixels blended at once (plus the halo), and what the blend holds per pixel: ~35 tensors of the band. */
export const BLEND_BAND_PIXELS = 1 << 17;
const BLEND_BYTES_PER_PIXEL = 440;

/** Rows of each band of a frame `width` wide. */
function bandRows(width: number, bandPixels: number): number {
  return Math.max(2 * HALO, Math.floor(bandPixels / width));
}

/**
 * Peak bytes of one blend of a width × height frame: the band with its halo (a 4,000-px frame in
 * one piece would hold 3.8 GB; in bands, ~110 MB).
 */
export function blendBytes(width: number, height: number): number {
  return Math.min(height, bandRows(width, BLEND_BAND_PIXELS) + 2 * HALO) * width * BLEND_BYTES_PER_PIXEL;
}

/**
 * The network's frame blended with the warped previous result, band by band (rows of at most
 * `bandPixels`, each computed with a HALO of rows around it: the same result as in one piece).
 */
export function blendWarped(current: RgbImage, guide: TemporalGuide, weights: BlendWeights, bandPixels = BLEND_BAND_PIXELS): RgbImage {
  const { width, height } = current;
  const n = width * height;
  const rows = bandRows(width, bandPixels);
  if (rows >= height) return blendBand(current.data, guide.warped.data, guide.certainty, width, height, weights);
  const out = new Float32Array(3 * n);
  for (let y0 = 0; y0 < height; y0 += rows) {
    const y1 = Math.min(height, y0 + rows);
    const top = Math.max(0, y0 - HALO);
    const bottom = Math.min(height, y1 + HALO);
    const rowsOf = (planes: Float32Array, count: number) => {
      const band = new Float32Array(count * (bottom - top) * width);
      for (let k = 0; k < count; k++) band.set(planes.subarray(k * n + top * width, k * n + bottom * width), k * (bottom - top) * width);
      return band;
    };
    const blended = blendBand(rowsOf(current.data, 3), rowsOf(guide.warped.data, 3), rowsOf(guide.certainty, 1), width, bottom - top, weights).data;
    const bandPlane = (bottom - top) * width;
    for (let k = 0; k < 3; k++) out.set(blended.subarray(k * bandPlane + (y0 - top) * width, k * bandPlane + (y1 - top) * width), k * n + y0 * width);
  }
  return { width, height, data: out };
}

function blendBand(current: Float32Array, warpedData: Float32Array, certaintyData: Float32Array, width: number, height: number, weights: BlendWeights): RgbImage {
  return tidy(() => {
    const net = tensor(current, [1, 3, height, width]);
    const warped = tensor(warpedData, [1, 3, height, width]);
    const certainty = tensor(certaintyData, [1, 1, height, width]);
    const netCoarse = gaussianBlur(net, SPLIT_SIGMA);
    const warpedCoarse = gaussianBlur(warped, SPLIT_SIGMA);
    const netDetail = net.sub(netCoarse);
    const warpedDetail = warped.sub(warpedCoarse);
    const coarse = netCoarse.add(warpedCoarse.sub(netCoarse).mul(certainty.mul(weights.coarse)));
    const detail = netDetail.add(warpedDetail.sub(netDetail).mul(certainty.mul(weights.detail)));
    const energy = (t: Tensor) => gaussianBlur(t.square(), CONTRAST_SIGMA).add(1e-8);
    const gain = energy(netDetail).div(energy(detail)).sqrt().clamp(1, MAX_GAIN);
    const out = coarse.add(detail.mul(gain)).clamp(0, 1);
    return { width, height, data: out.data() };
  });
}
