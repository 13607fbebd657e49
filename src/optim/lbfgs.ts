/**
 * L-BFGS without line search, with the semantics of torch.optim.LBFGS (as neural-style uses it):
 * the first step is −g scaled by lr·min(1, 1/Σ|g|); later directions come from the two-loop
 * recursion with H0 = (s·y)/(y·y) and step lr; a pair (s, y) is stored only when y·s > 1e-10, and
 * the oldest pair is dropped beyond `history`. One `step` per loss evaluation.
 */
import { keep, Tensor, tidy } from '../engine';
import { Box } from './box';
import { LbfgsHistory } from './lbfgs-history';
import { Optimizer } from './optimizer';

export interface LbfgsOptions {
  learningRate?: number;
  history?: number;
  /** Stop when max|g| ≤ this (default −1: never). */
  toleranceGrad?: number;
  /** Stop when the step or the loss change is ≤ this (default −1: never). */
  toleranceChange?: number;
  /** Keep x inside this box: each step is projected onto it (owned by the caller). */
  box?: Box;
}

export class Lbfgs implements Optimizer {
  private readonly lr: number;
  private readonly historyLimit: number;
  private readonly tolGrad: number;
  private readonly tolChange: number;
  private readonly history: LbfgsHistory;
  /** The last step actually taken (differs from direction·stepSize where the box clipped it). */
  private lastStep: Tensor | null = null;
  private direction: Tensor | null = null;
  private prevGrad: Tensor | null = null;
  private prevLoss = NaN;
  private stepSize = 0;
  private iteration = 0;
  /** Steps shortened because the loss was not finite (see step). */
  retreats = 0;

  constructor(private readonly x: Tensor, private readonly options: LbfgsOptions = {}) {
    this.lr = options.learningRate ?? 1;
    this.historyLimit = options.history ?? 100;
    this.tolGrad = options.toleranceGrad ?? -1;
    this.tolChange = options.toleranceChange ?? -1;
    this.history = new LbfgsHistory(this.historyLimit);
  }

  step(loss: number, grad: Tensor): boolean {
    // Safeguard (not in torch): without a line search an early step can overshoot until the loss
    // overflows, which happens with bf16's noisier curvature pairs. Then retreat to 1/10 of the
    // last step, keeping history and gradient from the last good point; finite losses are untouched.
    if (!Number.isFinite(loss) && this.direction) {
      this.x.addInPlace(this.direction, -0.9 * this.stepSize);
      this.options.box?.project(this.x);
      this.stepSize *= 0.1;
      this.retreats++;
      return false;
    }
    // Converged by gradient tolerance: leave the state untouched (the next call starts afresh if first).
    if (this.tolGrad >= 0 && tidy(() => grad.abs().max().item()) <= this.tolGrad) return true;
    this.iteration++;
    if (this.iteration > 1 && Math.abs(loss - this.prevLoss) < this.tolChange) return true;
    const d = tidy(() => (this.iteration === 1 ? grad.neg() : this.twoLoopDirection(grad)));
    this.replace('direction', keep(d));
    this.replace('prevGrad', keep(grad.clone()));
    this.prevLoss = loss;
    this.stepSize = this.iteration === 1 ? Math.min(1, 1 / tidy(() => grad.abs().sum().item())) * this.lr : this.lr;
    // Not a descent direction (or a vanishing one): stop, as torch does with tolerance_change.
    if (tidy(() => grad.dot(d).item()) > -this.tolChange) return true;
    if (this.options.box) {
      const before = this.x.clone();
      this.x.addInPlace(d, this.stepSize);
      this.options.box.project(this.x);
      this.replace('lastStep', keep(tidy(() => this.x.sub(before))));
      before.dispose();
    } else {
      this.x.addInPlace(d, this.stepSize);
    }
    if (this.tolChange >= 0 && tidy(() => d.abs().max().item()) * this.stepSize <= this.tolChange) return true;
    return false;
  }

  /** Updates the (s, y) history with the last step, then returns −H·g by the two-loop recursion. */
  private twoLoopDirection(grad: Tensor): Tensor {
    const s = this.lastStep ? this.lastStep.clone() : this.direction!.mul(this.stepSize);
    this.history.push(s, grad.sub(this.prevGrad!));
    return this.history.direction(grad);
  }

  private replace(field: 'direction' | 'prevGrad' | 'lastStep', value: Tensor): void {
    this[field]?.dispose();
    this[field] = value;
  }

  /** Pairs currently stored (for tests). */
  get historyLength(): number {
    return this.history.length;
  }

  dispose(): void {
    this.history.clear();
    this.direction?.dispose();
    this.prevGrad?.dispose();
    this.lastStep?.dispose();
    this.direction = this.prevGrad = this.lastStep = null;
  }
}
