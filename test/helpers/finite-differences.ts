/** Central finite differences of a scalar function of tensors, for checking autograd gradients. */
import assert from 'node:assert/strict';
import { gradients, noGrad, tensor, Tensor, tidy } from '../../src/engine';
import { rng } from './numeric';

export interface Input {
  shape: number[];
  data: Float32Array;
}

/**
 * Checks d f / d inputs[k] (autograd, float32) against central differences of step eps at
 * `coords` random coordinates of each input in `which`: |g − fd| ≤ rtol·max(|g|, |fd|) + atol·max|g|.
 */
export function checkGradient(
  f: (xs: Tensor[]) => Tensor,
  inputs: Input[],
  options: { which?: number[]; eps?: number; rtol?: number; atol?: number; coords?: number; seed?: number } = {},
): void {
  const { eps = 1e-3, rtol = 2e-2, atol = 2e-3, coords = 8 } = options;
  const which = options.which ?? inputs.map((_, i) => i);
  const r = rng(options.seed ?? 99);
  const at = (datas: Float32Array[]) => noGrad(() => tidy(() => f(datas.map((d, i) => tensor(d, inputs[i].shape))).item()));
  const analytic = tidy(() => {
    const xs = inputs.map((inp) => tensor(inp.data, inp.shape).variable());
    return gradients([f(xs)], which.map((k) => xs[k])).map((g) => g!.data());
  });
  which.forEach((k, j) => {
    const g = analytic[j];
    const gmax = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(gmax > 0, `input ${k}: the gradient is zero`);
    for (let n = 0; n < coords; n++) {
      const i = Math.floor(r() * g.length);
      const datas = inputs.map((x) => x.data);
      const plus = Float32Array.from(inputs[k].data);
      const minus = Float32Array.from(inputs[k].data);
      plus[i] += eps;
      minus[i] -= eps;
      const fd = (at(datas.map((d, m) => (m === k ? plus : d))) - at(datas.map((d, m) => (m === k ? minus : d)))) / (plus[i] - minus[i]);
      assert.ok(Math.abs(g[i] - fd) <= rtol * Math.max(Math.abs(g[i]), Math.abs(fd)) + atol * gmax, `input ${k}[${i}]: autograd ${g[i]} vs finite difference ${fd}`);
    }
  });
}
