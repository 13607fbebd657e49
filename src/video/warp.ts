/**
 * Backward warping: out(p) = image(p + flow(p)), bilinear, for planar RGB images and flow
 * fields. With the backward flow of frame t (t → t−1) this moves the previous stylised frame
 * onto frame t. Pixels whose source lies outside the frame take the nearest border value; the
 * consistency mask marks them as unreliable.
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

/** The image moved along the flow (same size as the flow). */
export function warpImage(image: RgbImage, flow: Flow): RgbImage {
  if (image.width !== flow.width || image.height !== flow.height) {
    throw new Error(`warpImage: image ${image.width}x${image.height} vs flow ${flow.width}x${flow.height}`);
  }
  return { width: image.width, height: image.height, data: warpPlanes(image.data, 3, flow) };
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
