/**
 * Adam (Kingma & Ba 2015) with the bias corrections of torch.optim.Adam; one step per evaluation.
 * Optionally projected onto a box after each step, and with an exponential moving average of the
 * iterates (bias-corrected, as crowsonkb/style-transfer-pytorch keeps one): Adam's last iterate
 * jitters around the minimum with the step size, their average sits closer to it.
 */
import { keep, Tensor, tidy, zeros } from '../engine';
import { Box } from './box';
import { Optimizer } from './optimizer';

export interface AdamOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Keep x inside this box (owned by the caller). */
  box?: Box;
  /** Decay of the iterate average (0: no average). Default 0. */
  averageDecay?: number;
}

export class Adam implements Optimizer {
  private readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly averageDecay: number;
  private m: Tensor | null = null;
  private v: Tensor | null = null;
  private avg: Tensor | null = null;
  private t = 0;

  constructor(private readonly x: Tensor, private readonly options: AdamOptions = {}) {
    this.lr = options.learningRate ?? 1;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.epsilon ?? 1e-8;
    this.averageDecay = options.averageDecay ?? 0;
  }

  step(_loss: number, grad: Tensor): boolean {
    this.t++;
    this.m ??= keep(zeros(grad.shape, grad.device));
    this.v ??= keep(zeros(grad.shape, grad.device));
    this.m.mulInPlace(this.beta1).addInPlace(grad, 1 - this.beta1);
    this.v.mulInPlace(this.beta2).addcmulInPlace(grad, grad, 1 - this.beta2);
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    tidy(() => {
      const denom = this.v!.sqrt().div(Math.sqrt(bc2)).add(this.eps);
      this.x.addcdivInPlace(this.m!, denom, -this.lr / bc1);
    });
    this.options.box?.project(this.x);
    if (this.averageDecay > 0) {
      // Unnormalised EMA; average() divides by 1 − decay^t (the bias correction).
      this.avg ??= keep(zeros(this.x.shape, this.x.device));
      this.avg.mulInPlace(this.averageDecay).addInPlace(this.x, 1 - this.averageDecay);
    }
    return false;
  }

  /** The bias-corrected average of the iterates so far (a new tensor), or null without averaging. */
  average(): Tensor | null {
    if (!this.avg || this.t === 0) return null;
    return this.avg.div(1 - this.averageDecay ** this.t);
  }

  dispose(): void {
    this.m?.dispose();
    this.v?.dispose();
    this.avg?.dispose();
    this.m = this.v = this.avg = null;
  }
}
