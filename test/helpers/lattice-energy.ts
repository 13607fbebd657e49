/**
 * A measure of a pattern on the 4-px grid of the ml5 networks' upsampling (issue 28), of the
 * tests' own (not the notch's): the output's luminance in 32×32 blocks (half overlapping) where
 * the photo is flat, each block's mean removed and a Hann window applied, its power spectrum
 * averaged over the blocks; then the power at the lattice frequencies (k/4, l/4 cycles per pixel,
 * periods 4 and 2, DC excluded) summed, against the sum over the same frequencies of the mean
 * power of the ring of bins 2 away (their neighbours). About 1 without a lattice; above with one.
 */
import type { RgbImage } from '../../src/image';
import { fft2 } from '../../src/transfer/fast/fft';

const FLAT_RANGE = 24;

/** Rec. 601 luminance in 0–255 levels, one value per pixel. */
export function luma(img: RgbImage): Float64Array {
  const n = img.width * img.height;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 255 * (0.299 * img.data[i] + 0.587 * img.data[n + i] + 0.114 * img.data[2 * n + i]);
  return out;
}

/** The power spectrum (N×N, row-major by [ky][kx]) of a real N×N block. */
function powerSpectrum(block: Float64Array, N: number): Float64Array {
  const re = Float64Array.from(block);
  const im = new Float64Array(N * N);
  fft2(re, im, N);
  const power = new Float64Array(N * N);
  for (let k = 0; k < N * N; k++) power[k] = re[k] * re[k] + im[k] * im[k];
  return power;
}

/** Photo-flat blocks: the photo's luminance, 3×3-averaged, spans less than FLAT_RANGE levels over the block. */
function isFlat(photo: Float64Array, w: number, x0: number, y0: number, N: number): boolean {
  let lo = Infinity;
  let hi = -Infinity;
  for (let y = y0 + 1; y < y0 + N - 1; y++) {
    for (let x = x0 + 1; x < x0 + N - 1; x++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += photo[(y + dy) * w + x + dx];
      lo = Math.min(lo, s / 9);
      hi = Math.max(hi, s / 9);
    }
  }
  return hi - lo < FLAT_RANGE;
}

export interface LatticeEnergy {
  /** Power at the lattice frequencies over their neighbours' (≈ 1: no lattice). */
  ratio: number;
  /** How many photo-flat blocks were measured. */
  blocks: number;
}

/** The power spectrum of the output's luminance averaged over the photo-flat N×N blocks (half overlapping). */
function flatSpectrum(output: RgbImage, photo: RgbImage, N: number): { sum: Float64Array; blocks: number } {
  const { width: w, height: h } = output;
  const out = luma(output);
  const ph = luma(photo);
  const hann = Float64Array.from({ length: N }, (_, k) => 0.5 - 0.5 * Math.cos((2 * Math.PI * k) / (N - 1)));
  const sum = new Float64Array(N * N);
  let blocks = 0;
  const block = new Float64Array(N * N);
  for (let y0 = 0; y0 + N <= h; y0 += N / 2) {
    for (let x0 = 0; x0 + N <= w; x0 += N / 2) {
      if (!isFlat(ph, w, x0, y0, N)) continue;
      let mean = 0;
      for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) mean += out[(y0 + y) * w + x0 + x] / (N * N);
      for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) block[y * N + x] = (out[(y0 + y) * w + x0 + x] - mean) * hann[y] * hann[x];
      const p = powerSpectrum(block, N);
      for (let k = 0; k < N * N; k++) sum[k] += p[k];
      blocks++;
    }
  }
  return { sum, blocks };
}

export function latticeEnergy(output: RgbImage, photo: RgbImage): LatticeEnergy {
  const N = 32;
  const { sum, blocks } = flatSpectrum(output, photo, N);
  let peaks = 0;
  let neighbours = 0;
  const at = (ky: number, kx: number) => sum[(((ky % N) + N) % N) * N + (((kx % N) + N) % N)];
  for (let ky = 0; ky < N; ky += N / 4) {
    for (let kx = 0; kx < N; kx += N / 4) {
      if (!ky && !kx) continue;
      peaks += at(ky, kx);
      let ring = 0;
      // The ring walked side by side from each corner: 4 sides × 4 bins.
      for (let d = -2; d < 2; d++) ring += at(ky - 2, kx + d) + at(ky + d, kx + 2) + at(ky + 2, kx - d) + at(ky - d, kx - 2);
      neighbours += ring / 16;
    }
  }
  return { ratio: blocks ? peaks / neighbours : NaN, blocks };
}

/**
 * A measure of a regular stripe texture (a weave) over the photo's flat areas: in the luminance
 * spectrum averaged over photo-flat 64×64 blocks, for every period between 64/3 and 64/24 px,
 * the strongest direction's power over the mean power of that period's every direction (the ring
 * of frequencies at that distance from zero, the 4-px lattice's frequencies left out). The
 * largest over the periods: ~2–3 for a texture without a preferred direction and period.
 */
export function weaveProminence(output: RgbImage, photo: RgbImage): { prominence: number; blocks: number } {
  const N = 64;
  const { sum, blocks } = flatSpectrum(output, photo, N);
  const rings: number[][] = [];
  for (let ky = 0; ky < N; ky++) {
    for (let kx = 0; kx < N; kx++) {
      const fy = ky < N / 2 ? ky : ky - N;
      const fx = kx < N / 2 ? kx : kx - N;
      const nearLattice = [fy, fx].every((f) => Math.abs(f - (N / 4) * Math.round(f / (N / 4))) <= 1);
      if (nearLattice) continue;
      (rings[Math.round(Math.hypot(fy, fx))] ??= []).push(sum[ky * N + kx]);
    }
  }
  let prominence = 0;
  for (let r = 3; r <= 24; r++) {
    const ring = rings[r] ?? [];
    if (!ring.length) continue;
    const mean = ring.reduce((a, b) => a + b, 0) / ring.length;
    prominence = Math.max(prominence, Math.max(...ring) / mean);
  }
  return { prominence: blocks ? prominence : NaN, blocks };
}
