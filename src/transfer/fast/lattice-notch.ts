/**
 * The pretrained ml5 networks upsample ¼ → full resolution with two stride-2 transposed
 * convolutions, whose four output phases each have their own kernel: the output carries a fixed
 * pattern on the 4-px grid (energy at the lattice frequencies k/4 cycles per pixel), seen as a
 * grid over flat areas (wreck's bright sky most). Equalising the phases' kernel sums at load time
 * does not remove it: in the second upsampling it made the lattice stronger (the layers after it
 * do not pass the phases' sums through as they are; issue 28, docs/frames-and-grids.md).
 *
 * removeLatticePattern() is a notch at those frequencies: it estimates, around each pixel, the
 * mean of the high-passed output on each of the 16 phases of the 4-px grid (a Gaussian of a few
 * grid cells), and subtracts each pixel's phase's deviation from the mean of the 16. What is not
 * locked to the grid (strokes, edges, the style's texture) averages out of those means and stays.
 * Applied where the photo is flat (soft mask), where the pattern is seen and nothing of the photo
 * can be taken for it. `--padding exact` keeps the networks' output bit for bit.
 */
import type { RgbImage } from '../../image';
import { boxBlur } from './local-filters';

export interface LatticeRule {
  /** The grid's period in pixels (two stride-2 upsamplings: 4). */
  period: number;
  /** Radius, in grid cells, of the neighbourhood over which each phase's mean is taken (two box passes, ≈ a Gaussian of σ = this). */
  phaseRadius: number;
}

export const LATTICE_RULE: LatticeRule = { period: 4, phaseRadius: 2 };

/**
 * Removes the output's pattern on the networks' 4-px grid, in place (at print size a copy would
 * cost as much as the picture), weighted per pixel by `mask` (0..1; photoFlatMask: where the
 * photo is flat). Returns it and the root mean square of what was removed (levels of 0–255, over
 * the whole picture).
 */
export function removeLatticePattern(output: RgbImage, mask: Float32Array, rule: LatticeRule = LATTICE_RULE): { image: RgbImage; removedRms: number } {
  if (mask.length !== output.width * output.height) throw new Error('removeLatticePattern: the mask and the output differ in size');
  const { width: w, height: h, data } = output;
  const p = rule.period;
  const cellsX = Math.floor(w / p);
  const cellsY = Math.floor(h / p);
  // A few cells each way are needed to tell a phase's mean from the picture's.
  if (cellsX < 4 || cellsY < 4) return { image: output, removedRms: 0 };
  const n = w * h;
  let removed = 0;
  for (let c = 0; c < 3; c++) {
    const plane = data.subarray(c * n, (c + 1) * n);
    // The residual of a period × period box mean: the box passes nothing at the lattice
    // frequencies k / period, so the pattern is kept whole, and a slope or a curve of the picture
    // is the same on every phase (it cancels in the phases' differences).
    const low = boxBlur(plane, w, h, p / 2, true);
    // Each phase's samples form a grid of cellsX × cellsY; the ragged last row/column of a size
    // that is not a multiple of the period takes the last full cell's estimate.
    const phaseMeans: Float32Array[] = [];
    const mean = new Float32Array(cellsX * cellsY);
    for (let py = 0; py < p; py++) {
      for (let px = 0; px < p; px++) {
        const samples = new Float32Array(cellsX * cellsY);
        for (let Y = 0; Y < cellsY; Y++) {
          for (let X = 0; X < cellsX; X++) {
            const i = (p * Y + py) * w + p * X + px;
            samples[Y * cellsX + X] = plane[i] - low[i];
          }
        }
        const local = boxBlur(boxBlur(samples, cellsX, cellsY, rule.phaseRadius), cellsX, cellsY, rule.phaseRadius);
        for (let k = 0; k < local.length; k++) mean[k] += local[k] / (p * p);
        phaseMeans.push(local);
      }
    }
    for (let y = 0; y < h; y++) {
      const Y = Math.min(Math.floor(y / p), cellsY - 1);
      const row = (y % p) * p;
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        if (mask[i] <= 0) continue;
        const cell = Y * cellsX + Math.min(Math.floor(x / p), cellsX - 1);
        const pattern = mask[i] * (phaseMeans[row + (x % p)][cell] - mean[cell]);
        const v = plane[i] - pattern;
        plane[i] = v < 0 ? 0 : v > 1 ? 1 : v;
        removed += pattern * pattern;
      }
    }
  }
  return { image: output, removedRms: 255 * Math.sqrt(removed / (3 * n)) };
}
