/**
 * The pretrained wreck network paints a regular diagonal weave (stripes of ~10–13 px) over every
 * flat area of a photo, a texture of its own that The Shipwreck does not have: removing it leaves
 * the output's distance to the painting as it was (sliced-Wasserstein, docs/frames-and-grids.md).
 * It follows the photo when the photo moves by a pixel, so it is painted by the network, not left
 * by its upsampling grid (that is lattice-notch.ts), and only a post-filter or retraining removes it.
 *
 * suppressWeave() flattens the peaks of the output's local spectrum: in half-overlapping 64-px
 * windows (square-root Hann, analysis and synthesis; each channel's plane removed first), any
 * frequency whose luminance power, averaged with its 8 neighbours, stands above `above` times the
 * median power of its ring (the frequencies of the same period, every direction) is brought down
 * to that median, in every channel. An isotropic texture, strokes of many directions and the
 * picture's forms (long periods) are kept. Applied where the photo is flat. Other styles keep
 * their peaks: The Scream's sky is painted in regular stripes, and removing them takes the output
 * far from the painting (sliced-Wasserstein distance +7 to +31 %; wave's and udnie's too).
 */
import type { RgbImage } from '../../image';
import { fft2 } from './fft';
import { mirror } from './local-filters';

export interface WeaveRule {
  /** Side of the analysis windows (a power of two); they overlap by half. */
  window: number;
  /** A frequency is a peak when its power (averaged with its 8 neighbours) is above this many times its ring's median. */
  above: number;
  /** Rings (in frequency bins of the window) below this are left: the picture's forms, not a weave. */
  minRing: number;
}

export const WEAVE_RULE: WeaveRule = { window: 64, above: 3, minRing: 3 };

/** For each bin of an n × n spectrum, its ring: the rounded distance from the zero frequency. */
function ringsOf(n: number): { ring: Uint16Array; members: Uint32Array[] } {
  const ring = new Uint16Array(n * n);
  const lists: number[][] = [];
  for (let ky = 0; ky < n; ky++) {
    for (let kx = 0; kx < n; kx++) {
      const fy = ky < n / 2 ? ky : ky - n;
      const fx = kx < n / 2 ? kx : kx - n;
      const r = Math.round(Math.hypot(fy, fx));
      ring[ky * n + kx] = r;
      (lists[r] ??= []).push(ky * n + kx);
    }
  }
  return { ring, members: lists.map((l) => Uint32Array.from(l ?? [])) };
}

/**
 * Suppresses the output's periodic peaks, in place, weighted per pixel by `mask` (0..1; where the
 * photo is flat). Returns it and how many windows were filtered.
 */
