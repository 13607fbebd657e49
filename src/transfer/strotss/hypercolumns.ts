/**
 * Hypercolumns at sampled positions, as STROTSS reads its features: a position of the image
 * (row, column in pixels) gives one long vector, the RGB pixel followed by every chosen layer's
 * activations there (each layer read bilinearly at the position scaled to its resolution). Only
 * a few hundred or thousand positions are read per evaluation, so the cost matrices stay small.
 */
import { cat, Tensor, tensor } from '../../engine';
import type { Positions } from '../../losses/sampling';

export { samplePositions } from '../../losses/sampling';
export type { Positions, Random } from '../../losses/sampling';

/**
 * [N, C] rows of a 1 × C × h × w map read bilinearly at pixel positions of an image of
 * `imageHeight` × `imageWidth` (position p maps to p · h / imageHeight on the map, as STROTSS
 * halves its coordinates at every pooling).
 */
export function bilinearRows(map: Tensor, positions: Positions, imageHeight: number, imageWidth: number): Tensor {
  const [, c, h, w] = map.shape;
  const flat = (map.dtype === 'float32' ? map : map.cast('float32')).reshape([c, h * w]);
  if (h === imageHeight && w === imageWidth) return flat.indexSelect(1, positions.rows.map((r, i) => r * w + positions.cols[i])).transpose(0, 1);
  const n = positions.rows.length;
  const corners: number[][] = [[], [], [], []];
  const weights: Float32Array[] = [0, 1, 2, 3].map(() => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    const y = (positions.rows[i] * h) / imageHeight;
    const x = (positions.cols[i] * w) / imageWidth;
    const y0 = Math.min(Math.floor(y), h - 1);
    const x0 = Math.min(Math.floor(x), w - 1);
    const fy = y - y0;
    const fx = x - x0;
    const y1 = Math.min(y0 + 1, h - 1);
    const x1 = Math.min(x0 + 1, w - 1);
    corners[0].push(y0 * w + x0);
    corners[1].push(y0 * w + x1);
    corners[2].push(y1 * w + x0);
    corners[3].push(y1 * w + x1);
    weights[0][i] = (1 - fy) * (1 - fx);
    weights[1][i] = (1 - fy) * fx;
    weights[2][i] = fy * (1 - fx);
    weights[3][i] = fy * fx;
  }
  let sum: Tensor | null = null;
  for (let k = 0; k < 4; k++) {
    const term = flat.indexSelect(1, corners[k]).mul(tensor(weights[k], [1, n], map.device));
    sum = sum ? sum.add(term) : term;
  }
  return sum!.transpose(0, 1);
}

/**
 * [N, 3 + ΣC] hypercolumns: the RGB image (1 × 3 × H × W, [0,1]) and each map of `layers` (in
 * that order, each scaled by `featureScale`) at the positions.
 */
export function hypercolumns(rgb: Tensor, features: Map<string, Tensor>, layers: readonly string[], positions: Positions, featureScale: number): Tensor {
  const [, , height, width] = rgb.shape;
  const parts = [bilinearRows(rgb, positions, height, width)];
  for (const l of layers) parts.push(bilinearRows(features.get(l)!, positions, height, width).mul(featureScale));
  return cat(parts, 1);
}
