/**
 * The perceptual loss of Johnson et al. for a batch, on the project's loss contract (the Gatys
 * objective of src/losses, averaged over the batch): content loss between the VGG19 features of
 * the stylised images and of the photos, style loss between their Gram matrices and the style
 * image's, and total variation of the stylised images. For a batch of one it equals
 * GatysObjective with the same layers and weights, so `nst compare` measures what training
 * minimised.
 */
import { keep, noGrad, Tensor, tidy } from '../../engine';
import { gramMatrixBatch } from '../../losses/gram';
import { totalVariation } from '../../losses/total-variation';
import { Vgg19 } from '../../models';
import type { LossValues } from '../../models/style-model-format';

export interface PerceptualLayers {
  content: string[];
  style: string[];
}

export interface PerceptualWeights {
  content: number;
  style: number;
  tv: number;
}

export interface LossTerms {
  total: Tensor;
  content: Tensor;
  style: Tensor;
  tv: Tensor;
}

export class PerceptualLoss {
  private readonly styleGrams = new Map<string, Tensor>();
  private readonly wanted: string[];

  /** style: the style image, RGB [0,1] NCHW (batch of one). */
  constructor(private readonly net: Vgg19, style: Tensor, readonly layers: PerceptualLayers, readonly weights: PerceptualWeights) {
    this.wanted = [...new Set([...layers.content, ...layers.style])];
    noGrad(() =>
      tidy(() => {
        const f = net.forward(net.preprocess(style), layers.style);
        for (const l of layers.style) this.styleGrams.set(l, keep(gramMatrixBatch(f.get(l)!)));
      }),
    );
  }

  /**
   * Loss terms of stylised images y for photos x (both RGB [0,1] NCHW, same shape). Tensors join
   * the caller's tidy() scope; the total is differentiable with respect to y.
   */
  terms(y: Tensor, x: Tensor): LossTerms {
    const n = y.shape[0];
    const targets = noGrad(() => this.net.forward(this.net.preprocess(x), this.layers.content));
    const yc = this.net.preprocess(y);
    // bf16 activations stay bf16 for the Gram products (5x faster); content differences in float32.
    const f = this.net.forward(yc, this.wanted, { asComputed: true });
    let content: Tensor | null = null;
    for (const l of this.layers.content) {
      const t = f.get(l)!.cast('float32').sub(targets.get(l)!).square().mean();
      content = content ? content.add(t) : t;
    }
    let style: Tensor | null = null;
    for (const l of this.layers.style) {
      const t = gramMatrixBatch(f.get(l)!).sub(this.styleGrams.get(l)!).square().mean();
      style = style ? style.add(t) : t;
    }
    const c = content!.mul(this.weights.content);
    const s = style!.mul(this.weights.style);
    const tv = totalVariation(yc).mul(this.weights.tv / n);
    return { total: c.add(s).add(tv), content: c, style: s, tv };
  }

  /** The terms as numbers (no gradient), for validation. */
  evaluate(y: Tensor, x: Tensor): LossValues {
    return noGrad(() =>
      tidy(() => {
        const t = this.terms(y, x);
        return { content: t.content.item(), style: t.style.item(), tv: t.tv.item(), total: t.total.item() };
      }),
    );
  }

  dispose(): void {
    for (const g of this.styleGrams.values()) g.dispose();
    this.styleGrams.clear();
  }
}
