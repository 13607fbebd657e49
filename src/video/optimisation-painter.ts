/**
 * Optimisation method for video (Ruder, Dosovitskiy & Brox 2016): every frame is a Gatys
 * optimisation (GatysObjective + the chosen optimiser, every stylize setting applies), and from
 * the second frame on
 * - it starts from the previous stylised frame warped onto this one (the content frame where
 *   the warp is unreliable), so a later frame needs far fewer iterations than the first, and
 * - a temporal loss (temporal-loss.ts) holds the reliable pixels to the warped previous frame.
 */
import { keep, randn, rand, resize, Tensor, tensor, tidy } from '../engine';
import { luminancePreserveColors, matchColourStatistics, RgbImage } from '../image';
import { GatysObjective, StyleSource } from '../losses';
import { Vgg19 } from '../models/vgg19';
import { Adam, Lbfgs, Optimizer } from '../optim';
import type { ResolvedStylizeOptions } from '../transfer/gatys/options';
import { imageToTensor, tensorToImage } from '../transfer/image-tensor';
import type { FramePainter, PaintHooks, TemporalGuide } from './painter';
import { TemporalLoss } from './temporal-loss';

export interface OptimisationPainterOptions {
  /** Every stylize setting (layers, weights, optimiser, init, colours…), resolved. */
  gatys: ResolvedStylizeOptions;
  /** The style paintings, loaded at the frame size × styleScale. */
  styles: RgbImage[];
  /** Iterations of the first frame, and of every later (warm-started) frame. */
  iterations: number;
  frameIterations: number;
  temporalWeight: number;
  device: string;
}

export class OptimisationPainter implements FramePainter {
  private styleImages: RgbImage[];
  private readonly styleTensors: Tensor[] = [];
  private frames = 0;

  constructor(private readonly net: Vgg19, private readonly options: OptimisationPainterOptions) {
    this.styleImages = options.styles;
  }

  async paint(frame: RgbImage, guide: TemporalGuide | null, hooks: PaintHooks = {}): Promise<RgbImage | null> {
    const o = this.options;
    const g = o.gatys;
    if (this.styleTensors.length === 0) {
      // 'histogram': the paintings take the colours of the first frame, once for the whole clip.
      if (g.preserveColors === 'histogram') this.styleImages = this.styleImages.map((s) => matchColourStatistics(s, frame));
      for (const s of this.styleImages) this.styleTensors.push(keep(tidy(() => this.net.preprocess(imageToTensor(s, o.device)))));
    }
    const held: { dispose(): void }[] = [];
    try {
      const content = keep(tidy(() => this.net.preprocess(imageToTensor(frame, o.device))));
      held.push(content);
      const sources: StyleSource[] = this.styleTensors.map((image, i) => ({ image, weight: g.styleBlendWeights[i] }));
      const objective = new GatysObjective(
        this.net,
        content,
        sources,
        { content: g.contentLayers, style: g.styleLayers },
        { content: g.contentWeight, style: g.styleWeight, tv: g.tvWeight },
        { styleLayerWeights: g.styleLayerWeights, normalization: g.lossNormalization, normalizeGradients: g.normalizeGradients },
      );
      held.push(objective);
      const temporal = guide && o.temporalWeight > 0 ? new TemporalLoss(this.net, guide, o.temporalWeight, o.device) : null;
      if (temporal) held.push(temporal);
      const x = keep(tidy(() => (guide ? this.warmStart(guide, content) : this.firstStart(content)).detach().variable()));
      held.push(x);
      const optimizer: Optimizer = g.optimizer === 'lbfgs' ? new Lbfgs(x, { learningRate: g.learningRate, history: g.lbfgsHistory }) : new Adam(x, { learningRate: g.learningRate });
      held.push(optimizer);
      const iterations = this.frames === 0 ? o.iterations : o.frameIterations;
      for (let i = 1; i <= iterations; i++) {
        if (hooks.isCancelled?.()) return null;
        const converged = tidy(() => {
          const gatys = objective.evaluate(x);
          const t = temporal?.evaluate(x);
          const total = gatys.losses.total + (t?.loss ?? 0);
          hooks.onIteration?.(i, iterations, total);
          return optimizer.step(total, t ? gatys.grad.add(t.grad) : gatys.grad);
        });
        if (converged) break;
      }
      this.frames++;
      const out = tidy(() => tensorToImage(this.net.deprocess(x)));
      return g.preserveColors === 'luminance' ? luminancePreserveColors(out, frame) : out;
    } finally {
      for (const h of held.reverse()) h.dispose();
    }
  }

  /** The first frame starts as a still image would (--init content, style or noise). */
  private firstStart(content: Tensor): Tensor {
    const g = this.options.gatys;
    const [, , h, w] = content.shape;
    let start: Tensor;
    if (g.init === 'style') start = resize(this.styleTensors[0], h, w, 'bilinear');
    else if (g.init === 'noise') start = randn([1, 3, h, w], this.options.device).mul(0.001);
    else start = content.clone();
    if (g.noiseRatio > 0) start = start.mul(1 - g.noiseRatio).add(this.net.preprocess(rand([1, 3, h, w], this.options.device)).mul(g.noiseRatio));
    return start;
  }

  /** Later frames: the warped previous result where reliable, the content frame elsewhere. */
  private warmStart(guide: TemporalGuide, content: Tensor): Tensor {
    const [, , h, w] = content.shape;
    const warped = this.net.preprocess(imageToTensor(guide.warped, this.options.device));
    const c = tensor(guide.certainty, [1, 1, h, w], this.options.device);
    return warped.mul(c).add(content.mul(c.neg().add(1)));
  }

  dispose(): void {
    for (const t of this.styleTensors) t.dispose();
    this.styleTensors.length = 0;
    this.net.dispose();
  }
}