export function suppressWeave(output: RgbImage, mask: Float32Array, rule: WeaveRule = WEAVE_RULE): { image: RgbImage; windows: number } {
  const { width: w, height: h, data } = output;
  if (mask.length !== w * h) throw new Error('suppressWeave: the mask and the output differ in size');
  const N = rule.window;
  const hop = N / 2;
  if (w < N || h < N) return { image: output, windows: 0 };
  const n = w * h;
  // The windows read the picture as it was: an 8-bit copy (a fraction of a level in what is removed).
  const source = new Uint8Array(3 * n);
  for (let i = 0; i < 3 * n; i++) source[i] = Math.round(255 * Math.min(1, Math.max(0, data[i])));
  // √Hann (periodic): analysis × synthesis is a Hann window, whose copies at half a window sum to 1.
  const taper = Float64Array.from({ length: N }, (_, k) => Math.sin((Math.PI * k) / N));
  const centre = (N - 1) / 2;
  // Σ (x − centre)² over the window's N² pixels.
  const moment = (N * N * (N * N - 1)) / 12;
  const { ring, members } = ringsOf(N);
  const ringLevel = new Float64Array(members.length);
  const scratch = new Float64Array(N * N);
  // Two complex transforms carry four real planes: red + i·green, blue + i·luminance.
  const re1 = new Float64Array(N * N);
  const im1 = new Float64Array(N * N);
  const re2 = new Float64Array(N * N);
  const im2 = new Float64Array(N * N);
  const raw = new Float64Array(N * N);
  const power = new Float64Array(N * N);
  const gain = new Float64Array(N * N);
  let windows = 0;
  for (let y0 = -hop; y0 < h; y0 += hop) {
    for (let x0 = -hop; x0 < w; x0 += hop) {
      let weight = 0;
      for (let y = Math.max(0, y0); y < Math.min(h, y0 + N); y++) {
        for (let x = Math.max(0, x0); x < Math.min(w, x0 + N); x++) weight = Math.max(weight, mask[y * w + x]);
      }
      if (weight < 0.01) continue;
      // Each channel less its plane (mean and slopes) over the window: the picture's gradients
      // would otherwise leak along the axes of the spectrum and read as peaks.
      const planes = [0, 1, 2].map((c) => {
        let sum = 0;
        let sx = 0;
        let sy = 0;
        for (let y = 0; y < N; y++) {
          const row = c * n + mirror(y0 + y, h) * w;
          for (let x = 0; x < N; x++) {
            const v = source[row + mirror(x0 + x, w)];
            sum += v;
            sx += (x - centre) * v;
            sy += (y - centre) * v;
          }
        }
        return { mean: sum / (N * N), dx: sx / moment, dy: sy / moment };
      });
      const [pr, pg, pb] = planes;
      for (let y = 0; y < N; y++) {
        const row = mirror(y0 + y, h) * w;
        for (let x = 0; x < N; x++) {
          const i = row + mirror(x0 + x, w);
          const u = x - centre;
          const v = y - centre;
          const r = source[i] - pr.mean - pr.dx * u - pr.dy * v;
          const g = source[n + i] - pg.mean - pg.dx * u - pg.dy * v;
          const b = source[2 * n + i] - pb.mean - pb.dx * u - pb.dy * v;
          const t = taper[y] * taper[x];
          const k = y * N + x;
          re1[k] = r * t;
          im1[k] = g * t;
          re2[k] = b * t;
          // The luminance, which decides the peaks, through a Hann window (lower side lobes).
          im2[k] = (0.299 * r + 0.587 * g + 0.114 * b) * t * t;
        }
      }
      fft2(re1, im1, N);
      fft2(re2, im2, N);
      // The luminance's spectrum from the blue + i·luminance transform: (F(k) − conj F(−k)) / 2i.
      for (let ky = 0; ky < N; ky++) {
        for (let kx = 0; kx < N; kx++) {
          const k = ky * N + kx;
          const m = ((N - ky) % N) * N + ((N - kx) % N);
          const lr = (im2[k] + im2[m]) / 2;
          const li = (re2[m] - re2[k]) / 2;
          raw[k] = lr * lr + li * li;
        }
      }
      // Averaged over 3×3 neighbouring frequencies: a random texture's single frequencies scatter
      // (exponentially, about half of them above the median), a weave's peak stands out as a whole.
      for (let ky = 0; ky < N; ky++) {
        for (let kx = 0; kx < N; kx++) {
          let s = 0;
          for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += raw[((ky + dy + N) % N) * N + ((kx + dx + N) % N)];
          power[ky * N + kx] = s / 9;
        }
      }
      for (let r = 0; r < members.length; r++) {
        const list = members[r];
        const values = scratch.subarray(0, list.length);
        for (let j = 0; j < list.length; j++) values[j] = raw[list[j]];
        values.sort();
        ringLevel[r] = values[list.length >> 1];
      }
      let changed = false;
      for (let k = 0; k < N * N; k++) {
        // A peak's frequencies are brought down to their ring's median power (the level of the
        // texture around them). gain − 1: the windows add only what they take away.
        const level = ringLevel[ring[k]];
        gain[k] = ring[k] >= rule.minRing && power[k] > rule.above * level && raw[k] > level ? Math.sqrt(level / raw[k]) - 1 : 0;
        if (gain[k]) changed = true;
      }
      if (!changed) continue;
      windows++;
      for (let k = 0; k < N * N; k++) {
        re1[k] *= gain[k];
        im1[k] *= gain[k];
        re2[k] *= gain[k];
        im2[k] *= gain[k];
      }
      fft2(re1, im1, N, true);
      fft2(re2, im2, N, true);
      for (let y = Math.max(0, -y0); y < Math.min(N, h - y0); y++) {
        for (let x = Math.max(0, -x0); x < Math.min(N, w - x0); x++) {
          const i = (y0 + y) * w + x0 + x;
          const t = (mask[i] * taper[y] * taper[x]) / 255;
          const k = y * N + x;
          data[i] += re1[k] * t;
          data[n + i] += im1[k] * t;
          data[2 * n + i] += re2[k] * t;
        }
      }
    }
  }
  for (let i = 0; i < 3 * n; i++) data[i] = Math.min(1, Math.max(0, data[i]));
  return { image: output, windows };
}
