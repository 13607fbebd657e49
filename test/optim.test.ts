/**
 * The optimisers (src/optim) on analytic problems: an SPD quadratic with a known minimiser, the
 * exact first L-BFGS step, the history limit and the curvature test of L-BFGS, a JavaScript
 * reference of the two-loop recursion and of torch.optim.Adam, and the Rosenbrock function.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gradients, keep, liveTensors, tensor, Tensor, tidy, zeros } from '../src/engine';
import { Adam, Lbfgs, Optimizer } from '../src/optim';
import { engineSuite, rng } from './helpers/numeric';

// ---------------------------------------------------------------------------------------------
// helpers


const N = 10;

/** A = MᵀM/n + I (SPD, well conditioned), b ~ U(-1,1), and x* = A⁻¹b by Gaussian elimination. */
function quadraticProblem(seed: number): { A: Float32Array; b: Float32Array; xStar: number[] } {
  const r = rng(seed);
  const m = Array.from({ length: N * N }, () => r() * 2 - 1);
  const A = new Float32Array(N * N);
  for (let i = 0; i < N; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < N; k++) s += m[k * N + i] * m[k * N + j];
      A[i * N + j] = s / N + (i === j ? 1 : 0);
    }
  const b = Float32Array.from({ length: N }, () => r() * 2 - 1);
  // solve with the float32-rounded A and b, in double precision
  const aug = Array.from({ length: N }, (_, i) => [...Array.from(A.subarray(i * N, i * N + N)), b[i]]);
  for (let c = 0; c < N; c++) {
    let p = c;
    for (let i = c + 1; i < N; i++) if (Math.abs(aug[i][c]) > Math.abs(aug[p][c])) p = i;
    [aug[c], aug[p]] = [aug[p], aug[c]];
    for (let i = 0; i < N; i++) {
      if (i === c) continue;
      const f = aug[i][c] / aug[c][c];
      for (let j = c; j <= N; j++) aug[i][j] -= f * aug[c][j];
    }
  }
  return { A, b, xStar: aug.map((row, i) => row[N] / row[i]) };
}

/** 0.5·xᵀAx − bᵀx built from tensors, with its gradient by autograd. */
class Quadratic {
  readonly A: Tensor;
  readonly b: Tensor;
  readonly xStar: number[];
  readonly aData: Float32Array;
  readonly bData: Float32Array;

  constructor(seed: number) {
    const { A, b, xStar } = quadraticProblem(seed);
    this.A = keep(tensor(A, [N, N]));
    this.b = keep(tensor(b, [N]));
    this.xStar = xStar;
    this.aData = A;
    this.bData = b;
  }

  /** The loss as a tensor. */
  f(x: Tensor): Tensor {
    return x.dot(this.A.matmul(x)).mul(0.5).sub(x.dot(this.b));
  }

  /** Loss and gradient at x (the gradient belongs to the caller's tidy scope). */
  evaluate(x: Tensor): { loss: number; grad: Tensor } {
    const loss = this.f(x);
    const [grad] = gradients([loss], [x]);
    return { loss: loss.item(), grad: grad! };
  }

  /** Ax − b in double precision from the float32 x. */
  gradientJs(x: ArrayLike<number>): number[] {
    return Array.from({ length: N }, (_, i) => {
      let s = -this.bData[i];
      for (let j = 0; j < N; j++) s += this.aData[i * N + j] * x[j];
      return s;
    });
  }

  dispose(): void {
    this.A.dispose();
    this.b.dispose();
  }
}

/** Rosenbrock (1 − a)² + 100 (b − a²)² of x = [a, b]. */
function rosenbrock(x: Tensor): Tensor {
  const a = x.narrow(0, 0, 1);
  const b = x.narrow(0, 1, 1);
  return a.neg().add(1).square().add(b.sub(a.square()).square().mul(100)).sum();
}

