import type { RgbImage } from './load';

/** Planar Y, U, V (BT.601): Y in [0,1], U and V centred at 0. */
export interface YuvImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** Throws (a bug, not a user error) unless the image is well formed: positive integer size, 3 planes. */
export function assertRgbImage(image: RgbImage): void {
  const { width, height, data } = image;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new RangeError(`invalid image size ${width}x${height}`);
  }
  if (!(data instanceof Float32Array) || data.length !== 3 * width * height) {
    throw new RangeError(`image data must be a Float32Array of 3*${width}*${height} values`);
  }
}

/**
 * Resizes with a triangle (bilinear) filter whose support widens when shrinking, so downscaling
 * averages every source pixel instead of aliasing. Done in JS: sharp's float raw pipeline is unreliable.
 */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  assertRgbImage(image);
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new RangeError(`invalid target size ${width}x${height}`);
  }
  const { width: w0, height: h0, data } = image;
  if (w0 === width && h0 === height) return { width, height, data: data.slice() };
  const xs = filterWeights(w0, width);
  const ys = filterWeights(h0, height);
  const out = new Float32Array(3 * width * height);
  const row = new Float32Array(width * h0); // one plane resized horizontally only
  for (let c = 0; c < 3; c++) {
    const src = c * w0 * h0;
    for (let y = 0; y < h0; y++) {
      for (let x = 0; x < width; x++) {
        let acc = 0;
        const { start, weights } = xs[x];
        for (let k = 0; k < weights.length; k++) acc += weights[k] * data[src + y * w0 + start + k];
        row[y * width + x] = acc;
      }
    }
    const dst = c * width * height;
    for (let y = 0; y < height; y++) {
      const { start, weights } = ys[y];
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let k = 0; k < weights.length; k++) acc += weights[k] * row[(start + k) * width + x];
        out[dst + y * width + x] = acc;
      }
    }
  }
  return { width, height, data: out };
}

/** Per-output-pixel taps of a triangle filter, normalised to sum 1 (which also handles the edges). */
function filterWeights(inSize: number, outSize: number): { start: number; weights: Float64Array }[] {
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const taps = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const start = Math.max(0, Math.floor(centre - support));
    const end = Math.min(inSize, Math.ceil(centre + support));
    const weights = new Float64Array(end - start);
    let sum = 0;
    for (let i = start; i < end; i++) {
      const w = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / support));
      weights[i - start] = w;
      sum += w;
    }
    for (let k = 0; k < weights.length; k++) weights[k] /= sum;
    taps.push({ start, weights });
  }
  return taps;
}

// BT.601 analogue YUV. The inverse is derived from the same constants so a round trip is exact
// to float precision (the rounded textbook inverse coefficients are not).
const KR = 0.299;
const KG = 0.587;
const KB = 0.114;
const SU = 0.492; // U = SU * (B - Y)
const SV = 0.877; // V = SV * (R - Y)

export function rgbToYuv(image: RgbImage): YuvImage {
  assertRgbImage(image);
  const n = image.width * image.height;
  const d = image.data;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const r = d[i];
    const g = d[n + i];
    const b = d[2 * n + i];
    const y = KR * r + KG * g + KB * b;
    out[i] = y;
    out[n + i] = SU * (b - y);
    out[2 * n + i] = SV * (r - y);
  }
  return { width: image.width, height: image.height, data: out };
}

/** Inverse of rgbToYuv. Not clamped: out-of-gamut YUV gives RGB outside [0,1] (saveImage clamps). */
export function yuvToRgb(yuv: YuvImage): RgbImage {
  assertRgbImage(yuv);
  const n = yuv.width * yuv.height;
  const d = yuv.data;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const y = d[i];
    const r = y + d[2 * n + i] / SV;
    const b = y + d[n + i] / SU;
    out[i] = r;
    out[n + i] = (y - KR * r - KB * b) / KG;
    out[2 * n + i] = b;
  }
  return { width: yuv.width, height: yuv.height, data: out };
}

/**
 * Colour preservation by luminance transfer: luminance (Y) from the stylised image, chrominance
 * (U, V) from the content image. Sizes must match (resize the content first). The result is not
 * clamped, so a few values may fall slightly outside [0,1].
 */
export function luminancePreserveColors(styled: RgbImage, content: RgbImage): RgbImage {
  if (styled.width !== content.width || styled.height !== content.height) {
    throw new RangeError(
      `luminancePreserveColors: sizes differ (${styled.width}x${styled.height} vs ${content.width}x${content.height})`,
    );
  }
  const s = rgbToYuv(styled);
  const c = rgbToYuv(content);
  const n = styled.width * styled.height;
  c.data.set(s.data.subarray(0, n), 0); // content's U,V with the styled Y
  return yuvToRgb(c);
}

/** Per-channel mean and (population) standard deviation. */
export function imageStats(image: RgbImage): { mean: [number, number, number]; std: [number, number, number] } {
  assertRgbImage(image);
  const n = image.width * image.height;
  const mean: [number, number, number] = [0, 0, 0];
  const std: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    const plane = image.data.subarray(c * n, (c + 1) * n);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += plane[i];
    const m = sum / n;
    let sq = 0; // two-pass: no catastrophic cancellation
    for (let i = 0; i < n; i++) sq += (plane[i] - m) ** 2;
    mean[c] = m;
    std[c] = Math.sqrt(sq / n);
  }
  return { mean, std };
}
