/**
 * The Gatys objective: content loss at the content layers + style loss summed over the style
 * layers + total variation. Targets (content features, style Gram matrices) are computed once,
 * without gradients, and kept until dispose().
 *
 * Several styles are either blended (target = Σ wᵢ·Gᵢ, weights as given) or, with masks, each
 * paints its own region of the output (masked Gram matrices, Gatys et al. 2017). Optionally the
 * gradient of each loss term is L1-normalised at its layer before backpropagation to the image
 * (neural-style's -normalize_gradients); the reported losses are unchanged by that.
 */
import { full, gradients, keep, noGrad, resize, stack, Tensor, tidy } from '../engine';
import { Vgg19 } from '../models/vgg19';
import { contentLoss } from './content';
import { gramMatrix, LossNormalization } from './gram';
import { styleLoss } from './style';
import { totalVariation } from './total-variation';
import { ContentLossName, LayerTarget, layerStyleTarget, selfSimilarityTarget, SelfSimilarityOptions, StyleLossName } from './layer-losses';
import { randomFromTorch } from './sampling';
import { NstError } from '../errors';

export interface GatysWeights {
  content: number;
  style: number;
  tv: number;
}

export interface GatysLayers {
  content: string[];
  style: string[];
}

export interface StyleSource {
  /** Preprocessed style image (NCHW, Caffe convention); its size may differ from the output's. */
  image: Tensor;
  /** Blend weight of this style's Gram targets (used as given; default 1). */
  weight?: number;
  /** The output region this style paints: 1 × 1 × H × W in [0,1], at the output's size. */
  mask?: Tensor;
}

export interface ObjectiveOptions {
  /** Multipliers of the style weight, one per style layer (default 1 each). */
  styleLayerWeights?: number[];
  /** 'mean' (default, the project's contract) or 'sum' (the paper's ½Σ and 1/(4N²M²)). */
  normalization?: LossNormalization;
  /** L1-normalise each term's gradient at its layer (as neural-style's -normalize_gradients). */
  normalizeGradients?: boolean;
  /**
   * Precomputed Gram targets, one map (style layer → Gram) per style source, used instead of the
   * sources' images (tiled runs share the whole style image's targets among tiles). Copied.
   */
  styleGrams?: Map<string, Tensor>[];
  /**
   * Recompute VGG19's activations block by block in the backward pass instead of keeping them all
   * (gradient checkpointing): the same gradient, less memory per pixel, one more forward pass.
   * Not combined with normalizeGradients (which needs every layer's graph at once).
   */
  checkpoint?: boolean;
  /**
   * The style loss at each style layer (default 'gram'; see STYLE_LOSSES). The others do not take
   * masks or precomputed Gram targets, and `normalization` applies to 'gram' and 'mse' only.
   */
  styleLoss?: StyleLossName;
  /** The content loss at each content layer (default 'mse'; see CONTENT_LOSSES). */
  contentLoss?: ContentLossName;
  /** Multipliers of the content weight, one per content layer (default 1 each). */
  contentLayerWeights?: number[];
  /** How the self-similarity content loss samples positions (see SelfSimilarityOptions). */
  selfSimilarity?: SelfSimilarityOptions;
  /** Random directions of the 'swd' style loss, one count per style layer (default: the layer's channels). */
  swdDirections?: (number | undefined)[];
  /** Most output positions the 'swd' style loss compares, per style layer (a random subset above; default: every position). */
  swdPositions?: (number | undefined)[];
}

/** Loss values of one evaluation, as plain numbers. */
export interface LossBreakdown {
  total: number;
  content: Record<string, number>;
  style: Record<string, number>;
  tv: number;
}

/** One weighted loss term at one layer. */
interface Term {
  kind: 'content' | 'style';
  layer: string;
  loss: Tensor;
  weight: number;
}

interface StyleTargets {
  grams: Map<string, Tensor>;
  mask?: Tensor;
  /** The mask resized to each layer's feature size, made on first use. */
  layerMasks: Map<string, Tensor>;
}

export class GatysObjective {
  private readonly contentTargets = new Map<string, Tensor>();
  private readonly styles: StyleTargets[] = [];
  private readonly wanted: string[];
  private readonly normalization: LossNormalization;
  private readonly styleLayerWeights: number[];
  private readonly contentLayerWeights: Map<string, number>;
  /** Per-layer targets of a style loss other than 'gram' / of the self-similarity content loss. */
  private readonly styleBlocks = new Map<string, LayerTarget>();
  private readonly contentBlocks = new Map<string, LayerTarget>();