/** One optimiser step on f at x inside a tidy; returns the loss and whether it converged. */
function stepOn(opt: Optimizer, x: Tensor, f: (x: Tensor) => Tensor): { loss: number; done: boolean } {
  return tidy(() => {
    const l = f(x);
    const [g] = gradients([l], [x]);
    const loss = l.item();
    return { loss, done: opt.step(loss, g!) };
  });
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** torch.optim.LBFGS without line search (as src/optim/lbfgs.ts documents it), in double precision. */
class ReferenceLbfgs {
  private readonly ys: number[][] = [];
  private readonly ss: number[][] = [];
  private readonly rho: number[] = [];
  private hDiag = 1;
  private d: number[] = [];
  private t = 0;
  private prevG: number[] = [];
  private iter = 0;

  constructor(private readonly lr: number, private readonly history: number) {}

  get historyLength(): number {
    return this.ys.length;
  }

  /** The update x_{k+1} − x_k for gradient g at x_k. */
  step(g: number[]): number[] {
    this.iter++;
    if (this.iter === 1) {
      this.d = g.map((v) => -v);
      this.t = Math.min(1, 1 / g.reduce((a, v) => a + Math.abs(v), 0)) * this.lr;
    } else {
      const y = g.map((v, i) => v - this.prevG[i]);
      const s = this.d.map((v) => v * this.t);
      const ys = dot(y, s);
      if (ys > 1e-10) {
        if (this.ys.length === this.history) {
          this.ys.shift();
          this.ss.shift();
          this.rho.shift();
        }
        this.ys.push(y);
        this.ss.push(s);
        this.rho.push(1 / ys);
        this.hDiag = ys / dot(y, y);
      }
      const k = this.ys.length;
      const al = new Array<number>(k);
      const q = g.map((v) => -v);
      for (let i = k - 1; i >= 0; i--) {
        al[i] = dot(this.ss[i], q) * this.rho[i];
        for (let j = 0; j < q.length; j++) q[j] -= al[i] * this.ys[i][j];
      }
      const r = q.map((v) => v * this.hDiag);
      for (let i = 0; i < k; i++) {
        const be = dot(this.ys[i], r) * this.rho[i];
        for (let j = 0; j < r.length; j++) r[j] += (al[i] - be) * this.ss[i][j];
      }
      this.d = r;
      this.t = this.lr;
    }
    this.prevG = g.slice();
    return this.d.map((v) => v * this.t);
  }
}

/** torch.optim.Adam in double precision. */
class ReferenceAdam {
  private m: number[];
  private v: number[];
  private t = 0;

  constructor(n: number, private readonly lr: number, private readonly b1 = 0.9, private readonly b2 = 0.999, private readonly eps = 1e-8) {
    this.m = new Array<number>(n).fill(0);
    this.v = new Array<number>(n).fill(0);
  }

  step(g: ArrayLike<number>): number[] {
    this.t++;
    this.m = this.m.map((m, i) => this.b1 * m + (1 - this.b1) * g[i]);
    this.v = this.v.map((v, i) => this.b2 * v + (1 - this.b2) * g[i] * g[i]);
    const bc1 = 1 - this.b1 ** this.t;
    const bc2 = 1 - this.b2 ** this.t;
    return this.m.map((m, i) => (-this.lr / bc1) * (m / (Math.sqrt(this.v[i]) / Math.sqrt(bc2) + this.eps)));
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Float32 unit in the last place of v. */
function ulp(v: number): number {
  const a = Math.abs(Math.fround(v));
  if (a === 0) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

engineSuite('optimiser');

// ---------------------------------------------------------------------------------------------

describe('L-BFGS', () => {
  test('reaches the minimiser of an SPD quadratic within 1e-4 in fewer than 50 steps', () => {
    const q = new Quadratic(1);
    const x = keep(zeros([N]).variable());
    const opt = new Lbfgs(x, { learningRate: 1 });
    const base = liveTensors();
    try {
      let steps = 0;
      let err = Infinity;
      const losses: number[] = [];
      while (steps < 50) {
        const { loss, done } = stepOn(opt, x, (t) => q.f(t));
        losses.push(loss);
        assert.equal(done, false, 'default tolerances never report convergence');
        steps++;
        err = maxAbsDiff(x.data(), q.xStar);
        if (err < 1e-4) break;
        // the state held by the optimiser is bounded by its history (2 tensors per pair + 2)
        assert.ok(liveTensors() <= base + 2 * opt.historyLength + 2, 'optimiser state grows beyond its history');
      }
      assert.ok(err < 1e-4, `after ${steps} steps max|x − x*| = ${err}`);
      assert.ok(steps < 50);
      // and the minimum value is the analytic one: −½ bᵀx*
      const fStar = -0.5 * dot(q.bData, q.xStar);
      const fx = tidy(() => q.evaluate(x).loss);
      assert.ok(Math.abs(fx - fStar) < 1e-5, `f(x) ${fx} vs f* ${fStar}`);
      assert.ok(losses[losses.length - 1] < losses[0]);
    } finally {
      opt.dispose();
      x.dispose();
      q.dispose();
    }
  });

  test('the first step is −g·lr·min(1, 1/Σ|g|) exactly (Σ|g| > 1 and Σ|g| < 1)', () => {
    const cases = [
      { x0: new Array<number>(5).fill(0), g: [3, -1.5, 0.25, 2, -0.125], lr: 1 }, // Σ|g| = 6.875: scaled
      { x0: new Array<number>(5).fill(0), g: [0.1, -0.05, 0.2, 0, 0.3], lr: 0.5 }, // Σ|g| = 0.65: lr only
      { x0: [0.3, -1.7, 2.2, 0.01, 5], g: [0.75, -3.1, 1.2, 4.4, -0.6], lr: 0.8 },
    ];
    for (const { x0, g, lr } of cases) {
      tidy(() => {
        const x = tensor(x0, [5]);
        const opt = new Lbfgs(x, { learningRate: lr });
        try {
          const gt = tensor(g, [5]);
          const gf = Array.from(gt.data());
          assert.equal(opt.step(1, gt), false);
          const sumAbs = gf.reduce((a, v) => a + Math.abs(v), 0);
          const t = Math.min(1, 1 / sumAbs) * lr;
          const got = x.data();
          gf.forEach((gi, i) => {
            const expected = x0[i] - gi * t;
            const tol = x0[i] === 0 ? 0 : ulp(expected); // from 0 the step itself is exact
            assert.ok(Math.abs(got[i] - Math.fround(expected)) <= tol, `x[${i}] = ${got[i]} vs ${expected} (t = ${t})`);
          });
          assert.equal(opt.historyLength, 0);
          // the gradient tensor itself is not modified by the step
          assert.deepEqual(Array.from(gt.data()), gf);
        } finally {
          opt.dispose();
        }
      });
    }
  });

  test('later steps follow the two-loop recursion of torch.optim.LBFGS (history 2, 3, 100)', () => {
    for (const history of [2, 3, 100]) {
      const q = new Quadratic(2);
      const x = keep(tensor(Float32Array.from({ length: N }, (_, i) => Math.sin(i + 1)), [N]).variable());
      const opt = new Lbfgs(x, { learningRate: 0.9, history });
      const ref = new ReferenceLbfgs(0.9, history);
      try {
        for (let k = 0; k < 8; k++) {
          const before = Array.from(x.data());
          const g = tidy(() => {
            const { loss, grad } = q.evaluate(x);
            const gd = Array.from(grad.data());
            opt.step(loss, grad);
            return gd;
          });
          const expected = ref.step(g);
          const got = Array.from(x.data()).map((v, i) => v - before[i]);
          const scale = Math.max(...expected.map(Math.abs));
          assert.ok(
            maxAbsDiff(got, expected) <= 1e-4 * scale + 1e-6,
            `history ${history}, step ${k + 1}: update ${got.map((v) => v.toFixed(6))} vs ${expected.map((v) => v.toFixed(6))}`,
          );
          assert.equal(opt.historyLength, ref.historyLength, `history ${history}, step ${k + 1}: stored pairs`);
        }
      } finally {
        opt.dispose();
        x.dispose();
        q.dispose();
      }
    }
  });

  test('the history never exceeds its limit, and still converges with a short history', () => {
    const q = new Quadratic(3);
    const x = keep(zeros([N]).variable());
    const opt = new Lbfgs(x, { history: 3 });
    try {
      const lengths: number[] = [];
      for (let k = 0; k < 60; k++) {
        tidy(() => {
          const { loss, grad } = q.evaluate(x);
          opt.step(loss, grad);
        });
        lengths.push(opt.historyLength);
        assert.ok(opt.historyLength <= 3, `step ${k + 1}: ${opt.historyLength} pairs stored`);
      }
      assert.equal(lengths[0], 0, 'no pair after the first step');
      assert.equal(lengths[1], 1);
      assert.equal(lengths[2], 2);
      assert.equal(lengths[3], 3);
      assert.equal(Math.max(...lengths), 3, 'the limit is reached');
      assert.ok(maxAbsDiff(x.data(), q.xStar) < 1e-3, `max|x − x*| = ${maxAbsDiff(x.data(), q.xStar)}`);
    } finally {
      opt.dispose();
      x.dispose();
      q.dispose();
    }
  });

  test('pairs with y·s ≤ 1e-10 are skipped; pairs above it are stored', () => {
    tidy(() => {
      // g1 = [1e-5, 0]: Σ|g| < 1, so t = lr = 1 and s = [−1e-5, 0]
      const run = (g2: number, g3?: number) => {
        const x = zeros([2]);
        const opt = new Lbfgs(x, { learningRate: 1 });
        try {
          opt.step(1, tensor([1e-5, 0], [2]));
          const x1 = Array.from(x.data());
          opt.step(1, tensor([g2, 0.5], [2]));
          const lengths = [opt.historyLength];
          const x2 = Array.from(x.data());
          if (g3 !== undefined) {
            opt.step(1, tensor([g3, 0.25], [2]));
            lengths.push(opt.historyLength);
          }
          return { x1, x2, lengths };
        } finally {
          opt.dispose();
        }
      };
      // y = [g2 − 1e-5, 0.5]: y·s = −(g2 − 1e-5)·1e-5
      const negative = run(2e-5); // y·s = −1e-10 < 0
      assert.deepEqual(negative.lengths, [0]);
      const zero = run(1e-5); // y·s = 0
      assert.deepEqual(zero.lengths, [0]);
      const tiny = run(5e-6); // y·s = 5e-11 ≤ 1e-10
      assert.deepEqual(tiny.lengths, [0]);
      // with no stored pair the direction is −g (H0 = I), with step lr
      assertCloseArr(tiny.x2, [tiny.x1[0] - 5e-6, tiny.x1[1] - 0.5], 1e-9);
      const accepted = run(-4e-5); // y·s = 5e-10 > 1e-10
      assert.deepEqual(accepted.lengths, [1]);
      // one pair: the two-loop recursion of the reference
      const ref = new ReferenceLbfgs(1, 100);
      ref.step([1e-5, 0]);
      const d2 = ref.step([-4e-5, 0.5]);
      assertCloseArr(accepted.x2.map((v, i) => v - accepted.x1[i]), d2, 1e-6, 1e-4);
      // a skipped pair after a stored one leaves the history as it was
      const later = run(-4e-5, -4e-5);
      assert.equal(later.lengths[0], 1);
      assert.ok(later.lengths[1] <= 2);
    });
  });

  test('toleranceGrad stops without moving x; toleranceChange stops on a flat loss', () => {
    tidy(() => {
      const x = tensor([1, 2], [2]);
      const opt = new Lbfgs(x, { toleranceGrad: 1e-3 });
      assert.equal(opt.step(5, tensor([0.5, -0.5], [2])), false, 'max|g| = 0.5 > 1e-3');
      const x1 = Array.from(x.data());
      assertCloseArr(x1, [1 - 0.5, 2 + 0.5], 1e-7); // first step: t = min(1, 1/Σ|g|) = 1
      assert.equal(opt.step(5, tensor([1e-4, -5e-4], [2])), true, 'max|g| = 5e-4 ≤ 1e-3');
      assert.deepEqual(Array.from(x.data()), x1, 'no move once converged');
      opt.dispose();

      const y = tensor([1, 2], [2]);
      const opt2 = new Lbfgs(y, { toleranceChange: 1e-6 });
      assert.equal(opt2.step(3, tensor([0.5, 0.25], [2])), false);
      const y1 = Array.from(y.data());
      assert.equal(opt2.step(3 + 1e-8, tensor([0.4, 0.2], [2])), true, 'loss changed by less than toleranceChange');
      assert.deepEqual(Array.from(y.data()), y1, 'no move once converged');
      opt2.dispose();
    });
  });

  test(
    'step() after a toleranceGrad stop on the very first call restarts like torch.optim.LBFGS',
    () => {
      tidy(() => {
        const x = tensor([1, 2], [2]);
        const opt = new Lbfgs(x, { toleranceGrad: 1e-3 });
        try {
          assert.equal(opt.step(5, tensor([1e-4, -5e-4], [2])), true);
          assert.deepEqual(Array.from(x.data()), [1, 2]);
          // torch keeps n_iter at 0 here, so the next call is a first step again: −g·min(1, 1/Σ|g|)
          assert.equal(opt.step(5, tensor([2, -2], [2])), false);
          assertCloseArr(Array.from(x.data()), [1 - 0.5, 2 + 0.5], 1e-7);
        } finally {
          opt.dispose();
        }
      });
    },
  );

  test('dispose() releases the history and state tensors', () => {
    const q = new Quadratic(4);
    const x = keep(zeros([N]).variable());
    const base = liveTensors();
    const opt = new Lbfgs(x, { history: 4 });
    for (let k = 0; k < 6; k++) stepOn(opt, x, (t) => q.f(t));
    assert.equal(opt.historyLength, 4);
    assert.equal(liveTensors(), base + 2 * 4 + 2, 'y and s per pair, plus direction and previous gradient');
    opt.dispose();
    assert.equal(opt.historyLength, 0);
    assert.equal(liveTensors(), base);
    x.dispose();
    q.dispose();
  });

  test('decreases the Rosenbrock function from (−1.2, 1) to its minimum at (1, 1)', () => {
    const x = keep(tensor([-1.2, 1], [2]).variable());
    const opt = new Lbfgs(x, { learningRate: 1 });
    try {
      const losses: number[] = [];
      for (let k = 0; k < 150; k++) losses.push(stepOn(opt, x, rosenbrock).loss);
      assert.ok(Math.abs(losses[0] - 24.2) < 1e-4, `f(−1.2, 1) = ${losses[0]}`);
      const final = tidy(() => rosenbrock(x).item());
      assert.ok(final < 1e-6, `final loss ${final}`);
      assert.ok(maxAbsDiff(x.data(), [1, 1]) < 1e-3, `x = ${Array.from(x.data())}`);
      assert.ok(losses[10] < losses[0] && losses[50] < losses[10], `losses ${losses[0]}, ${losses[10]}, ${losses[50]}`);
    } finally {
      opt.dispose();
      x.dispose();
    }
  });
});

describe('Adam', () => {
  test('the first step is −lr·g/(|g| + eps): ≈ −lr·sign(g), 0 for a zero gradient, lr/2 when |g| = eps', () => {
    tidy(() => {
      const x = tensor([1, 2, 3, 4], [4]);
      const opt = new Adam(x, { learningRate: 0.1 });
      assert.equal(opt.step(0, tensor([5, -0.003, 0, 1e-8], [4])), false);
      const d = x.data();
      assertCloseArr(Array.from(d), [1 - 0.1, 2 + 0.1, 3, 4 - 0.05], 1e-6);
      opt.dispose();
    });
  });

  test('the first steps match torch.optim.Adam computed in JavaScript (default and custom betas)', () => {
    const settings = [
      { lr: 0.05, b1: 0.9, b2: 0.999, eps: 1e-8 },
      { lr: 0.2, b1: 0.5, b2: 0.9, eps: 1e-3 },
    ];
    for (const s of settings) {
      const q = new Quadratic(5);
      const x = keep(tensor(Float32Array.from({ length: N }, (_, i) => Math.cos(i)), [N]).variable());
      const opt = new Adam(x, { learningRate: s.lr, beta1: s.b1, beta2: s.b2, epsilon: s.eps });
      const ref = new ReferenceAdam(N, s.lr, s.b1, s.b2, s.eps);
      try {
        for (let k = 0; k < 6; k++) {
          const before = Array.from(x.data());
          const g = tidy(() => {
            const { loss, grad } = q.evaluate(x);
            const gd = grad.data();
            opt.step(loss, grad);
            return gd;
          });
          // the gradient really is Ax − b
          assertCloseArr(Array.from(g), q.gradientJs(before), 1e-5, 1e-5);
          const expected = ref.step(g);
          const got = Array.from(x.data()).map((v, i) => v - before[i]);
          assertCloseArr(got, expected, 2e-6, 1e-4, `lr ${s.lr} β ${s.b1}/${s.b2}, step ${k + 1}`);
        }
      } finally {
        opt.dispose();
        x.dispose();
        q.dispose();
      }
    }
  });

  test('converges on the quadratic', () => {
    const q = new Quadratic(1);
    const x = keep(zeros([N]).variable());
    const opt = new Adam(x, { learningRate: 0.1 });
    try {
      for (let k = 0; k < 300; k++) stepOn(opt, x, (t) => q.f(t));
      assert.ok(maxAbsDiff(x.data(), q.xStar) < 1e-3, `max|x − x*| = ${maxAbsDiff(x.data(), q.xStar)}`);
    } finally {
      opt.dispose();
      x.dispose();
      q.dispose();
    }
  });

  test('decreases the Rosenbrock function', () => {
    const x = keep(tensor([-1.2, 1], [2]).variable());
    const opt = new Adam(x, { learningRate: 0.05 });
    try {
      const losses: number[] = [];
      for (let k = 0; k < 300; k++) losses.push(stepOn(opt, x, rosenbrock).loss);
      const final = tidy(() => rosenbrock(x).item());
      assert.ok(Math.abs(losses[0] - 24.2) < 1e-4);
      assert.ok(losses[10] < losses[0], `${losses[10]} vs ${losses[0]}`);
      assert.ok(final < 2.5, `final loss ${final}`);
      assert.ok(final < losses[100], `final ${final} vs step 100 ${losses[100]}`);
    } finally {
      opt.dispose();
      x.dispose();
    }
  });

  test('dispose() releases the moment tensors', () => {
    const x = keep(zeros([3]));
    const base = liveTensors();
    const opt = new Adam(x);
    tidy(() => opt.step(0, tensor([1, 2, 3], [3])));
    assert.equal(liveTensors(), base + 2, 'm and v');
    opt.dispose();
    assert.equal(liveTensors(), base);
    x.dispose();
  });
});

function assertCloseArr(actual: number[], expected: number[], atol: number, rtol = 0, what = ''): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) =>
    assert.ok(Math.abs(a - expected[i]) <= atol + rtol * Math.abs(expected[i]), `${what}[${i}]: ${a} vs ${expected[i]}`),
  );
}
