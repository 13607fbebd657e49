/**
 * Colour matching in OkLAB (Ottosson 2020), as Neural Neighbor Style Transfer ends (Kolkin et al.
 * 2022): the output's OkLAB colours get the painting's mean and 3×3 covariance through the ZCA map
 * x' = Σ_t^½ Σ_s^−½ (x − μ_s) + μ_t (colour-transfer.ts). OkLAB is perceptually uniform, so matching
 * its moments moves lightness and the two chroma axes apart instead of mixing them as RGB does.
 */
import { ColourMoments, colourMoments, matchColourMoments } from './colour-transfer';
import type { RgbImage } from './load';

/** sRGB transfer function → linear light (odd-symmetric below 0, so out-of-gamut values round-trip). */
function srgbToLinear(v: number): number {
  if (v < 0) return -srgbToLinear(-v);
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

/** Linear light → sRGB (values outside [0,1] keep their sign: the inverse of srgbToLinear everywhere). */
function linearToSrgb(v: number): number {
  if (v < 0) return -linearToSrgb(-v);
  return v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
}

/** Ottosson's matrices (linear sRGB → LMS, cube-rooted LMS → Lab) and their inverses. */
const RGB_TO_LMS = [
  [0.4122214708, 0.5363325363, 0.0514459929],
  [0.2119034982, 0.6806995451, 0.1073969566],
  [0.0883024619, 0.2817188376, 0.6299787005],
];
const LMS_TO_LAB = [
  [0.2104542553, 0.793617785, -0.0040720468],
  [1.9779984951, -2.428592205, 0.4505937099],
  [0.0259040371, 0.7827717662, -0.808675766],
];
const LAB_TO_LMS = [
  [1, 0.3963377774, 0.2158037573],
  [1, -0.1055613458, -0.0638541728],
  [1, -0.0894841775, -1.291485548],
];
const LMS_TO_RGB = [
  [4.0767416621, -3.3077115913, 0.2309699292],
  [-1.2684380046, 2.6097574011, -0.3413193965],
  [-0.0041960863, -0.7034186147, 1.707614701],
];

function apply(m: number[][], a: number, b: number, c: number, out: number[]): void {
  for (let r = 0; r < 3; r++) out[r] = m[r][0] * a + m[r][1] * b + m[r][2] * c;
}

/** Planar RGB [0,1] → planar OkLAB (L in [0,1], a and b about ±0.4), same layout as RgbImage. */
export function rgbToOklab(image: RgbImage): RgbImage {
  const n = image.width * image.height;
  const d = image.data;
  const out = new Float32Array(3 * n);
  const lms = [0, 0, 0];
  const lab = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    apply(RGB_TO_LMS, srgbToLinear(d[i]), srgbToLinear(d[n + i]), srgbToLinear(d[2 * n + i]), lms);
    apply(LMS_TO_LAB, Math.cbrt(lms[0]), Math.cbrt(lms[1]), Math.cbrt(lms[2]), lab);
    out[i] = lab[0];
    out[n + i] = lab[1];
    out[2 * n + i] = lab[2];
  }
  return { width: image.width, height: image.height, data: out };
}

/** Planar OkLAB → planar RGB (not clamped: colours outside sRGB's gamut come back outside [0,1]). */
export function oklabToRgb(image: RgbImage): RgbImage {
  const n = image.width * image.height;
  const d = image.data;
  const out = new Float32Array(3 * n);
  const lms = [0, 0, 0];
  const rgb = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    apply(LAB_TO_LMS, d[i], d[n + i], d[2 * n + i], lms);
    apply(LMS_TO_RGB, lms[0] ** 3, lms[1] ** 3, lms[2] ** 3, rgb);
    out[i] = linearToSrgb(rgb[0]);
    out[n + i] = linearToSrgb(rgb[1]);
    out[2 * n + i] = linearToSrgb(rgb[2]);
  }
  return { width: image.width, height: image.height, data: out };
}

export interface OklabMatchOptions {
  /** Clamp the result to [0,1] (default true: a displayable image). */
  clamp?: boolean;
}

/**
 * `source` recoloured so its OkLAB mean and covariance equal `target`'s (sizes may differ).
 * Unclamped, the moments match exactly; clamping only touches colours outside sRGB's gamut.
 */
export function matchColoursInOklab(source: RgbImage, target: RgbImage, options: OklabMatchOptions = {}): RgbImage {
  return matchOklabMoments(source, oklabMoments(target), options);
}

/** An image's OkLAB colour mean and 3×3 covariance. */
export function oklabMoments(image: RgbImage): ColourMoments {
  return colourMoments(rgbToOklab(image));
}

/**
 * The moments of a mixture of colour distributions (weights sum to 1): the mean of the means, and
 * the covariance Σ wᵢ (Σᵢ + μᵢμᵢᵀ) − μμᵀ, as if the images' pixels were pooled in those proportions.
 */
export function mixColourMoments(parts: ColourMoments[], weights: number[]): ColourMoments {
  const mean = [0, 1, 2].map((c) => parts.reduce((s, p, i) => s + weights[i] * p.mean[c], 0));
  const cov = [0, 1, 2].map((a) =>
    [0, 1, 2].map((b) => parts.reduce((s, p, i) => s + weights[i] * (p.cov[a][b] + p.mean[a] * p.mean[b]), 0) - mean[a] * mean[b]),
  );
  return { mean, cov };
}

/** `source` recoloured to the given OkLAB moments (see matchColoursInOklab). */
export function matchOklabMoments(source: RgbImage, target: ColourMoments, options: OklabMatchOptions = {}): RgbImage {
  const out = oklabToRgb(matchColourMoments(rgbToOklab(source), target));
  if (options.clamp ?? true) {
    const d = out.data;
    for (let i = 0; i < d.length; i++) d[i] = d[i] < 0 ? 0 : d[i] > 1 ? 1 : d[i];
  }
  return out;
}
