/**
 * Adam over a set of named parameters, with its state exposed so a training checkpoint can save
 * and restore it (src/optim/adam.ts optimises a single image and keeps its state private).
 * Same update and bias corrections as torch.optim.Adam.
 */
import { keep, Tensor, tidy, zeros } from '../../engine';

export interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

export class ParamAdam {
  readonly m = new Map<string, Tensor>();
  readonly v = new Map<string, Tensor>();
  step = 0;

  constructor(private readonly params: Map<string, Tensor>, readonly settings: AdamSettings) {
    for (const [name, p] of params) {
      this.m.set(name, keep(zeros(p.shape, p.device)));
      this.v.set(name, keep(zeros(p.shape, p.device)));
    }
  }

  /** One update from the gradients (same names as the parameters). */
  update(grads: Map<string, Tensor>): void {
    this.step++;
    const { learningRate, beta1, beta2, epsilon } = this.settings;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (!g) continue;
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      m.mulInPlace(beta1).addInPlace(g, 1 - beta1);
      v.mulInPlace(beta2).addcmulInPlace(g, g, 1 - beta2);
      tidy(() => {
        const denom = v.sqrt().div(Math.sqrt(bc2)).add(epsilon);
        p.addcdivInPlace(m, denom, -learningRate / bc1);
      });
    }
  }

  /** Restores moments saved by a checkpoint (libtorch layout, same shapes as the parameters). */
  restore(step: number, m: Map<string, Tensor>, v: Map<string, Tensor>): void {
    this.step = step;
    for (const [name, t] of m) this.m.get(name)?.copyInPlace(t);
    for (const [name, t] of v) this.v.get(name)?.copyInPlace(t);
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
