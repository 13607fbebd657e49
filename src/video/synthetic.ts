/**
 * Clips with known motion, made from a still photo: a pan (a window sliding over the photo at a
 * constant sub-pixel speed) and a rigid shift/rotation of one frame. Their true flow is known
 * exactly, which is what the flow accuracy and flicker measurements (tests, bench) need.
 */
import type { RgbImage } from '../image';
import type { Flow } from './flow';

/** Bilinear sample of planar RGB at (x, y), clamped to the border. */
function sample(img: RgbImage, x: number, y: number, out: Float32Array, i: number, n: number): void {
  const { width, height, data } = img;
  const sx = Math.min(Math.max(x, 0), width - 1);
  const sy = Math.min(Math.max(y, 0), height - 1);
  const x0 = Math.floor(sx), y0 = Math.floor(sy);
  const x1 = Math.min(x0 + 1, width - 1), y1 = Math.min(y0 + 1, height - 1);
  const wx = sx - x0, wy = sy - y0;
  const m = width * height;
  for (let k = 0; k < 3; k++) {
    const o = k * m;
    out[k * n + i] =
      (1 - wy) * ((1 - wx) * data[o + y0 * width + x0] + wx * data[o + y0 * width + x1]) + wy * ((1 - wx) * data[o + y1 * width + x0] + wx * data[o + y1 * width + x1]);
  }
}

/** The image resampled by a mapping from output pixel to source position. */
export function resample(img: RgbImage, width: number, height: number, map: (x: number, y: number) => [number, number]): RgbImage {
  const n = width * height;
  const data = new Float32Array(3 * n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = map(x, y);
      sample(img, sx, sy, data, y * width + x, n);
    }
  }
  return { width, height, data };
}

export interface SyntheticClip {
  frames: RgbImage[];
  /** backward[t−1]: the true flow of frame t onto frame t−1. */
  backward: Flow[];
}

/**
 * A horizontal pan: frame t shows the photo window starting at x = t·speed (the photo must be at
 * least width + (frames−1)·speed wide). The content moves left by `speed` px per frame, so the
 * backward flow is +speed everywhere.
 */
export function syntheticPan(photo: RgbImage, width: number, height: number, frames: number, speed: number): SyntheticClip {
  if (photo.width < width + (frames - 1) * speed || photo.height < height) throw new Error('syntheticPan: the photo is too small for this pan');
  const top = Math.floor((photo.height - height) / 2);
  const clip: SyntheticClip = { frames: [], backward: [] };
  for (let t = 0; t < frames; t++) {
    clip.frames.push(resample(photo, width, height, (x, y) => [x + t * speed, y + top]));
    if (t > 0) clip.backward.push(constantFlow(width, height, speed, 0));
  }
  return clip;
}

export function constantFlow(width: number, height: number, u: number, v: number): Flow {
  return { width, height, u: new Float32Array(width * height).fill(u), v: new Float32Array(width * height).fill(v) };
}

/**
 * The frame rotated by `degrees` about its centre: returns the new frame and the true flow from
 * the new frame back to the original (for each pixel, where it was).
 */
export function syntheticRotation(frame: RgbImage, degrees: number): { frame: RgbImage; backward: Flow } {
  const { width, height } = frame;
  const a = (degrees * Math.PI) / 180;
  const cx = (width - 1) / 2, cy = (height - 1) / 2;
  const where = (x: number, y: number): [number, number] => {
    const dx = x - cx, dy = y - cy;
    return [cx + Math.cos(a) * dx + Math.sin(a) * dy, cy - Math.sin(a) * dx + Math.cos(a) * dy];
  };
  const u = new Float32Array(width * height);
  const v = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = where(x, y);
      u[y * width + x] = sx - x;
      v[y * width + x] = sy - y;
    }
  }
  return { frame: resample(frame, width, height, where), backward: { width, height, u, v } };
}

/**
 * Endpoint error of `flow` against `truth` (mean and median, px), ignoring a border of `margin`
 * pixels. The mean is dominated by textureless areas (sky), where any flow warps equally well.
 */
export function endpointError(flow: Flow, truth: Flow, margin = 8): { mean: number; median: number } {
  const errors: number[] = [];
  for (let y = margin; y < flow.height - margin; y++) {
    for (let x = margin; x < flow.width - margin; x++) {
      const i = y * flow.width + x;
      errors.push(Math.hypot(flow.u[i] - truth.u[i], flow.v[i] - truth.v[i]));
    }
  }
  errors.sort((a, b) => a - b);
  return { mean: errors.reduce((a, b) => a + b, 0) / Math.max(errors.length, 1), median: errors[errors.length >> 1] ?? 0 };
}
