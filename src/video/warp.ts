/**
 * Backward warping: out(p) = image(p + flow(p)), for planar RGB images and flow fields. With the
 * backward flow of frame t (t → t−1) this moves the previous stylised frame onto frame t. Pixels
 * whose source lies outside the frame take the nearest border value; the consistency mask marks
 * them as unreliable. Bilinear by default; Catmull-Rom ('cubic') for stylised frames that are
 * warped again and again, where bilinear's blur at sub-pixel shifts would pile up.
 */
import type { RgbImage } from '../image';
import type { Flow } from './flow';

/** Samples planes of size width × height (plane k at k·width·height) at p + flow(p). */
function warpPlanes(src: Float32Array, planes: number, flow: Flow): Float32Array {
  const { width, height, u, v } = flow;
  const n = width * height;
  const out = new Float32Array(planes * n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const sx = Math.min(Math.max(x + u[i], 0), width - 1);
      const sy = Math.min(Math.max(y + v[i], 0), height - 1);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, width - 1);
      const y1 = Math.min(y0 + 1, height - 1);
      const wx = sx - x0;
      const wy = sy - y0;
      const w00 = (1 - wx) * (1 - wy), w01 = wx * (1 - wy), w10 = (1 - wx) * wy, w11 = wx * wy;
      const a = y0 * width + x0, b = y0 * width + x1, c = y1 * width + x0, d = y1 * width + x1;
      for (let k = 0; k < planes; k++) {
        const o = k * n;
        out[o + i] = w00 * src[o + a] + w01 * src[o + b] + w10 * src[o + c] + w11 * src[o + d];
      }
    }
  }
  return out;
}

/** Catmull-Rom weights of the samples at offsets −1, 0, 1, 2 for a fraction t in [0, 1). */
function catmullRom(t: number, out: Float64Array): void {
  const t2 = t * t;
  const t3 = t2 * t;
  out[0] = (-t3 + 2 * t2 - t) / 2;
  out[1] = (3 * t3 - 5 * t2 + 2) / 2;
  out[2] = (-3 * t3 + 4 * t2 + t) / 2;
  out[3] = (t3 - t2) / 2;
}

/** warpPlanes with Catmull-Rom (bicubic) interpolation, clamped to [0, 1] (it overshoots at edges); samples beyond the border repeat it. */
function warpPlanesCubic(src: Float32Array, planes: number, flow: Flow): Float32Array {
  const { width, height, u, v } = flow;
  const n = width * height;
  const out = new Float32Array(planes * n);
  const wx = new Float64Array(4);
  const wy = new Float64Array(4);
  const xs = new Int32Array(4);
  const ys = new Int32Array(4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const sx = Math.min(Math.max(x + u[i], 0), width - 1);
      const sy = Math.min(Math.max(y + v[i], 0), height - 1);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      catmullRom(sx - x0, wx);
      catmullRom(sy - y0, wy);
      for (let j = 0; j < 4; j++) {
        xs[j] = Math.min(Math.max(x0 - 1 + j, 0), width - 1);
        ys[j] = Math.min(Math.max(y0 - 1 + j, 0), height - 1) * width;
      }
      for (let k = 0; k < planes; k++) {
        const o = k * n;
        let acc = 0;
        for (let j = 0; j < 4; j++) {
          const row = o + ys[j];
          acc += wy[j] * (wx[0] * src[row + xs[0]] + wx[1] * src[row + xs[1]] + wx[2] * src[row + xs[2]] + wx[3] * src[row + xs[3]]);
        }
        out[o + i] = acc < 0 ? 0 : acc > 1 ? 1 : acc;
      }
    }
  }
  return out;
}

export type WarpInterpolation = 'bilinear' | 'cubic';

/** The image moved along the flow (same size as the flow). */
export function warpImage(image: RgbImage, flow: Flow, interpolation: WarpInterpolation = 'bilinear'): RgbImage {
  if (image.width !== flow.width || image.height !== flow.height) {
    throw new Error(`warpImage: image ${image.width}x${image.height} vs flow ${flow.width}x${flow.height}`);
  }
  const data = interpolation === 'cubic' ? warpPlanesCubic(image.data, 3, flow) : warpPlanes(image.data, 3, flow);
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
