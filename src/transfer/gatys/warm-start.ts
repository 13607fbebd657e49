/**
 * Warm start between stages: L-BFGS's curvature pairs from the coarser stage, resampled to the
 * next stage's size, so its first steps follow the curvature already learned instead of a short
 * gradient step. The objective is a mean over pixels, so the gradient per pixel scales with
 * 1/pixels: y is rescaled by old/new pixel count, which keeps s·y and makes H0 = s·y/y·y grow with
 * the pixel count as the true inverse Hessian does.
 */
import { keep, resize, tidy } from '../../engine';
import { CurvaturePairs, LbfgsWolfe, Optimizer } from '../../optim';

/** The pairs of `optimizer` (if it keeps any) at the current stage's size; null otherwise. */
export function handOverPairs(optimizer: Optimizer, width: number, height: number): { pairs: CurvaturePairs; pixels: number } | null {
  if (!(optimizer instanceof LbfgsWolfe) || optimizer.historyLength === 0) return null;
  return { pairs: optimizer.exportHistory((s, y) => [s.clone(), y.clone()]), pixels: width * height };
}

/** The pairs resampled to height×width (bilinear); takes ownership of `pairs`. */
export function resampledPairs(pairs: CurvaturePairs, pixels: number, height: number, width: number): CurvaturePairs {
  const scale = pixels / (height * width);
  const out: CurvaturePairs = { s: [], y: [] };
  for (let i = 0; i < pairs.s.length; i++) {
    out.s.push(keep(tidy(() => resize(pairs.s[i], height, width, 'bilinear'))));
    out.y.push(keep(tidy(() => resize(pairs.y[i], height, width, 'bilinear').mul(scale))));
    pairs.s[i].dispose();
    pairs.y[i].dispose();
  }
  return out;
}

/** Releases pairs nobody took. */
export function disposePairs(pairs: CurvaturePairs): void {
  for (const t of [...pairs.s, ...pairs.y]) t.dispose();
}
