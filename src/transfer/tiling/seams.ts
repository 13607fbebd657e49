/**
 * The seam metric of a tiled image: the mean gradient magnitude (|∂x| + |∂y| of the luminance)
 * on the lines where tiles meet, against its mean everywhere else. A visible seam is a step or a
 * flat band along such a line, which moves the ratio away from 1; the target is within ±10 %.
 */
import type { RgbImage } from '../../image';
import type { BlendSpec } from './blend';
import { GridSpec, passOffset, planGrid } from './grid';

export interface SeamMetric {
  /** Mean gradient magnitude on the seam lines. */
  seams: number;
  /** Mean gradient magnitude elsewhere. */
  elsewhere: number;
  /** seams / elsewhere. */
  ratio: number;
}

/** Seam lines: columns in `columns` (the gradient between column c−1 and c) and rows in `rows`. */
export function seamMetric(image: RgbImage, columns: number[], rows: number[]): SeamMetric {
  const { width, height, data } = image;
  const plane = width * height;
  const lum = new Float32Array(plane);
  for (let i = 0; i < plane; i++) lum[i] = 0.299 * data[i] + 0.587 * data[plane + i] + 0.114 * data[2 * plane + i];
  const onColumn = new Uint8Array(width);
  const onRow = new Uint8Array(height);
  for (const c of columns) if (c > 0 && c < width) onColumn[c] = 1;
  for (const r of rows) if (r > 0 && r < height) onRow[r] = 1;
  let seamSum = 0;
  let seamCount = 0;
  let restSum = 0;
  let restCount = 0;
  for (let y = 1; y < height; y++) {
    for (let x = 1; x < width; x++) {
      const i = y * width + x;
      const g = Math.abs(lum[i] - lum[i - 1]) + Math.abs(lum[i] - lum[i - width]);
      if (onColumn[x] || onRow[y]) {
        seamSum += g;
        seamCount++;
      } else {
        restSum += g;
        restCount++;
      }
    }
  }
  const seams = seamSum / Math.max(1, seamCount);
  const elsewhere = restSum / Math.max(1, restCount);
  return { seams, elsewhere, ratio: seams / Math.max(elsewhere, 1e-12) };
}

/**
 * The lines where tiles of a tiled run meet, over all its passes: each interior tile edge, the
 * end of its context margin and the middle of its blending ramp (where a seam would show).
 */
export function tileSeamLines(width: number, height: number, grid: GridSpec, blend: BlendSpec, passes: number): { columns: number[]; rows: number[] } {
  const columns = new Set<number>();
  const rows = new Set<number>();
  for (let p = 0; p < passes; p++) {
    for (const tile of planGrid(width, height, grid, passOffset(grid, p, passes))) {
      for (const [set, start, len, total] of [[columns, tile.x, tile.width, width], [rows, tile.y, tile.height, height]] as const) {
        const inner = [0, blend.margin, blend.margin + Math.round(blend.ramp / 2)];
        if (start > 0) for (const d of inner) set.add(start + d);
        if (start + len < total) for (const d of inner) set.add(start + len - d);
      }
    }
  }
  return { columns: [...columns].sort((a, b) => a - b), rows: [...rows].sort((a, b) => a - b) };
}
