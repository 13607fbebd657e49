/**
 * Random positions of a feature map or image, for the losses that compare sampled feature vectors
 * (REMD, self-similarity): a bounded count per evaluation keeps their N × M cost matrices small.
 */
import { noGrad, rand, tidy } from '../engine';
import { seededRandom } from '../util/random';

/** Positions in pixels of the image (row, column pairs: rows[i], cols[i]). */
export interface Positions {
  rows: number[];
  cols: number[];
}

/** A generator of floats in [0, 1). */
export type Random = () => number;

/**
 * STROTSS's sampling: a regular grid of at most `gridSide`² candidates (stride √(H·W)/gridSide,
 * at least 1) with a random offset, optionally restricted to where `allowed(row, col)` holds,
 * shuffled, and the first `count` taken. Positions cover the whole image over evaluations.
 */
export function samplePositions(height: number, width: number, count: number, random: Random, gridSide: number, allowed?: (row: number, col: number) => boolean): Positions {
  const stride = Math.max(1, Math.floor(Math.sqrt((height * width) / (gridSide * gridSide))));
  const r0 = Math.floor(random() * stride);
  const c0 = Math.floor(random() * stride);
  const candidates: number[] = [];
  for (let r = r0; r < height; r += stride) {
    for (let c = c0; c < width; c += stride) if (!allowed || allowed(r, c)) candidates.push(r * width + c);
  }
  // Partial Fisher–Yates: the first `count` of a uniform shuffle.
  const n = Math.min(count, candidates.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (candidates.length - i));
    [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
  }
  const picked = candidates.slice(0, n);
  return { rows: picked.map((p) => Math.floor(p / width)), cols: picked.map((p) => p % width) };
}

/** Row-major indices (row · width + col) of positions. */
export function flatIndices(p: Positions, width: number): number[] {
  return p.rows.map((r, i) => r * width + p.cols[i]);
}

/** A generator seeded from libtorch's generator (so manualSeed / --seed makes runs repeat). */
export function randomFromTorch(): Random {
  return seededRandom(noGrad(() => tidy(() => Math.floor(rand([1]).item() * 2 ** 32))));
}
