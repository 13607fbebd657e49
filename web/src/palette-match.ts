/**
 * The painting's palette on a fitted style's output, as the server finishes it: the output's OkLAB
 * colours are moved part of the way (`amount`, 0–1) toward the painting's OkLAB mean and 3×3
 * covariance (the ZCA map x' = Σ_t^½ Σ_s^−½ (x − μ_s) + μ_t), clamped, and blended with the output.
 *
 * Server twins, line for line (the page cannot import src/: no bundler, CommonJS there):
 * src/transfer/arbitrary/palette-match.ts (matchPalette), src/image/oklab-colour-match.ts (the
 * OkLAB conversions) and src/image/colour-transfer.ts (moments, Jacobi eigen-decomposition). The
 * same Float32Array steps, so that the page gets the server's pixels (test/web-any-painting.test.ts).
 * The palette itself comes from the server (GET /api/styles/:name/vector's `finish.palette`).
 */

type Mat3 = number[][];

/** An OkLAB colour mean and covariance (the server's ColourMoments). */
export interface Palette {
  mean: number[];
  cov: Mat3;
}

/** Planar RGB in [0,1] (R plane, G plane, B plane), as the server's RgbImage. */
export interface PlanarImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** (1 − amount)·output + amount·(output recoloured to the palette); amount 0 returns the output itself. */
export function matchPalette(output: PlanarImage, palette: Palette, amount: number): PlanarImage {
  if (amount === 0) return output;
  const matched = matchOklabMoments(output, palette).data;
  const d = output.data;
  return { width: output.width, height: output.height, data: d.map((x, i) => (1 - amount) * x + amount * matched[i]) };
}

/** `source` recoloured to the given OkLAB moments, clamped to [0,1]. */
function matchOklabMoments(source: PlanarImage, target: Palette): PlanarImage {
  const out = oklabToRgb(matchColourMoments(rgbToOklab(source), target));
  const d = out.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i] < 0 ? 0 : d[i] > 1 ? 1 : d[i];
  return out;
}

function srgbToLinear(v: number): number {
  if (v < 0) return -srgbToLinear(-v);
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

function linearToSrgb(v: number): number {
  if (v < 0) return -linearToSrgb(-v);
  return v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
}

/** Ottosson's matrices (linear sRGB → LMS, cube-rooted LMS → Lab) and their inverses. */
const RGB_TO_LMS = [
  [0.4122214708, 0.5363325363, 0.0514459929],
  [0.2119034982, 0.6806995451, 0.1073969566],
  [0.0883024619, 0.2817188376, 0.6299787005],
];
const LMS_TO_LAB = [
  [0.2104542553, 0.793617785, -0.0040720468],
  [1.9779984951, -2.428592205, 0.4505937099],
  [0.0259040371, 0.7827717662, -0.808675766],
];
const LAB_TO_LMS = [
  [1, 0.3963377774, 0.2158037573],
  [1, -0.1055613458, -0.0638541728],
  [1, -0.0894841775, -1.291485548],
];
const LMS_TO_RGB = [
  [4.0767416621, -3.3077115913, 0.2309699292],
  [-1.2684380046, 2.6097574011, -0.3413193965],
  [-0.0041960863, -0.7034186147, 1.707614701],
];

function apply(m: Mat3, a: number, b: number, c: number, out: number[]): void {
  for (let r = 0; r < 3; r++) out[r] = m[r][0] * a + m[r][1] * b + m[r][2] * c;
}

function rgbToOklab(image: PlanarImage): PlanarImage {
  const n = image.width * image.height;
  const d = image.data;
  const out = new Float32Array(3 * n);
  const lms = [0, 0, 0];
  const lab = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    apply(RGB_TO_LMS, srgbToLinear(d[i]), srgbToLinear(d[n + i]), srgbToLinear(d[2 * n + i]), lms);
    apply(LMS_TO_LAB, Math.cbrt(lms[0]), Math.cbrt(lms[1]), Math.cbrt(lms[2]), lab);
    out[i] = lab[0];
    out[n + i] = lab[1];
    out[2 * n + i] = lab[2];
  }
  return { width: image.width, height: image.height, data: out };
}

function oklabToRgb(image: PlanarImage): PlanarImage {
  const n = image.width * image.height;
  const d = image.data;
  const out = new Float32Array(3 * n);
  const lms = [0, 0, 0];
  const rgb = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    apply(LAB_TO_LMS, d[i], d[n + i], d[2 * n + i], lms);
    apply(LMS_TO_RGB, lms[0] ** 3, lms[1] ** 3, lms[2] ** 3, rgb);
    out[i] = linearToSrgb(rgb[0]);
    out[n + i] = linearToSrgb(rgb[1]);
    out[2 * n + i] = linearToSrgb(rgb[2]);
  }
  return { width: image.width, height: image.height, data: out };
}

function colourMoments(image: PlanarImage): Palette {
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

function matchColourMoments(source: PlanarImage, t: Palette): PlanarImage {
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

/** M^p for a symmetric positive semi-definite 3×3 matrix (eigenvalues floored at 1e-6). */
function symmetricPower(m: Mat3, p: number): Mat3 {
  const { values, vectors } = jacobiEigen(m);
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
