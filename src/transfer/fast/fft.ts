/**
 * The 2-D DFT of square power-of-two blocks (row-major, separate real and imaginary planes) for the
 * fast styles' windowed spectral filters: rows then columns through fft.js's 1-D radix-4 transform.
 */
import FFT from 'fft.js';

/** One fft.js transform and its interleaved in/out buffers per block size. */
interface Plan {
  fft: FFT;
  input: number[];
  output: number[];
}

const plans = new Map<number, Plan>();

function planFor(n: number): Plan {
  let plan = plans.get(n);
  if (plan) return plan;
  if (n < 2 || (n & (n - 1)) !== 0) throw new Error(`fft: length ${n} is not a power of two`);
  const fft = new FFT(n);
  plan = { fft, input: fft.createComplexArray(), output: fft.createComplexArray() };
  plans.set(n, plan);
  return plan;
}

/** One 1-D transform of the n values at offset, offset + stride, …; fft.js's inverse includes 1/n. */
function transformLine(re: Float64Array, im: Float64Array, offset: number, stride: number, plan: Plan, inverse: boolean): void {
  const { fft, input, output } = plan;
  const n = fft.size;
  for (let i = 0; i < n; i++) {
    input[2 * i] = re[offset + i * stride];
    input[2 * i + 1] = im[offset + i * stride];
  }
  if (inverse) fft.inverseTransform(output, input);
  else fft.transform(output, input);
  for (let i = 0; i < n; i++) {
    re[offset + i * stride] = output[2 * i];
    im[offset + i * stride] = output[2 * i + 1];
  }
}

/** The 2-D DFT of an n × n block in place; `inverse` includes the 1/n² scale. */
export function fft2(re: Float64Array, im: Float64Array, n: number, inverse = false): void {
  const plan = planFor(n);
  for (let y = 0; y < n; y++) transformLine(re, im, y * n, 1, plan, inverse);
  for (let x = 0; x < n; x++) transformLine(re, im, x, n, plan, inverse);
}
