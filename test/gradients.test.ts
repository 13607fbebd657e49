/**
 * Autograd checks: analytic gradients of the engine's ops and of the losses (src/losses) against
 * central finite differences in float32, plus the semantics of gradients(), backward(), grad(),
 * variable(), zeroGrad() and noGrad().
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  avgPool2d,
  conv2d,
  gradients,
  keep,
  liveTensors,
  maxPool2d,
  mseLoss,
  noGrad,
  pad,
  resize,
  tensor,
  Tensor,
  tidy,
} from '../src/engine';
import { contentLoss, gramMatrix, styleLoss, totalVariation } from '../src/losses';
import { engineSuite, rng, uniform } from './helpers/numeric';

// ---------------------------------------------------------------------------------------------
// helpers



/** n distinct values spread over [-1, 1] in random order, spacing 2/(n−1) (no ties for max-pooling). */
function separated(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return Float32Array.from(idx, (k) => -1 + (2 * k) / (n - 1));
}

function prod(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

interface Input {
  shape: number[];
  data: Float32Array;
}

interface GradCheckOptions {
  eps?: number;
  rtol?: number;
  /** Coordinates to check per input. */
  coords?: number;
  seed?: number;
  /** Skip coordinates where the one-sided differences disagree (a kink of relu / max was crossed). */
  skipKinks?: boolean;
  /** Coordinates that must be skipped (e.g. too close to a relu kink). */
  exclude?: (input: number, index: number) => boolean;
}

/**
 * Checks d f / d inputs from autograd against central differences at a few random coordinates of
 * each input. f builds a scalar tensor from tensors of the inputs. Returns the number checked.
 */
function gradCheck(f: (xs: Tensor[]) => Tensor, inputs: Input[], options: GradCheckOptions = {}): number {
  const eps = options.eps ?? 1e-2;
  const rtol = options.rtol ?? 1e-2;
  const coords = options.coords ?? 6;
  const r = rng(options.seed ?? 12345);
  const evalAt = (datas: Float32Array[]): number =>
    noGrad(() => tidy(() => f(datas.map((d, i) => tensor(d, inputs[i].shape))).item()));

  const analytic = tidy(() => {
    const xs = inputs.map((inp) => tensor(inp.data, inp.shape).variable());
    const out = f(xs);
    assert.deepEqual(out.shape, [], 'the checked function must return a scalar');
    assert.equal(out.requiresGrad, true);
    return gradients([out], xs).map((g, i) => {
      assert.ok(g, `input ${i} has no gradient`);
      assert.deepEqual(g.shape, inputs[i].shape);
      return g.data();
    });
  });

  let checked = 0;
  inputs.forEach((inp, k) => {
    const g = analytic[k];
    const gmax = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(gmax > 0, `input ${k}: gradient is identically zero`);
    let tries = 0;
    let done = 0;
    while (done < Math.min(coords, inp.data.length) && tries < 20 * coords) {
      tries++;
      const i = Math.floor(r() * inp.data.length);
      if (options.exclude?.(k, i)) continue;
      const datas = inputs.map((x) => x.data);
      const plus = Float32Array.from(inp.data);
      const minus = Float32Array.from(inp.data);
      plus[i] += eps;
      minus[i] -= eps;
      const fp = evalAt(datas.map((d, j) => (j === k ? plus : d)));
      const fm = evalAt(datas.map((d, j) => (j === k ? minus : d)));
      const fd = (fp - fm) / (plus[i] - minus[i]);
      if (options.skipKinks) {
        const f0 = evalAt(datas);
        const fwd = (fp - f0) / (plus[i] - inp.data[i]);
        const bwd = (f0 - fm) / (inp.data[i] - minus[i]);
        if (Math.abs(fwd - bwd) > 0.05 * Math.max(Math.abs(fwd), Math.abs(bwd)) + 1e-3 * gmax) continue;
      }
      const tol = rtol * Math.max(Math.abs(g[i]), Math.abs(fd)) + 1e-3 * gmax;
      assert.ok(Math.abs(g[i] - fd) <= tol, `input ${k}[${i}]: autograd ${g[i]} vs finite difference ${fd}`);
      done++;
      checked++;
    }
    assert.ok(done >= Math.min(coords, inp.data.length) / 2, `input ${k}: only ${done} coordinates could be checked`);
  });
  return checked;
}

/** Weighted sum Σ out·R with fixed random weights R, so every output element matters differently. */
function weightedSum(out: Tensor, seed: number): Tensor {
  return out.mul(tensor(uniform(out.size, seed), out.shape)).sum();
}

function input(shape: number[], seed: number, gen: (n: number, s: number) => Float32Array = uniform): Input {
  return { shape, data: gen(prod(shape), seed) };
}

engineSuite('gradient');

// ---------------------------------------------------------------------------------------------

describe('finite-difference checks of op gradients', () => {
  test('conv2d: input, weight and bias (stride 2, padding 1)', () => {
    const n = gradCheck(
      ([x, w, b]) => weightedSum(conv2d(x, w, b, 2, 1), 1),
      [input([1, 2, 6, 5], 2), input([3, 2, 3, 3], 3), input([3], 4)],
    );
    assert.equal(n, 6 + 6 + 3);
  });

  test('conv2d: stride 1, no padding, no bias', () => {
    gradCheck(([x, w]) => weightedSum(conv2d(x, w, null), 5), [input([2, 3, 5, 5], 6), input([2, 3, 2, 2], 7)]);
  });

  test('maxPool2d (kernel 2, and overlapping kernel 3 stride 2)', () => {
    // distinct values 2/71 apart: a ±eps/2 perturbation never changes which element is the max
    const x = input([1, 2, 6, 6], 8, separated);
    gradCheck(([t]) => weightedSum(maxPool2d(t, 2), 9), [x], { eps: 5e-3, coords: 10 });
    gradCheck(([t]) => weightedSum(maxPool2d(t, 3, 2), 10), [x], { eps: 5e-3, coords: 10 });
  });

  test('maxPool2d routes the gradient to the window maximum only', () => {
    tidy(() => {
      const x = tensor([1, 5, 2, 0, -1, 3, 8, 4, 7, 6, -2, -3, 0, 2, 9, 1], [1, 1, 4, 4]).variable();
      const [g] = gradients([maxPool2d(x, 2).mul(tensor([1, 2, 3, 4], [1, 1, 2, 2])).sum()], [x]);
      assert.deepEqual(Array.from(g!.data()), [0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4, 0]);
    });
  });

  test('avgPool2d (kernel 2, and overlapping kernel 3 stride 1)', () => {
    gradCheck(([t]) => weightedSum(avgPool2d(t, 2), 11), [input([1, 2, 6, 6], 12)]);
    gradCheck(([t]) => weightedSum(avgPool2d(t, 3, 1), 13), [input([1, 2, 6, 6], 14)]);
  });

  test('relu (coordinates away from 0) and its exact gradient', () => {
    const x = input([2, 3, 4], 15);
    gradCheck(([t]) => weightedSum(t.relu(), 16), [x], { coords: 10, exclude: (_k, i) => Math.abs(x.data[i]) < 0.05 });
    tidy(() => {
      const t = tensor([-2, -0.5, 0.5, 3], [4]).variable();
      const [g] = gradients([t.relu().mul(tensor([1, 2, 3, 4], [4])).sum()], [t]);
      assert.deepEqual(Array.from(g!.data()), [0, 0, 3, 4]);
    });
  });

  test('tanh, and its exact gradient 1 − tanh²', () => {
    gradCheck(([t]) => weightedSum(t.mul(2).tanh(), 17), [input([3, 5], 18)], { coords: 8 });
    tidy(() => {
      const v = [-1.5, -0.2, 0, 0.7, 2].map(Math.fround);
      const t = tensor(v, [5]).variable();
      const [g] = gradients([t.tanh().sum()], [t]);
      g!.data().forEach((gi, i) => assert.ok(Math.abs(gi - (1 - Math.tanh(v[i]) ** 2)) < 1e-6, `tanh'(${v[i]})`));
    });
  });

  test('pad reflect', () => {
    gradCheck(([t]) => weightedSum(pad(t, [2, 1, 1, 2], 'reflect'), 19), [input([1, 2, 4, 5], 20)], { coords: 10 });
  });

  test('pad reflect accumulates the gradient of mirrored pixels', () => {
    tidy(() => {
      // [1 2 3] padded reflect by 1 on both sides → [2 1 2 3 2]: x1 appears once, x2 three times
      const t = tensor([1, 2, 3], [1, 1, 1, 3]).variable();
      const [g] = gradients([pad(t, [1, 1, 0, 0], 'reflect').sum()], [t]);
      assert.deepEqual(Array.from(g!.data()), [1, 3, 1]);
    });
  });

  test('resize bilinear (upsampling and downsampling)', () => {
    gradCheck(([t]) => weightedSum(resize(t, 7, 9), 21), [input([1, 2, 4, 5], 22)], { coords: 8 });
    gradCheck(([t]) => weightedSum(resize(t, 3, 4), 23), [input([1, 2, 6, 6], 24)], { coords: 8 });
  });

  test('resize bilinear 2×2 → 4×4: the gradient of the sum is 4 per pixel', () => {
    tidy(() => {
      const t = tensor([1, 2, 3, 4], [1, 1, 2, 2]).variable();
      const [g] = gradients([resize(t, 4, 4).sum()], [t]);
      // weights per axis: [1,0],[.75,.25],[.25,.75],[0,1] → each source pixel gets 2·2 = 4
      assert.deepEqual(Array.from(g!.data()), [4, 4, 4, 4]);
    });
  });
});

describe('finite-difference checks of the losses', () => {
  test('gramMatrix', () => {
    // scale up: the Gram matrix divides by C·H·W
    gradCheck(([f]) => weightedSum(gramMatrix(f), 30).mul(100), [input([1, 3, 4, 5], 31)], { coords: 8 });
  });

  test('gramMatrix value: F Fᵀ / (C·H·W)', () => {
    tidy(() => {
      const f = tensor([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
      const g = gramMatrix(f);
      assert.deepEqual(g.shape, [2, 2]);
      const n = 2 * 2 * 2;
      assert.deepEqual(Array.from(g.data()), [30 / n, 70 / n, 70 / n, 174 / n]);
    });
  });

  test('styleLoss (features and target Gram)', () => {
    const feat = input([1, 4, 3, 5], 32);
    const targetGram: Input = { shape: [4, 4], data: uniform(16, 33).map((v) => v * 0.3) };
    gradCheck(([f, a]) => styleLoss(f, a, 1000), [feat, targetGram], { coords: 8 });
  });

  test('contentLoss, and its exact gradient 2·w·(F − P)/N', () => {
    const f = input([1, 3, 4, 4], 34);
    const p = input([1, 3, 4, 4], 35);
    gradCheck(([a, b]) => contentLoss(a, b, 10), [f, p], { coords: 8 });
    tidy(() => {
      const x = tensor(f.data, f.shape).variable();
      const loss = contentLoss(x, tensor(p.data, p.shape), 10);
      const n = f.data.length;
      const expectedLoss = (10 * f.data.reduce((acc, v, i) => acc + (v - p.data[i]) ** 2, 0)) / n;
      assert.ok(Math.abs(loss.item() - expectedLoss) < 1e-5 * expectedLoss);
      const [g] = gradients([loss], [x]);
      g!.data().forEach((gi, i) => {
        const e = (2 * 10 * (f.data[i] - p.data[i])) / n;
        assert.ok(Math.abs(gi - e) < 1e-6 + 1e-5 * Math.abs(e), `[${i}] ${gi} vs ${e}`);
      });
    });
  });

  test('totalVariation, and its exact value and gradient', () => {
    const x = input([1, 2, 4, 5], 36);
    gradCheck(([t]) => totalVariation(t), [x], { coords: 10 });
    tidy(() => {
      const [, c, h, w] = x.shape;
      const at = (ci: number, y: number, xx: number) => x.data[(ci * h + y) * w + xx];
      let tv = 0;
      const g = new Float64Array(x.data.length);
      const idx = (ci: number, y: number, xx: number) => (ci * h + y) * w + xx;
      for (let ci = 0; ci < c; ci++)
        for (let y = 0; y < h; y++)
          for (let xx = 0; xx < w; xx++) {
            if (y + 1 < h) {
              const d = at(ci, y + 1, xx) - at(ci, y, xx);
              tv += d * d;
              g[idx(ci, y + 1, xx)] += 2 * d;
              g[idx(ci, y, xx)] -= 2 * d;
            }
            if (xx + 1 < w) {
              const d = at(ci, y, xx + 1) - at(ci, y, xx);
              tv += d * d;
              g[idx(ci, y, xx + 1)] += 2 * d;
              g[idx(ci, y, xx)] -= 2 * d;
            }
          }
      const t = tensor(x.data, x.shape).variable();
      const loss = totalVariation(t);
      assert.ok(Math.abs(loss.item() - tv) < 1e-5 * tv, `tv ${loss.item()} vs ${tv}`);
      const [gt] = gradients([loss], [t]);
      gt!.data().forEach((gi, i) => assert.ok(Math.abs(gi - g[i]) < 1e-5, `[${i}] ${gi} vs ${g[i]}`));
    });
  });

  test('composite conv → relu → maxPool → gram → mse', () => {
    const target: Input = { shape: [4, 4], data: uniform(16, 40).map((v) => v * 0.1) };
    const n = gradCheck(
      ([x, w]) => mseLoss(gramMatrix(maxPool2d(conv2d(x, w, null, 1, 1).relu(), 2)), tensor(target.data, target.shape)).mul(1000),
      [input([1, 3, 6, 6], 41), input([4, 3, 3, 3], 42)],
      { coords: 8, eps: 2e-3, skipKinks: true, rtol: 2e-2 },
    );
    assert.ok(n >= 8, `only ${n} coordinates checked`);
  });
});

describe('autograd API semantics', () => {
  test('gradients([out], [in]) equals backward() + grad(), and leaves .grad untouched', () => {
    tidy(() => {
      const xd = uniform(2 * 3 * 5 * 5, 50);
      const wd = uniform(4 * 3 * 3 * 3, 51);
      const loss = (x: Tensor, w: Tensor) => conv2d(x, w, null, 1, 1).tanh().square().mean();
      const x1 = tensor(xd, [2, 3, 5, 5]).variable();
      const w1 = tensor(wd, [4, 3, 3, 3]).variable();
      const [gx, gw] = gradients([loss(x1, w1)], [x1, w1]);
      assert.equal(x1.grad(), null, 'gradients() must not fill .grad');
      assert.equal(w1.grad(), null);

      const x2 = tensor(xd, [2, 3, 5, 5]).variable();
      const w2 = tensor(wd, [4, 3, 3, 3]).variable();
      loss(x2, w2).backward();
      assert.deepEqual(Array.from(x2.grad()!.data()), Array.from(gx!.data()));
      assert.deepEqual(Array.from(w2.grad()!.data()), Array.from(gw!.data()));
      assert.equal(gx!.requiresGrad, false, 'gradients are not themselves differentiable');
      assert.ok(gx!.norm().item() > 0);
    });
  });

  test('gradients() of several outputs is the gradient of their sum; unused inputs give null', () => {
    tidy(() => {
      const x = tensor([1, 2, 3], [3]).variable();
      const unused = tensor([1], [1]).variable();
      const [g, gu] = gradients([x.square().sum(), x.mul(3).sum()], [x, unused]);
      assert.deepEqual(Array.from(g!.data()), [2 + 3, 4 + 3, 6 + 3]);
      assert.equal(gu, null);
    });
  });

  test('variable(): flags a leaf, returns it, variable(false) clears; requiresGrad propagates', () => {
    tidy(() => {
      const x = tensor([1, 2], [2]);
      assert.equal(x.requiresGrad, false);
      assert.equal(x.variable(), x);
      assert.equal(x.requiresGrad, true);
      const c = tensor([3, 4], [2]);
      assert.equal(x.mul(c).requiresGrad, true);
      assert.equal(c.mul(2).requiresGrad, false);
      assert.equal(x.detach().requiresGrad, false);
      assert.equal(x.clone().requiresGrad, true);
      assert.equal(x.grad(), null, 'no gradient before backward');
      x.variable(false);
      assert.equal(x.requiresGrad, false);
      assert.equal(x.mul(c).requiresGrad, false);
      // a non-leaf cannot stop requiring grad (libtorch's C++ API ignores the request where Python
      // would throw): either way its graph is not silently cut
      const y = tensor([1], [1]).variable().mul(2);
      try {
        y.variable(false);
      } catch (err) {
        assert.match((err as Error).message, /libtorch:/);
      }
      assert.equal(y.requiresGrad, true);
    });
  });

  test('backward() accumulates into grad(); zeroGrad() clears it', () => {
    tidy(() => {
      const x = tensor([1, -2, 3], [3]).variable();
      const loss = () => x.square().sum(); // d/dx = 2x
      loss().backward();
      assert.deepEqual(Array.from(x.grad()!.data()), [2, -4, 6]);
      loss().backward();
      assert.deepEqual(Array.from(x.grad()!.data()), [4, -8, 12], 'second backward accumulates');
      x.zeroGrad();
      assert.equal(x.grad(), null, 'zeroGrad() resets the gradient');
      x.mul(tensor([1, 2, 3], [3])).sum().backward();
      assert.deepEqual(Array.from(x.grad()!.data()), [1, 2, 3], 'fresh gradient after zeroGrad');
      // zeroGrad on a tensor without a gradient is harmless
      const y = tensor([1], [1]).variable();
      y.zeroGrad();
      assert.equal(y.grad(), null);
    });
  });

  test('grad() of a variable is a snapshot wrapper of the accumulated gradient', () => {
    tidy(() => {
      const x = tensor([1, 2], [2]).variable();
      x.mul(5).sum().backward();
      const g = x.grad()!;
      assert.deepEqual(g.shape, [2]);
      assert.equal(g.requiresGrad, false);
      assert.deepEqual(Array.from(g.data()), [5, 5]);
      g.dispose();
      // disposing the wrapper does not drop the gradient itself
      assert.deepEqual(Array.from(x.grad()!.data()), [5, 5]);
    });
  });

  test('backward() of a non-scalar or a constant throws a libtorch error', () => {
    tidy(() => {
      const x = tensor([1, 2], [2]).variable();
      assert.throws(() => x.mul(2).backward(), /libtorch: .*scalar/);
      assert.throws(() => tensor([1], [1]).sum().backward(), /libtorch:/);
    });
  });

  test('noGrad(): results do not require grad, the mode is restored (also after a throw, nested)', () => {
    tidy(() => {
      const x = tensor([1, 2], [2]).variable();
      const inside = noGrad(() => {
        const y = x.mul(2).add(1);
        assert.equal(y.requiresGrad, false);
        // nested noGrad keeps it off and does not re-enable on exit
        noGrad(() => assert.equal(x.square().requiresGrad, false));
        assert.equal(x.exp().requiresGrad, false);
        return y;
      });
      assert.deepEqual(Array.from(inside.data()), [3, 5]);
      assert.equal(inside.requiresGrad, false);
      assert.equal(x.requiresGrad, true, 'the variable itself keeps its flag');
      assert.equal(x.mul(2).requiresGrad, true, 'grad mode is back on after noGrad');
      assert.throws(() => noGrad(() => {
        throw new Error('boom');
      }), /boom/);
      assert.equal(x.mul(2).requiresGrad, true, 'grad mode is back on after a throw');
      // noGrad returns the function's value
      assert.equal(noGrad(() => 42), 42);
    });
  });
});

describe('gradient memory', () => {
  test('repeated gradients() in tidy loops does not leak', () => {
    const x = keep(tensor(uniform(3 * 8 * 8, 60), [1, 3, 8, 8]).variable());
    const before = liveTensors();
    let last = 0;
    for (let i = 0; i < 20; i++) {
      last = tidy(() => {
        const [g] = gradients([totalVariation(x).add(gramMatrix(x).sum())], [x]);
        return g!.norm().item();
      });
      assert.equal(liveTensors(), before);
    }
    assert.ok(last > 0);
    x.dispose();
  });
});