  /**
   * content: the preprocessed content image, or null when no content loss is wanted (pure
   * texture synthesis). style: one preprocessed image, or several StyleSources.
   */
  constructor(
    private readonly net: Vgg19,
    content: Tensor | null,
    style: Tensor | StyleSource[],
    readonly layers: GatysLayers,
    readonly weights: GatysWeights,
    readonly options: ObjectiveOptions = {},
  ) {
    const sources = style instanceof Tensor ? [{ image: style }] : style;
    this.normalization = options.normalization ?? 'mean';
    this.styleLayerWeights = options.styleLayerWeights ?? layers.style.map(() => 1);
    if (this.styleLayerWeights.length !== layers.style.length) {
      throw new Error(`styleLayerWeights has ${this.styleLayerWeights.length} values for ${layers.style.length} style layers`);
    }
    const contentMultipliers = options.contentLayerWeights ?? layers.content.map(() => 1);
    if (contentMultipliers.length !== layers.content.length) {
      throw new Error(`contentLayerWeights has ${contentMultipliers.length} values for ${layers.content.length} content layers`);
    }
    this.contentLayerWeights = new Map(layers.content.map((l, i) => [l, contentMultipliers[i]]));
    if (options.swdDirections && options.swdDirections.length !== layers.style.length) {
      throw new Error(`swdDirections has ${options.swdDirections.length} values for ${layers.style.length} style layers`);
    }
    if (options.swdPositions && options.swdPositions.length !== layers.style.length) {
      throw new Error(`swdPositions has ${options.swdPositions.length} values for ${layers.style.length} style layers`);
    }
    if (!content && layers.content.length > 0 && weights.content > 0) throw new Error('content layers need a content image');
    const masked = sources.some((s) => s.mask);
    if (masked && !sources.every((s) => s.mask)) throw new Error('either every style has a mask or none has');
    this.wanted = [...new Set([...(content ? layers.content : []), ...layers.style])];
    const styleLoss = options.styleLoss ?? 'gram';
    if (styleLoss !== 'gram') {
      if (masked) throw new NstError(`--style-mask works with --style-loss gram only (not ${styleLoss})`);
      if (options.styleGrams) throw new Error(`precomputed Gram targets do not apply to the ${styleLoss} style loss`);
    }
    // Sampling and random directions draw from libtorch's generator; the default losses never do.
    const random = styleLoss !== 'gram' || options.contentLoss === 'self-similarity' ? randomFromTorch() : null;
    noGrad(() =>
      tidy(() => {
        if (content) {
          const fc = this.net.forward(content, layers.content);
          for (const l of layers.content) this.contentTargets.set(l, keep(fc.get(l)!.clone()));
          if (options.contentLoss === 'self-similarity') for (const l of layers.content) this.contentBlocks.set(l, selfSimilarityTarget(fc.get(l)!, random!, options.selfSimilarity));
        }
        if (styleLoss !== 'gram') {
          const perSource = sources.map((s) => this.net.forward(s.image, layers.style));
          layers.style.forEach((l, k) => {
            const features = perSource.map((f, i) => ({ features: f.get(l)!, weight: sources[i].weight ?? 1 }));
            this.styleBlocks.set(l, layerStyleTarget(styleLoss, features, random!, { directions: options.swdDirections?.[k], positions: options.swdPositions?.[k] }));
          });
          return;
        }
        const perStyle = sources.map((s, i) => {
          const given = options.styleGrams?.[i];
          if (given) return new Map(layers.style.map((l) => [l, given.get(l)!.clone()]));
          const fs = this.net.forward(s.image, layers.style);
          return new Map(layers.style.map((l) => [l, gramMatrix(fs.get(l)!, this.normalization)]));
        });
        if (masked) {
          sources.forEach((s, i) => {
            for (const g of perStyle[i].values()) keep(g);
            this.styles.push({ grams: perStyle[i], mask: keep(s.mask!.clone()), layerMasks: new Map() });
          });
        } else {
          // Blending: one target per layer, Σ wᵢ Gᵢ.
          const grams = new Map<string, Tensor>();
          for (const l of layers.style) {
            let blended: Tensor | null = null;
            sources.forEach((s, i) => {
              const g = perStyle[i].get(l)!.mul(s.weight ?? 1);
              blended = blended ? blended.add(g) : g;
            });
            grams.set(l, keep(blended!));
          }
          this.styles.push({ grams, layerMasks: new Map() });
        }
      }),
    );
  }

