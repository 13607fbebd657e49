/** Adam (Kingma & Ba 2015) with the bias corrections of torch.optim.Adam; one step per evaluation. */
import { keep, Tensor, tidy, zeros } from '../engine';
import { Optimizer } from './optimizer';

export interface AdamOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class Adam implements Optimizer {
  private readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private m: Tensor | null = null;
  private v: Tensor | null = null;
  private t = 0;

  constructor(private readonly x: Tensor, options: AdamOptions = {}) {
    this.lr = options.learningRate ?? 1;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.epsilon ?? 1e-8;
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
    return false;
  }

  dispose(): void {
    this.m?.dispose();
    this.v?.dispose();
    this.m = this.v = null;
  }
}
