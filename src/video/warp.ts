/**
 * Backward warping: out(p) = image(p + flow(p)), for planar RGB images and flow fields. With the
 * backward flow of frame t (t → t−1) this moves the previous stylised frame onto frame t. Pixels
 * whose source lies outside the frame take the nearest border value; the consistency mask marks
 * them as unreliable. Bilinear by default; Catmull-Rom ('cubic') for stylised frames that are
 * warped again and again, where bilinear's blur at sub-pixel shifts would pile up.
 */
import type { RgbImage } from '../image';
import type { Flow } from './flow';

/** A separable interpolation kernel: `count` taps starting at offset `first` from floor(s). */
interface Kernel {
  first: number;
  count: number;
  /** The taps' weights for the fraction t = s − floor(s). */
  weights(t: number, out: Float64Array): void;
}

const BILINEAR: Kernel = {
  first: 0,
  count: 2,
  weights(t, out) {
    out[0] = 1 - t;
    out[1] = t;
  },
};

const CATMULL_ROM: Kernel = {
  first: -1,
  count: 4,
  weights(t, out) {
    const t2 = t * t;
    const t3 = t2 * t;
    out[0] = (-t3 + 2 * t2 - t) / 2;
    out[1] = (3 * t3 - 5 * t2 + 2) / 2;
    out[2] = (-3 * t3 + 4 * t2 + t) / 2;
    out[3] = (t3 - t2) / 2;
  },
};

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

/** Fractions per pixel of a tabulated kernel: weights at 1/256-px steps (error far below 8-bit). */
const TABLE_STEPS = 256;

/** Kernel weights looked up by the fraction rounded to 1/TABLE_STEPS (sines per pixel are slow). */
function tabulated(first: number, count: number, exact: (t: number, out: Float64Array) => void): Kernel {
  const table = new Float64Array((TABLE_STEPS + 1) * count);
  const row = new Float64Array(count);
  for (let k = 0; k <= TABLE_STEPS; k++) {
    exact(k / TABLE_STEPS, row);
    table.set(row, k * count);
  }
  return {
    first,
    count,
    weights(t, out) {
      const o = Math.round(t * TABLE_STEPS) * count;
      for (let j = 0; j < count; j++) out[j] = table[o + j];
    },
  };
}

/**
 * Lanczos-3 (6 taps, normalised): the sharpest of the three at sub-pixel shifts; a frame warped
 * again and again keeps its strokes (Catmull-Rom's softening still piles up over frames).
 */
const LANCZOS3: Kernel = tabulated(-2, 6, (t, out) => {
  let total = 0;
  for (let j = 0; j < 6; j++) {
    const d = t - (j - 2);
    out[j] = Math.abs(d) < 3 ? sinc(d) * sinc(d / 3) : 0;
    total += out[j];
  }
  for (let j = 0; j < 6; j++) out[j] /= total;
});

/**
 * Samples planes of size width × height (plane k at k·width·height) at p + flow(p); samples
 * beyond the border repeat it. clamp01: clip the result to [0, 1] (Catmull-Rom overshoots at edges).
 */
function warpPlanes(src: Float32Array, planes: number, flow: Flow, kernel: Kernel = BILINEAR, clamp01 = false): Float32Array {
  const { width, height, u, v } = flow;
  const n = width * height;
  const out = new Float32Array(planes * n);
  const { first, count } = kernel;
  const wx = new Float64Array(count);
  const wy = new Float64Array(count);
  const xs = new Int32Array(count);
  const rows = new Int32Array(count);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const sx = Math.min(Math.max(x + u[i], 0), width - 1);
      const sy = Math.min(Math.max(y + v[i], 0), height - 1);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      kernel.weights(sx - x0, wx);
      kernel.weights(sy - y0, wy);
      for (let j = 0; j < count; j++) {
        xs[j] = Math.min(Math.max(x0 + first + j, 0), width - 1);
        rows[j] = Math.min(Math.max(y0 + first + j, 0), height - 1) * width;
      }
      for (let k = 0; k < planes; k++) {
        const o = k * n;
        let acc = 0;
        for (let j = 0; j < count; j++) {
          let row = 0;
          for (let m = 0; m < count; m++) row += wx[m] * src[o + rows[j] + xs[m]];
          acc += wy[j] * row;
        }
        out[o + i] = clamp01 ? Math.min(Math.max(acc, 0), 1) : acc;
      }
    }
  }
  return out;
}

export type WarpInterpolation = 'bilinear' | 'cubic' | 'lanczos';

/** The image moved along the flow (same size as the flow). */
export function warpImage(image: RgbImage, flow: Flow, interpolation: WarpInterpolation = 'bilinear'): RgbImage {
  if (image.width !== flow.width || image.height !== flow.height) {
    throw new Error(`warpImage: image ${image.width}x${image.height} vs flow ${flow.width}x${flow.height}`);
  }
  const data = interpolation === 'bilinear' ? warpPlanes(image.data, 3, flow) : warpPlanes(image.data, 3, flow, interpolation === 'cubic' ? CATMULL_ROM : LANCZOS3, true);
  return { width: image.width, height: image.height, data };
}

/** Another flow field sampled at p + flow(p) (for the forward–backward check). */
export function warpFlow(field: Flow, flow: Flow): Flow {
  const n = field.width * field.height;
  const both = new Float32Array(2 * n);
  both.set(field.u, 0);
  both.set(field.v, n);
  const out = warpPlanes(both, 2, flow);
  return { width: field.width, height: field.height, u: out.subarray(0, n), v: out.subarray(n) };
}