  /** The target Gram matrix of a style layer (of the first, or blended, style). */
  styleTarget(layer: string): Tensor | undefined {
    return this.styles[0]?.grams.get(layer);
  }

  /** Every weighted term at x, plus the features they read; all join the caller's tidy() scope. */
  private termsAt(x: Tensor): { terms: Term[]; features: Map<string, Tensor>; tv: Tensor } {
    // bf16 activations stay bf16 for the losses (faster Gram matrices), except where each term's
    // gradient is normalised at its layer: that arithmetic stays in float32.
    const features = this.net.forward(x, this.wanted, { asComputed: !this.options.normalizeGradients });
    return { terms: this.termsOf(features), features, tv: totalVariation(x).mul(this.weights.tv) };
  }

  /** The weighted terms that read these layers' features (content first, then style, in layer order). */
  private termsOf(features: Map<string, Tensor>): Term[] {
    const terms: Term[] = [];
    for (const [layer, target] of this.contentTargets) {
      const f = features.get(layer);
      if (!f) continue;
      const weight = this.weights.content * this.contentLayerWeights.get(layer)!;
      const block = this.contentBlocks.get(layer);
      const loss = block ? block.loss(f, weight) : contentLoss(f, target, weight, this.normalization);
      terms.push({ kind: 'content', layer, weight, loss });
    }
    this.layers.style.forEach((layer, i) => {
      const f = features.get(layer);
      if (!f) return;
      const weight = this.weights.style * this.styleLayerWeights[i];
      const block = this.styleBlocks.get(layer);
      if (block) {
        terms.push({ kind: 'style', layer, weight, loss: block.loss(f, weight) });
        return;
      }
      for (const style of this.styles) {
        const mask = style.mask ? this.layerMask(style, layer, f) : undefined;
        terms.push({ kind: 'style', layer, weight, loss: styleLoss(f, style.grams.get(layer)!, weight, this.normalization, mask) });
      }
    });
    return terms;
  }

  /**
   * evaluate() with checkpointing: a forward pass without a graph keeps only each VGG19 block's
   * input; then, from the deepest block back, each block is run again with its graph, and its own
   * terms plus ⟨gradient from the blocks above, its output⟩ are differentiated with respect to its
   * input. At most one block's activations are alive at a time.
   */
  private evaluateCheckpointed(x: Tensor): { losses: LossBreakdown; grad: Tensor } {
    const segments = this.net.segments(this.wanted);
    const want = new Set(this.wanted);
    const inputs: Tensor[] = [x];
    noGrad(() => {
      for (const [start, end] of segments.slice(0, -1)) inputs.push(this.net.forwardRange(inputs[inputs.length - 1], start, end, new Set()).output);
    });
    const perBlock: Term[][] = [];
    let tv: Tensor | undefined;
    let upstream: Tensor | undefined; // d(the deeper blocks' terms) / d(this block's output)
    for (let k = segments.length - 1; k >= 0; k--) {
      const [start, end] = segments[k];
      const step = tidy(() => {
        const input = k === 0 ? x : inputs[k].variable();
        const { output, features } = this.net.forwardRange(input, start, end, want, { asComputed: true });
        const local = this.termsOf(features);
        const outputs = local.map((t) => t.loss);
        const blockTv = k === 0 ? totalVariation(x).mul(this.weights.tv) : undefined;
        if (blockTv) outputs.push(blockTv);
        const seeds = outputs.map((o) => full(o.shape, 1, o.device));
        if (upstream) {
          outputs.push(output);
          seeds.push(upstream);
        }
        const [grad] = gradients(outputs, [input], { gradOutputs: seeds });
        if (!grad) throw new Error('no gradient reached the image');
        return { grad, tv: blockTv?.detach(), terms: local.map((t) => ({ ...t, loss: t.loss.detach() })) };
      });
      upstream?.dispose();
      if (k > 0) inputs[k].dispose();
      upstream = step.grad;
      tv = step.tv ?? tv;
      perBlock[k] = step.terms;
    }
    const terms = perBlock.flat(); // in layer order, as the reports list them
    const total = terms.reduce((sum, t) => sum.add(t.loss), tv!);
    return { losses: breakdown(total, group(terms), tv!), grad: upstream! };
  }

