/**
 * The Gatys objective: content loss at the content layers + style loss summed over the style
 * layers + total variation, for one content image and one style image. Targets (content features,
 * style Gram matrices) are computed once, without gradients, and kept until dispose().
 */
import { keep, noGrad, Tensor, tidy } from '../engine';
import { Vgg19 } from '../models/vgg19';
import { contentLoss } from './content';
import { gramMatrix } from './gram';
import { styleLoss } from './style';
import { totalVariation } from './total-variation';

export interface GatysWeights {
  content: number;
  style: number;
  tv: number;
}

export interface GatysLayers {
  content: string[];
  style: string[];
}

/** Loss values of one evaluation, as plain numbers. */
export interface LossBreakdown {
  total: number;
  content: Record<string, number>;
  style: Record<string, number>;
  tv: number;
}

export class GatysObjective {
  private readonly contentTargets = new Map<string, Tensor>();
  private readonly styleTargets = new Map<string, Tensor>();
  private readonly wanted: string[];

  /** content, style: preprocessed images (NCHW, Caffe convention); sizes may differ. */
  constructor(
    private readonly net: Vgg19,
    content: Tensor,
    style: Tensor,
    readonly layers: GatysLayers,
    readonly weights: GatysWeights,
  ) {
    this.wanted = [...new Set([...layers.content, ...layers.style])];
    noGrad(() =>
      tidy(() => {
        const fc = net.forward(content, layers.content);
        for (const l of layers.content) this.contentTargets.set(l, keep(fc.get(l)!.clone()));
        const fs = net.forward(style, layers.style);
        for (const l of layers.style) this.styleTargets.set(l, keep(gramMatrix(fs.get(l)!)));
      }),
    );
  }

  /** The target Gram matrix of a style layer (for inspection and tests). */
  styleTarget(layer: string): Tensor | undefined {
    return this.styleTargets.get(layer);
  }

  /**
   * Loss terms at x (a differentiable tensor). Returns the total as a tensor (caller backpropagates)
   * and each term as a tensor; all join the caller's tidy() scope.
   */
  terms(x: Tensor): { total: Tensor; content: Map<string, Tensor>; style: Map<string, Tensor>; tv: Tensor } {
    const f = this.net.forward(x, this.wanted);
    const content = new Map<string, Tensor>();
    const style = new Map<string, Tensor>();
    let total: Tensor | null = null;
    const accumulate = (t: Tensor) => (total = total ? total.add(t) : t);
    for (const l of this.layers.content) {
      const loss = contentLoss(f.get(l)!, this.contentTargets.get(l)!, this.weights.content);
      content.set(l, loss);
      accumulate(loss);
    }
    for (const l of this.layers.style) {
      const loss = styleLoss(f.get(l)!, this.styleTargets.get(l)!, this.weights.style);
      style.set(l, loss);
      accumulate(loss);
    }
    const tv = totalVariation(x).mul(this.weights.tv);
    accumulate(tv);
    return { total: total!, content, style, tv };
  }

  /**
   * Evaluates the objective at x and its gradient with respect to x. x must be a variable
   * (requires grad). Returns plain numbers and the gradient tensor (in the caller's scope).
   */
  evaluate(x: Tensor): { losses: LossBreakdown; grad: Tensor } {
    const t = this.terms(x);
    x.zeroGrad();
    t.total.backward();
    const grad = x.grad();
    if (!grad) throw new Error('no gradient reached the image');
    return { losses: breakdown(t), grad };
  }

  dispose(): void {
    for (const t of [...this.contentTargets.values(), ...this.styleTargets.values()]) t.dispose();
    this.contentTargets.clear();
    this.styleTargets.clear();
  }
}

function breakdown(t: { total: Tensor; content: Map<string, Tensor>; style: Map<string, Tensor>; tv: Tensor }): LossBreakdown {
  const record = (m: Map<string, Tensor>) => Object.fromEntries([...m].map(([k, v]) => [k, v.item()]));
  return { total: t.total.item(), content: record(t.content), style: record(t.style), tv: t.tv.item() };
}
