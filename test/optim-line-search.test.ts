/**
 * The strong-Wolfe line search and the L-BFGS built on it: the Wolfe conditions on analytic
 * functions, torch.optim.LBFGS(line_search_fn='strong_wolfe')'s iterates (reference numbers made
 * by test/fixtures/optim/make-strong-wolfe-reference.py with Debian's python3-torch), and the box.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gradients, keep, liveTensors, tensor, Tensor, tidy } from '../src/engine';
import { Box, cubicInterpolate, LbfgsWolfe, strongWolfe, LinePoint } from '../src/optim';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { engineSuite } from './helpers/numeric';

engineSuite('line search');

const reference = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'optim', 'strong-wolfe-reference.json'), 'utf8'));

/** Extended Rosenbrock: Σ 100(x₂ᵢ₊₁ − x₂ᵢ²)² + (1 − x₂ᵢ)². */
function rosenbrock(x: Tensor): Tensor {
  const pairs = x.reshape([x.shape[0] / 2, 2]);
  const a = pairs.narrow(1, 0, 1);
  const b = pairs.narrow(1, 1, 1);
  return a.neg().add(1).square().add(b.sub(a.square()).square().mul(100)).sum();
}

const A = [1.0, 0.5, 3.0, 0.1, 2.0];
const B = [0.3, 2.0, 0.01, 1.0, 0.5];
const C = [1.0, -2.0, 0.5, 3.0, -0.25];
function quartic(x: Tensor): Tensor {
  const z = x.sub(tensor(C, [5]));
  return z.pow(4).mul(tensor(A, [5])).add(z.square().mul(tensor(B, [5]))).sum();
}

/** Runs a scalar function φ of t through the line search; returns the result and every trial. */
function searchScalar(phi: (t: number) => LinePoint, t0: number, options = {}) {
  const start = phi(0);
  const gen = strongWolfe(start.f, start.gtd, t0, 1, options);
  const trials: number[] = [];
  let r = gen.next();
  while (!r.done) {
    trials.push(r.value);
    r = gen.next(phi(r.value));
  }
  return { result: r.value, trials, start };
}

describe('strong-Wolfe line search', () => {
  const functions: { name: string; phi: (t: number) => LinePoint; t0: number[] }[] = [
    // a quadratic with its minimum at t = 2
    { name: 'quadratic', phi: (t) => ({ f: (t - 2) ** 2, gtd: 2 * (t - 2) }), t0: [0.01, 1, 5, 100] },
    // Rosenbrock along −∇ from (−1.2, 1)
    {
      name: 'rosenbrock',
      phi: (t) => {
        const g0 = [-215.6, -88];
        const x = -1.2 - t * g0[0];
        const y = 1 - t * g0[1];
        const f = 100 * (y - x * x) ** 2 + (1 - x) ** 2;
        const gx = -400 * x * (y - x * x) - 2 * (1 - x);
        const gy = 200 * (y - x * x);
        return { f, gtd: -(gx * g0[0] + gy * g0[1]) };
      },
      t0: [1e-4, 1e-3, 0.01, 1],
    },
    // a quartic with a flat start: needs extrapolation
    { name: 'quartic', phi: (t) => ({ f: (t - 3) ** 4, gtd: 4 * (t - 3) ** 3 }), t0: [1e-3, 0.5, 10] },
  ];
  for (const { name, phi, t0 } of functions) {
    test(`the accepted step satisfies the strong Wolfe conditions (${name})`, () => {
      for (const t of t0) {
        const { result, start } = searchScalar(phi, t);
        const end = phi(result.t);
        assert.ok(result.wolfe, `${name} from t0 = ${t}: no Wolfe point found (t = ${result.t})`);
        assert.ok(end.f <= start.f + 1e-4 * result.t * start.gtd, `${name} from t0 = ${t}: sufficient decrease fails at t = ${result.t}`);
        assert.ok(Math.abs(end.gtd) <= 0.9 * Math.abs(start.gtd), `${name} from t0 = ${t}: curvature fails at t = ${result.t}`);
        assert.equal(result.f, end.f);
      }
    });
  }

  test('an overflowing trial (f = ∞ or NaN) leads to a shorter, finite step', () => {
    for (const bad of [Infinity, NaN]) {
      const phi = (t: number): LinePoint => (t > 1 ? { f: bad, gtd: bad } : { f: (t - 0.5) ** 2, gtd: 2 * (t - 0.5) });
      const { result, trials } = searchScalar(phi, 4);
      assert.ok(result.t > 0 && result.t <= 1, `t = ${result.t} after trials ${trials}`);
      assert.ok(Number.isFinite(result.f));
      assert.ok(trials.length <= 25);
    }
  });

  test('cubic interpolation: the exact minimiser of a cubic, clamped to its bounds', () => {
    // f(t) = t³ − 3t: minimum at t = 1; f'(t) = 3t² − 3
    const f = (t: number) => t ** 3 - 3 * t;
    const g = (t: number) => 3 * t * t - 3;
    assert.ok(Math.abs(cubicInterpolate(0, f(0), g(0), 2, f(2), g(2)) - 1) < 1e-12);
    assert.ok(Math.abs(cubicInterpolate(2, f(2), g(2), 0, f(0), g(0)) - 1) < 1e-12);
    assert.equal(cubicInterpolate(0, f(0), g(0), 2, f(2), g(2), [1.5, 3]), 1.5);
    // no real minimum (d1² < g1·g2): the middle of the bounds
    assert.equal(cubicInterpolate(0, 0, 2, 1, 4 / 3, 2, [0, 4]), 2);
  });
});

