/**
 * The memory of L-BFGS: the last `limit` curvature pairs (s = step, y = gradient change) and the
 * two-loop recursion that applies the inverse-Hessian estimate they define, as torch.optim.LBFGS
 * does (H0 = (s·y)/(y·y) of the newest pair; a pair is kept only when y·s > 1e-10).
 */
import { keep, Tensor } from '../engine';

/** Curvature pairs handed from one optimisation to the next (oldest first); the receiver owns them. */
export interface CurvaturePairs {
  s: Tensor[];
  y: Tensor[];
}

export class LbfgsHistory {
  private readonly ys: Tensor[] = [];
  private readonly ss: Tensor[] = [];
  private readonly rho: number[] = [];
  /** Scale of the initial inverse Hessian H0 = hDiag·I. */
  hDiag = 1;

  constructor(private readonly limit: number) {}

  get length(): number {
    return this.ys.length;
  }

  /** Stores the pair if its curvature y·s is positive enough; takes ownership of y and s (kept or disposed). */
  push(s: Tensor, y: Tensor): boolean {
    const ys = y.dot(s).item();
    if (!(ys > 1e-10)) {
      s.dispose();
      y.dispose();
      return false;
    }
    if (this.ys.length === this.limit) {
      this.ys.shift()!.dispose();
      this.ss.shift()!.dispose();
      this.rho.shift();
    }
    this.ys.push(keep(y));
    this.ss.push(keep(s));
    this.rho.push(1 / ys);
    this.hDiag = ys / y.dot(y).item();
    return true;
  }

  /** −H·g by the two-loop recursion (a new tensor in the caller's scope). */
  direction(grad: Tensor): Tensor {
    const k = this.ys.length;
    const alpha = new Array<number>(k);
    const q = grad.neg();
    for (let i = k - 1; i >= 0; i--) {
      alpha[i] = this.ss[i].dot(q).item() * this.rho[i];
      q.addInPlace(this.ys[i], -alpha[i]);
    }
    const r = q.mul(this.hDiag);
    for (let i = 0; i < k; i++) {
      const beta = this.ys[i].dot(r).item() * this.rho[i];
      r.addInPlace(this.ss[i], alpha[i] - beta);
    }
    return r;
  }

  /** Copies of the pairs, each mapped by `map` (e.g. resampled to a larger image). */
  export(map: (s: Tensor, y: Tensor) => [Tensor, Tensor]): CurvaturePairs {
    const out: CurvaturePairs = { s: [], y: [] };
    for (let i = 0; i < this.ys.length; i++) {
      const [s, y] = map(this.ss[i], this.ys[i]);
      out.s.push(keep(s));
      out.y.push(keep(y));
    }
    return out;
  }

  clear(): void {
    for (const t of [...this.ys, ...this.ss]) t.dispose();
    this.ys.length = 0;
    this.ss.length = 0;
    this.rho.length = 0;
    this.hDiag = 1;
  }
}
