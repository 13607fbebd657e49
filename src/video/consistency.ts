/**
 * Where the flow can be trusted (Ruder et al. 2016, "Artistic style transfer for videos", §3.2).
 * With w the backward flow of frame t (t → t−1) and ŵ the forward flow (t−1 → t) sampled at
 * p + w(p), a pixel of frame t is
 * - occluded (or disoccluded) where |w + ŵ|² > 0.01 (|w|² + |ŵ|²) + 0.5: going back and forth
 *   does not return to the start, so the pixel was not visible in the previous frame;
 * - on a motion boundary where |∇u|² + |∇v|² > 0.01 |w|² + 0.002: the flow is unreliable there;
 * - outside: p + w(p) leaves the previous frame (e.g. the new strip of a pan).
 * The certainty is 0 at such pixels and 1 elsewhere.
 *
 * Those checks trust the flow's own agreement; on non-rigid motion (faces, hands) both flows can
 * agree and still be wrong, and blending along them paints ghosts (doubled eyes). The
 * photometric certainty (Lai et al. 2018) catches that: exp(−α‖I_t − W(I_{t−1})‖²) over RGB in
 * [0,1], α = 50, low wherever the previous input frame, warped, does not match the current one.
 */
import type { RgbImage } from '../image';
import type { Flow } from './flow';
import { warpFlow, warpImage } from './warp';

export interface ConsistencyMasks {
  width: number;
  height: number;
  /** 1 where the warped previous frame is reliable, 0 elsewhere. */
  certainty: Float32Array;
  /** The three reasons, for tests and diagnostics (1 = flagged). */
  occluded: Uint8Array;
  motionBoundary: Uint8Array;
  outside: Uint8Array;
}

export function consistencyMasks(backward: Flow, forward: Flow): ConsistencyMasks {
  const { width, height, u, v } = backward;
  const n = width * height;
  const fw = warpFlow(forward, backward);
  const occluded = new Uint8Array(n);
  const motionBoundary = new Uint8Array(n);
  const outside = new Uint8Array(n);
  const certainty = new Float32Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const sx = x + u[i];
      const sy = y + v[i];
      outside[i] = sx < 0 || sy < 0 || sx > width - 1 || sy > height - 1 ? 1 : 0;
      const su = u[i] + fw.u[i];
      const sv = v[i] + fw.v[i];
      const ww = u[i] * u[i] + v[i] * v[i];
      const fwfw = fw.u[i] * fw.u[i] + fw.v[i] * fw.v[i];
      occluded[i] = su * su + sv * sv > 0.01 * (ww + fwfw) + 0.5 ? 1 : 0;
      // Central differences (one-sided at the border) of the backward flow.
      const xl = x > 0 ? i - 1 : i, xr = x < width - 1 ? i + 1 : i;
      const yt = y > 0 ? i - width : i, yb = y < height - 1 ? i + width : i;
      const dx = xr - xl === 2 ? 0.5 : 1;
      const dy = yb - yt === 2 * width ? 0.5 : 1;
      const ux = (u[xr] - u[xl]) * dx, uy = (u[yb] - u[yt]) * dy;
      const vx = (v[xr] - v[xl]) * dx, vy = (v[yb] - v[yt]) * dy;
      motionBoundary[i] = ux * ux + uy * uy + vx * vx + vy * vy > 0.01 * ww + 0.002 ? 1 : 0;
      certainty[i] = occluded[i] || motionBoundary[i] || outside[i] ? 0 : 1;
    }
  }
  return { width, height, certainty, occluded, motionBoundary, outside };
}

/** Weight of the squared colour difference in the photometric certainty (Lai et al. 2018). */
export const PHOTOMETRIC_ALPHA = 50;

/** exp(−α‖frame − W(previous)‖²) per pixel: how well the previous input frame, warped by the backward flow, matches this one. */
export function photometricCertainty(frame: RgbImage, previous: RgbImage, backward: Flow, alpha = PHOTOMETRIC_ALPHA): Float32Array {
  const warped = warpImage(previous, backward).data;
  const n = frame.width * frame.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let d2 = 0;
    for (let k = 0; k < 3; k++) {
      const d = frame.data[k * n + i] - warped[k * n + i];
      d2 += d * d;
    }
    out[i] = Math.exp(-alpha * d2);
  }
  return out;
}

/** The certainty a warp of the previous frame gets: the flow checks' mask times the photometric certainty. */
export function warpCertainty(frame: RgbImage, previous: RgbImage, backward: Flow, forward: Flow): { masks: ConsistencyMasks; certainty: Float32Array } {
  const masks = consistencyMasks(backward, forward);
  const certainty = photometricCertainty(frame, previous, backward);
  for (let i = 0; i < certainty.length; i++) certainty[i] *= masks.certainty[i];
  return { masks, certainty };
}
