/**
 * The pretrained ml5 networks upsample with stride-2 transposed convolutions. At print sizes their
 * texture is far smaller than the photo's forms, and over dark flat areas (a night sky, a shadow)
 * it shows as a regular lattice of isolated bright dots, each with a dark halo: a pattern of the
 * network's upsampling grid, not a brush mark of the painting.
 *
 * removeInventedDots() finds pixels much brighter than their neighbourhood's median, where the
 * output around them is dark and the photo under them is fairly flat and has no point of light
 * there (so a light, a star or a window of the photo is never touched), and replaces each with its
 * halo by that median. Strokes, edges and
 * bright areas are left as they are. `--padding exact` keeps the networks' output bit for bit.
 */
import sharp from 'sharp';
import type { RgbImage } from '../../image';
import { photoDeviation, planarLuma } from './local-filters';

/** What counts as an invented dot (levels of 0–255). */
export interface DotRule {
  /** Brighter than the neighbourhood median by more than this. */
  brighter: number;
  /** …where the median's luminance is below this (dark areas only). */
  darkBelow: number;
  /** …and the photo's local standard deviation is below this (flat in the photo). */
  photoFlatBelow: number;
  /** Side of the median window. */
  medianWindow: number;
  /** Half side of the window of the photo's local standard deviation. */
  photoRadius: number;
  /** Isolated: brighter than each of the 8 pixels this far away by half of `brighter` (a line is not). */
  isolation: number;
  /** The photo has a point there (a light, a star) when its pixel is this much brighter than the mean of those 8: kept. */
  photoPointAbove: number;
  /** Pixels around a dot's centre replaced with it (the dot and its dark halo). */
  halo: number;
}

export const DOT_RULE: DotRule = { brighter: 30, darkBelow: 110, photoFlatBelow: 16, medianWindow: 7, photoRadius: 9, isolation: 2, photoPointAbove: 12, halo: 3 };

/** Luminance (0–255) of pixel i of interleaved 8-bit RGB. */
const lumaOf = (rgb: Uint8Array, i: number): number => 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];

/** Planar [0,1] RGB to interleaved 8-bit RGB, as sharp reads raw pixels. */
function toInterleavedBytes(image: RgbImage): Uint8Array {
  const n = image.width * image.height;
  const out = new Uint8Array(3 * n);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) out[3 * i + c] = Math.round(Math.min(1, Math.max(0, image.data[c * n + i])) * 255);
  }
  return out;
}

async function medianOf(bytes: Uint8Array, width: number, height: number, window: number): Promise<Uint8Array> {
  const buf = await sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { raw: { width, height, channels: 3 } })
    .median(window)
    .raw()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Removes the network's invented dots from `output` (same size as `photo`), in place: at print
 * size a copy would cost as much as the picture. Returns it and the count of dot pixels found.
 * `deviation`: photoDeviation(photo, rule.photoRadius) when the caller has it already.
 */
export async function removeInventedDots(
  output: RgbImage,
  photo: RgbImage,
  rule: DotRule = DOT_RULE,
  deviation = photoDeviation(photo, rule.photoRadius),
): Promise<{ image: RgbImage; dotPixels: number }> {
  if (output.width !== photo.width || output.height !== photo.height) throw new Error('removeInventedDots: output and photo differ in size');
  const { width: w, height: h } = output;
  const bytes = toInterleavedBytes(output);
  const median = await medianOf(bytes, w, h, rule.medianWindow);
  const d = rule.isolation;
  const isIsolated = (rgb: Uint8Array, i: number, v: number): boolean => {
    const x = i % w;
    const y = (i - x) / w;
    if (x < d || y < d || x >= w - d || y >= h - d) return false;
    for (const dy of [-d, 0, d]) {
      for (const dx of [-d, 0, d]) {
        if ((dx || dy) && v - lumaOf(rgb, i + dy * w + dx) <= rule.brighter / 2) return false;
      }
    }
    return true;
  };
  // The photo's own light: brighter than its ring (the same 8 pixels), whatever the area around.
  const photoHasPoint = (i: number): boolean => {
    let ring = 0;
    for (const dy of [-d, 0, d]) for (const dx of [-d, 0, d]) if (dx || dy) ring += planarLuma(photo, i + dy * w + dx) / 8;
    return planarLuma(photo, i) - ring > rule.photoPointAbove;
  };
  const dots = new Uint8Array(w * h);
  let dotPixels = 0;
  for (let i = 0; i < w * h; i++) {
    if (deviation[i] >= rule.photoFlatBelow) continue;
    const m = lumaOf(median, i);
    const v = lumaOf(bytes, i);
    if (m < rule.darkBelow && v - m > rule.brighter && isIsolated(bytes, i, v) && !photoHasPoint(i)) {
      dots[i] = 1;
      dotPixels++;
    }
  }
  if (dotPixels === 0) return { image: output, dotPixels };
  const data = output.data;
  const n = w * h;
  const r = rule.halo;
  for (let i = 0; i < n; i++) {
    if (!dots[i]) continue;
    const x = i % w;
    const y = (i - x) / w;
    for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
      for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) {
        const j = yy * w + xx;
        for (let c = 0; c < 3; c++) data[c * n + j] = median[3 * j + c] / 255;
      }
    }
  }
  return { image: output, dotPixels };
}
