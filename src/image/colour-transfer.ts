/**
 * Colour statistics matching (Gatys et al. 2017, "Controlling Perceptual Factors", §4): an affine
 * map x' = A (x − μ_s) + μ_t with A = Σ_t^½ Σ_s^−½ gives the source image the mean and the 3×3
 * colour covariance of the target image. Used to recolour the style painting with the photo's
 * colours before transfer, so the result keeps the photo's colours.
 */
import type { RgbImage } from './load';

type Mat3 = number[][];

/** Mean and covariance of the RGB values. */
export function colourMoments(image: RgbImage): { mean: number[]; cov: Mat3 } {
  const n = image.width * image.height;
  const d = image.data;
  const mean = [0, 1, 2].map((c) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[c * n + i];
    return s / n;
  });
  const cov: Mat3 = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (let a = 0; a < 3; a++) {
    for (let b = a; b < 3; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += (d[a * n + i] - mean[a]) * (d[b * n + i] - mean[b]);
      cov[a][b] = cov[b][a] = s / n;
    }
  }
  return { mean, cov };
}

export type ColourMoments = ReturnType<typeof colourMoments>;

/** Recolours `source` so its colour mean and covariance equal those of `target` (not clamped). */
export function matchColourStatistics(source: RgbImage, target: RgbImage): RgbImage {
  return matchColourMoments(source, colourMoments(target));
}

/** Recolours `source` to the given colour mean and covariance (not clamped). */
export function matchColourMoments(source: RgbImage, t: ColourMoments): RgbImage {
  const s = colourMoments(source);
  const a = matMul(symmetricPower(t.cov, 0.5), symmetricPower(s.cov, -0.5));
  const n = source.width * source.height;
  const out = new Float32Array(source.data.length);
  for (let i = 0; i < n; i++) {
    const x = [0, 1, 2].map((c) => source.data[c * n + i] - s.mean[c]);
    for (let c = 0; c < 3; c++) out[c * n + i] = a[c][0] * x[0] + a[c][1] * x[1] + a[c][2] * x[2] + t.mean[c];
  }
  return { width: source.width, height: source.height, data: out };
}

function matMul(a: Mat3, b: Mat3): Mat3 {
  return a.map((row) => [0, 1, 2].map((j) => row[0] * b[0][j] + row[1] * b[1][j] + row[2] * b[2][j]));
}

/** M^p for a symmetric positive semi-definite 3×3 matrix, by Jacobi eigen-decomposition. */
function symmetricPower(m: Mat3, p: number): Mat3 {
  const { values, vectors } = jacobiEigen(m);
  // A small floor keeps flat (single-colour) images from blowing up under M^-½.
  const powered = values.map((v) => Math.pow(Math.max(v, 1e-6), p));
  const out: Mat3 = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) out[i][j] = [0, 1, 2].reduce((s, k) => s + vectors[i][k] * powered[k] * vectors[j][k], 0);
  return out;
}

function jacobiEigen(input: Mat3): { values: number[]; vectors: Mat3 } {
  const a = input.map((r) => [...r]);
  const v: Mat3 = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = Math.abs(a[0][1]) + Math.abs(a[0][2]) + Math.abs(a[1][2]);
    if (off < 1e-15) break;
    for (let p = 0; p < 2; p++) {
      for (let q = p + 1; q < 3; q++) {
        if (Math.abs(a[p][q]) < 1e-18) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 3; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < 3; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 3; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: [a[0][0], a[1][1], a[2][2]], vectors: v };
}
