/**
 * An in-place radix-2 complex FFT of square power-of-two blocks (row-major, separate real and
 * imaginary planes), enough for the fast styles' windowed spectral filters.
 */

/** Twiddle factors and the bit-reversal permutation for length n, built once per size. */
interface Plan {
  n: number;
  cos: Float64Array;
  sin: Float64Array;
  reversed: Uint32Array;
}

const plans = new Map<number, Plan>();

function planFor(n: number): Plan {
  let plan = plans.get(n);
  if (plan) return plan;
  if (n < 2 || (n & (n - 1)) !== 0) throw new Error(`fft: length ${n} is not a power of two`);
  const bits = Math.log2(n);
  const reversed = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    reversed[i] = r;
  }
  const cos = Float64Array.from({ length: n / 2 }, (_, k) => Math.cos((2 * Math.PI * k) / n));
  const sin = Float64Array.from({ length: n / 2 }, (_, k) => Math.sin((2 * Math.PI * k) / n));
  plan = { n, cos, sin, reversed };
  plans.set(n, plan);
  return plan;
}

/** One 1-D transform of the n values at offset, offset + stride, … ; inverse without the 1/n. */
function fft1(re: Float64Array, im: Float64Array, offset: number, stride: number, plan: Plan, inverse: boolean): void {
  const { n, cos, sin, reversed } = plan;
  for (let i = 0; i < n; i++) {
    const j = reversed[i];
    if (j > i) {
      const a = offset + i * stride;
      const b = offset + j * stride;
      let t = re[a];
      re[a] = re[b];
      re[b] = t;
      t = im[a];
      im[a] = im[b];
      im[b] = t;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sign * sin[k * step];
        const a = offset + (start + k) * stride;
        const b = a + half * stride;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

/** The 2-D DFT of an n × n block in place; `inverse` includes the 1/n² scale. */
export function fft2(re: Float64Array, im: Float64Array, n: number, inverse = false): void {
  const plan = planFor(n);
  for (let y = 0; y < n; y++) fft1(re, im, y * n, 1, plan, inverse);
  for (let x = 0; x < n; x++) fft1(re, im, x, n, plan, inverse);
  if (inverse) {
    const scale = 1 / (n * n);
    for (let i = 0; i < n * n; i++) {
      re[i] *= scale;
      im[i] *= scale;
    }
  }
}