describe('L-BFGS with strong-Wolfe line search', () => {
  for (const [name, fn, tolerance] of [
    ['rosenbrock', rosenbrock, 2e-3],
    ['quartic', quartic, 2e-3],
  ] as const) {
    test(`evaluates the same points as torch.optim.LBFGS(line_search_fn='strong_wolfe') (${name})`, () => {
      const ref = reference[name];
      const x = keep(tensor(ref.x0, [ref.x0.length]).variable());
      const opt = new LbfgsWolfe(x, { learningRate: ref.lr, history: ref.history, firstStep: 'torch' });
      try {
        ref.points.forEach((point: { x: number[]; f: number }, i: number) => {
          tidy(() => {
            const got = Array.from(x.data());
            const scale = Math.max(1, ...point.x.map(Math.abs));
            got.forEach((v, k) => assert.ok(Math.abs(v - point.x[k]) <= tolerance * scale, `${name} evaluation ${i + 1}: x = ${got} vs torch ${point.x}`));
            const l = fn(x);
            const [g] = gradients([l], [x]);
            const f = l.item();
            assert.ok(Math.abs(f - point.f) <= tolerance * Math.max(1, Math.abs(point.f)), `${name} evaluation ${i + 1}: f = ${f} vs torch ${point.f}`);
            opt.step(f, g!);
          });
        });
      } finally {
        opt.dispose();
        x.dispose();
      }
    });
  }

  test('reaches the Rosenbrock minimum; with the Polyak first step no evaluation exceeds the start', () => {
    const x = keep(tensor([-1.2, 1, -1.2, 1], [4]).variable());
    const base = liveTensors();
    const opt = new LbfgsWolfe(x, { history: 10 });
    const losses: number[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        tidy(() => {
          const l = rosenbrock(x);
          const [g] = gradients([l], [x]);
          losses.push(l.item());
          opt.step(l.item(), g!);
        });
      }
      const final = tidy(() => rosenbrock(x).item());
      assert.ok(final < 1e-8 || Math.min(...losses) < 1e-8, `final ${final}, best ${Math.min(...losses)}`);
      assert.ok(Math.max(...losses) <= 10 * losses[0], `max evaluated ${Math.max(...losses)} vs start ${losses[0]}`);
    } finally {
      opt.dispose();
      assert.equal(liveTensors(), base, 'dispose() releases every tensor the optimiser held');
      x.dispose();
    }
  });

  test('inside a box: every evaluated point stays in the box and the constrained minimum is found', () => {
    // The quartic's unconstrained minimum C lies partly outside [−1, 1]⁵: the answer is C clipped.
    const box = tidy(() => new Box(tensor([-1], [1]), tensor([1], [1])));
    const x = keep(tensor([0, 0, 0, 0, 0], [5]).variable());
    const opt = new LbfgsWolfe(x, { box });
    try {
      for (let i = 0; i < 80; i++) {
        tidy(() => {
          const v = Array.from(x.data());
          assert.ok(v.every((e) => e >= -1 && e <= 1), `evaluation ${i + 1} outside the box: ${v}`);
          const l = quartic(x);
          const [g] = gradients([l], [x]);
          opt.step(l.item(), g!);
        });
      }
      // Coordinates outside [−1, 1] end exactly on the bound; the objective reaches the clipped optimum.
      const want = C.map((c) => Math.min(1, Math.max(-1, c)));
      const got = Array.from(x.data());
      [0, 1, 3].forEach((k) => assert.equal(got[k], want[k], `x = ${got} vs ${want}`));
      const best = tidy(() => quartic(tensor(want, [5])).item());
      const reached = tidy(() => quartic(x).item());
      assert.ok(reached - best < 1e-6, `f = ${reached} vs constrained minimum ${best} at x = ${got}`);
    } finally {
      opt.dispose();
      x.dispose();
      box.dispose();
    }
  });
});
