import type { RgbImage } from '../../image';

/**
 * Small single-channel filters on Float32Array planes (row-major, w × h) for the fast styles'
 * post-filters (invented dots, lattice notch): written out so that a print-size photo costs a few
 * planes of memory and no tensor round trip.
 */

/** Index into 0..n−1 mirrored past either end (…2 1 | 0 1 2 … n−1 | n−2 …), for any offset. */
export function mirror(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const k = ((i % period) + period) % period;
  return k < n ? k : period - k;
}

/**
 * The standard deviation of `value` in a (2r+1)² window around each pixel (clipped at the
 * edges), one row at a time from running column sums (memory: a few rows, whatever the size).
 */
export function localDeviations(w: number, h: number, value: (i: number) => number, r: number): Float32Array {
  const out = new Float32Array(w * h);
  const colSum = new Float64Array(w);
  const colSq = new Float64Array(w);
  const add = (y: number, sign: number) => {
    for (let x = 0; x < w; x++) {
      const v = value(y * w + x);
      colSum[x] += sign * v;
      colSq[x] += sign * v * v;
    }
  };
  for (let y = 0; y < Math.min(h, r + 1); y++) add(y, 1);
  for (let y = 0; y < h; y++) {
    const rows = Math.min(h, y + r + 1) - Math.max(0, y - r);
    let s = 0;
    let q = 0;
    for (let x = 0; x < Math.min(w, r + 1); x++) {
      s += colSum[x];
      q += colSq[x];
    }
    for (let x = 0; x < w; x++) {
      const n = rows * (Math.min(w, x + r + 1) - Math.max(0, x - r));
      const mean = s / n;
      out[y * w + x] = Math.sqrt(Math.max(0, q / n - mean * mean));
      if (x + r + 1 < w) {
        s += colSum[x + r + 1];
        q += colSq[x + r + 1];
      }
      if (x - r >= 0) {
        s -= colSum[x - r];
        q -= colSq[x - r];
      }
    }
    if (y + r + 1 < h) add(y + r + 1, 1);
    if (y - r >= 0) add(y - r, -1);
  }
  return out;
}

/**
 * The mean over a (2r+1)-long window along rows (axis 'x') or columns ('y'), mirrored at the
 * edges, from a running sum: O(1) per pixel whatever r. `even` takes a 2r-long window instead
 * (from r before to r − 1 after), whose response is zero at the frequencies k / (2r).
 */
export function boxMean(plane: Float32Array, w: number, h: number, r: number, axis: 'x' | 'y', even = false): Float32Array {
  const out = new Float32Array(w * h);
  const [len, lines, step, stride] = axis === 'x' ? [w, h, 1, w] : [h, w, w, 1];
  const after = even ? r - 1 : r;
  const size = r + after + 1;
  // Mirrored positions from r before the start to r after the end, once for every line.
  const index = Int32Array.from({ length: len + r + after + 1 }, (_, j) => mirror(j - r, len) * step);
  for (let line = 0; line < lines; line++) {
    const base = line * stride;
    const at = (k: number) => plane[base + index[k + r]];
    let s = 0;
    for (let k = -r; k <= after; k++) s += at(k);
    for (let k = 0; k < len; k++) {
      out[base + k * step] = s / size;
      s += at(k + after + 1) - at(k - r);
    }
  }
  return out;
}

/** boxMean along both axes: a (2r+1)² (or, `even`, 2r²) box. */
export function boxBlur(plane: Float32Array, w: number, h: number, r: number, even = false): Float32Array {
  return boxMean(boxMean(plane, w, h, r, 'x', even), w, h, r, 'y', even);
}

/** Where a post-filter may change the output: the photo's flat areas. */
export interface FlatMaskRule {
  /** Full strength where the photo's local luminance standard deviation (levels) is below this… */
  flatBelow: number;
  /** …none where it is above this, linear between. */
  busyAbove: number;
  /** Half side of the window of the photo's local standard deviation. */
  photoRadius: number;
  /** Radius (px) of the box that softens the mask's edges. */
  softRadius: number;
}

export const FLAT_MASK_RULE: FlatMaskRule = { flatBelow: 8, busyAbove: 24, photoRadius: 9, softRadius: 4 };

/** Luminance (0–255) of pixel i of a planar [0,1] RgbImage. */
export function planarLuma(image: RgbImage, i: number): number {
  const n = image.width * image.height;
  return 255 * (0.299 * image.data[i] + 0.587 * image.data[n + i] + 0.114 * image.data[2 * n + i]);
}

/** The photo's local luminance standard deviation (levels) in (2r+1)² windows: how busy it is. */
export function photoDeviation(photo: RgbImage, r: number): Float32Array {
  return localDeviations(photo.width, photo.height, (i) => planarLuma(photo, i), r);
}

/**
 * 0..1 per pixel: 1 where the photo is flat, 0 where it is busy (edges, texture), softened.
 * `deviation`: photoDeviation(photo, rule.photoRadius) when the caller has it already (read, not changed).
 */
export function photoFlatMask(photo: RgbImage, rule: FlatMaskRule = FLAT_MASK_RULE, deviation = photoDeviation(photo, rule.photoRadius)): Float32Array {
  const { width: w, height: h } = photo;
  const span = rule.busyAbove - rule.flatBelow;
  const strength = deviation.map((d) => Math.min(1, Math.max(0, (rule.busyAbove - d) / span)));
  return boxBlur(strength, w, h, rule.softRadius);
}