  private layerMask(style: StyleTargets, layer: string, features: Tensor): Tensor {
    const [, , h, w] = features.shape;
    let m = style.layerMasks.get(layer);
    if (!m || m.shape[2] !== h || m.shape[3] !== w) {
      m?.dispose();
      m = keep(noGrad(() => tidy(() => resize(style.mask!, h, w, 'bilinear'))));
      style.layerMasks.set(layer, m);
    }
    return m;
  }

  /**
   * Loss terms at x as tensors (the total can be backpropagated), and the VGG19 features they
   * read (so callers can add terms on them without another pass); all join the caller's scope.
   */
  terms(x: Tensor): { total: Tensor; content: Map<string, Tensor>; style: Map<string, Tensor>; tv: Tensor; features: Map<string, Tensor> } {
    const { terms, features, tv } = this.termsAt(x);
    return { ...group(terms), tv, features, total: terms.reduce((sum, t) => sum.add(t.loss), tv) };
  }

  /**
   * Evaluates the objective at x and its gradient with respect to x. x must be a variable
   * (requires grad). Returns plain numbers and the gradient tensor (in the caller's scope).
   */
  evaluate(x: Tensor): { losses: LossBreakdown; grad: Tensor } {
    if (this.options.checkpoint && !this.options.normalizeGradients) return this.evaluateCheckpointed(x);
    const { terms, features, tv } = this.termsAt(x);
    const total = terms.reduce((sum, t) => sum.add(t.loss), tv);
    if (!this.options.normalizeGradients) {
      x.zeroGrad();
      total.backward();
      const grad = x.grad();
      if (!grad) throw new Error('no gradient reached the image');
      // Read the losses after queueing the backward pass: on CUDA the read waits for the device,
      // and this way it waits once for forward and backward together.
      return { losses: breakdown(total, group(terms), tv), grad };
    }
    const losses = breakdown(total, group(terms), tv);
    // Per term: d term / d features, scaled to unit L1 norm times the term's weight, summed per
    // layer, then pulled back to the image in one pass together with the TV gradient.
    const perLayer = new Map<string, Tensor>();
    for (const t of terms) {
      const [g] = gradients([t.loss], [features.get(t.layer)!], { retainGraph: true });
      const normalised = g!.mul(t.weight).div(g!.abs().sum().add(1e-8));
      const prev = perLayer.get(t.layer);
      perLayer.set(t.layer, prev ? prev.add(normalised) : normalised);
    }
    const layers = [...perLayer.keys()];
    const [fromFeatures] = gradients(layers.map((l) => features.get(l)!), [x], { gradOutputs: layers.map((l) => perLayer.get(l)!), retainGraph: true });
    const [fromTv] = gradients([tv], [x]);
    return { losses, grad: fromTv ? fromFeatures!.add(fromTv) : fromFeatures! };
  }

  dispose(): void {
    for (const t of this.contentTargets.values()) t.dispose();
    this.contentTargets.clear();
    for (const b of [...this.styleBlocks.values(), ...this.contentBlocks.values()]) b.dispose();
    this.styleBlocks.clear();
    this.contentBlocks.clear();
    for (const s of this.styles) {
      for (const g of s.grams.values()) g.dispose();
      for (const m of s.layerMasks.values()) m.dispose();
      s.mask?.dispose();
    }
    this.styles.length = 0;
  }
}

/** Terms summed per kind and layer. */
function group(terms: Term[]): { content: Map<string, Tensor>; style: Map<string, Tensor> } {
  const content = new Map<string, Tensor>();
  const style = new Map<string, Tensor>();
  for (const t of terms) {
    const m = t.kind === 'content' ? content : style;
    const prev = m.get(t.layer);
    m.set(t.layer, prev ? prev.add(t.loss) : t.loss);
  }
  return { content, style };
}

/** Every loss value in one read-back (on CUDA each read waits for the device: one wait, not eight). */
function breakdown(total: Tensor, g: { content: Map<string, Tensor>; style: Map<string, Tensor> }, tv: Tensor): LossBreakdown {
  const content = [...g.content];
  const style = [...g.style];
  const stacked = noGrad(() => stack([total, tv, ...content.map(([, v]) => v), ...style.map(([, v]) => v)], 0));
  const values = stacked.data();
  stacked.dispose();
  let i = 2;
  const record = (list: [string, Tensor][]) => Object.fromEntries(list.map(([k]) => [k, values[i++]]));
  return { total: values[0], tv: values[1], content: record(content), style: record(style) };
}
