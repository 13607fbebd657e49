/**
 * L-BFGS with a backtracking (Armijo) line search for a small vector (the 100 numbers of a style
 * vector), driven one loss evaluation at a time like the project's optimisers: `step(loss, grad)`
 * gets the loss and gradient at the current x and moves x to the next point to evaluate (a new
 * L-BFGS point, or a shorter trial along the same direction when the loss did not fall enough).
 *
 * Why not src/optim's Lbfgs: it takes full steps without a line search, and on this problem its
 * second step overshoots into a flat, saturated region (the network's sigmoid output) where it
 * stalls. The state lives in float64 JavaScript arrays: 100 numbers need no tensors. The
 * project's LbfgsWolfe (strong-Wolfe search) needs more evaluations here (38 with torch's first
 * step, over 45 with the Polyak one, to reach what this reaches in 30: docs/arbitrary-style.md).
 */
import { Tensor, tensor, tidy } from '../../engine';

export interface VectorLbfgsOptions {
  /** Curvature pairs kept. Default 20. */
  history?: number;
  /** Longest step (L2 norm) ever tried: keeps the first steps out of saturated regions. Default 4. */
  maxStep?: number;
  /** Armijo constant of sufficient decrease. Default 1e-4. */
  c1?: number;
}

export class VectorLbfgs {
  private readonly history: number;
  private readonly maxStep: number;
  private readonly c1: number;
  private readonly s: Float64Array[] = [];
  private readonly y: Float64Array[] = [];
  /** Last accepted point, its loss and gradient. */
  private xk: Float64Array | null = null;
  private fk = Infinity;
  private gk: Float64Array | null = null;
  /** Search direction from xk and the step being tried. */
  private d: Float64Array | null = null;
  private t = 0;
  /** Trials shortened in a row (the line search gives up after 10 and restarts from −g). */
  private backtracks = 0;

  constructor(private readonly x: Tensor, options: VectorLbfgsOptions = {}) {
    this.history = options.history ?? 20;
    this.maxStep = options.maxStep ?? 4;
    this.c1 = options.c1 ?? 1e-4;
  }

  /** Takes the loss and gradient at the current x and moves x; true when converged. */
  step(loss: number, grad: Tensor): boolean {
    const g = Float64Array.from(tidy(() => grad.data()));
    const x = Float64Array.from(tidy(() => this.x.data()));
    if (this.xk && this.d && !(Number.isFinite(loss) && loss <= this.fk + this.c1 * this.t * dot(this.gk!, this.d))) {
      // Not enough decrease: backtrack along d, by quadratic interpolation clamped to [0.1, 0.5]·t.
      this.backtracks++;
      if (this.backtracks > 10) return this.restart();
      const slope = dot(this.gk!, this.d);
      const curvature = Number.isFinite(loss) ? loss - this.fk - this.t * slope : Infinity;
      const quadratic = curvature > 0 ? (-slope * this.t * this.t) / (2 * curvature) : 0.1 * this.t;
      this.t = Math.min(0.5 * this.t, Math.max(0.1 * this.t, quadratic));
      this.moveTo(this.xk, this.d, this.t);
      return false;
    }
    // Accept x.
    if (this.xk && this.gk) {
      const s = sub(x, this.xk);
      const y = sub(g, this.gk);
      if (dot(s, y) > 1e-10) {
        this.s.push(s);
        this.y.push(y);
        if (this.s.length > this.history) {
          this.s.shift();
          this.y.shift();
        }
      }
    }
    this.xk = x;
    this.fk = loss;
    this.gk = g;
    this.backtracks = 0;
    if (maxAbs(g) === 0) return true;
    this.d = this.direction(g);
    if (dot(this.d, g) >= 0) {
      // Not a descent direction (bad curvature pairs): forget them.
      this.s.length = this.y.length = 0;
      this.d = this.direction(g);
    }
    const norm = Math.hypot(...this.d);
    this.t = this.s.length === 0 ? Math.min(1, this.maxStep / norm) * 0.25 : Math.min(1, this.maxStep / norm);
    this.moveTo(this.xk, this.d, this.t);
    return false;
  }

  dispose(): void {
    this.s.length = this.y.length = 0;
  }

  private restart(): boolean {
    this.s.length = this.y.length = 0;
    this.d = this.gk!.map((v) => -v);
    this.t = (0.01 * this.maxStep) / Math.hypot(...this.d);
    this.backtracks = 0;
    this.moveTo(this.xk!, this.d, this.t);
    return false;
  }

  /** −H·g by the two-loop recursion (H0 = s·y / y·y of the newest pair). */
  private direction(g: Float64Array): Float64Array {
    const q = g.map((v) => -v);
    const k = this.s.length;
    const alpha = new Array<number>(k);
    for (let i = k - 1; i >= 0; i--) {
      alpha[i] = dot(this.s[i], q) / dot(this.y[i], this.s[i]);
      axpy(q, this.y[i], -alpha[i]);
    }
    if (k > 0) {
      const h0 = dot(this.s[k - 1], this.y[k - 1]) / dot(this.y[k - 1], this.y[k - 1]);
      for (let j = 0; j < q.length; j++) q[j] *= h0;
    }
    for (let i = 0; i < k; i++) {
      const beta = dot(this.y[i], q) / dot(this.y[i], this.s[i]);
      axpy(q, this.s[i], alpha[i] - beta);
    }
    return q;
  }

  private moveTo(base: Float64Array, d: Float64Array, t: number): void {
    const next = Float32Array.from(base, (v, j) => v + t * d[j]);
    tidy(() => this.x.copyInPlace(tensor(next, this.x.shape, this.x.device)));
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function sub(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v - b[i]);
}

function axpy(target: Float64Array, v: Float64Array, a: number): void {
  for (let i = 0; i < target.length; i++) target[i] += a * v[i];
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}
