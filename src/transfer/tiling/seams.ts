/**
 * The seam metric of a tiled image: the mean gradient magnitude (|∂x| + |∂y| of the luminance)
 * on the lines where tiles meet, against its mean everywhere else. A visible seam is a step or a
 * flat band along such a line, which moves the ratio away from 1; the target is within ±10 %.
 */
import type { RgbImage } from '../../image';

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
