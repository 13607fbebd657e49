/**
 * Optimisation method for video (Ruder, Dosovitskiy & Brox 2016): every frame is a Gatys
 * optimisation (GatysObjective + the chosen optimiser, every stylize setting applies), and from
 * the second frame on
 * - it starts from the previous stylised frame warped onto this one (the content frame where
 *   the warp is unreliable), so a later frame needs far fewer iterations than the first, and
 * - a temporal loss (temporal-loss.ts) holds the reliable pixels to the warped previous frame.
 * Each frame is planned within the memory budget as `nst stylize` plans a stage (whole, with
 * checkpointing, or in tiles). A frame in tiles (../transfer/gatys/tiling) starts from the warped
 * previous frame too, but its objective has no temporal term: the tiles' objective is the still
 * image's.
 */
import { keep, randn, rand, resize, Tensor, tensor, tidy } from '../engine';
import { luminancePreserveColors, matchColourStatistics, RgbImage } from '../image';
import { GatysObjective, StyleSource } from '../losses';
import type { Precision } from '../models';
import { Vgg19 } from '../models/vgg19';
import { Adam, Lbfgs, Optimizer } from '../optim';
import type { RunMemoryWatch, StageMemoryReport } from '../transfer/gatys/memory-watch';
import type { ResolvedStylizeOptions } from '../transfer/gatys/options';
import { planRunStage, runTiledStage, StageTilingPlan } from '../transfer/gatys/tiling';
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
  /**
   * Plans every frame within the run's memory budget (the watch's base includes the video
   * pipeline); absent, frames are optimised whole.
   */
  memory?: { watch: RunMemoryWatch; precision: Precision };
}

export class OptimisationPainter implements FramePainter {
  private styleImages: RgbImage[];
  private readonly styleTensors: Tensor[] = [];
  private frames = 0;
  tile: number | null = null;
  /** The memory report of the last finished frame (with options.memory). */
  lastMemory: StageMemoryReport | null = null;

  constructor(private readonly net: Vgg19, private readonly options: OptimisationPainterOptions) {
    this.styleImages = options.styles;
  }

  async paint(frame: RgbImage, guide: TemporalGuide | null, hooks: PaintHooks = {}): Promise<RgbImage | null> {
    const o = this.options;
    if (this.styleTensors.length === 0) {
      // 'histogram': the paintings take the colours of the first frame, once for the whole clip.
      if (o.gatys.preserveColors === 'histogram') this.styleImages = this.styleImages.map((s) => matchColourStatistics(s, frame));
      for (const s of this.styleImages) this.styleTensors.push(keep(tidy(() => this.net.preprocess(imageToTensor(s, o.device)))));
    }
    const iterations = this.frames === 0 ? o.iterations : o.frameIterations;
    // The planner reads the stage's iterations (the L-BFGS history they fill) from the options.
    const g: ResolvedStylizeOptions = { ...o.gatys, scaleIterations: [iterations] };
    const memory = o.memory;
    const plan = memory ? planRunStage(g, 0, frame.width, frame.height, this.styleTensors, memory.precision, memory.watch.baseBytes, memory.watch.measureSettings()) : null;
    this.tile = plan?.tiling?.grid.tile ?? null;
    const out = this.optimise(frame, guide, hooks, g, iterations, plan?.tiling ?? null, plan?.checkpoint ?? false);
    if (!out) return null;
    if (plan) this.lastMemory = memory!.watch.stageDone(plan);
    this.frames++;
    return g.preserveColors === 'luminance' ? luminancePreserveColors(out, frame) : out;
  }

  private optimise(frame: RgbImage, guide: TemporalGuide | null, hooks: PaintHooks, g: ResolvedStylizeOptions, iterations: number, tiling: StageTilingPlan | null, checkpoint: boolean): RgbImage | null {
    const o = this.options;
    const held: { dispose(): void }[] = [];
    try {
      const content = keep(tidy(() => this.net.preprocess(imageToTensor(frame, o.device))));
      held.push(content);
      const sources: StyleSource[] = this.styleTensors.map((image, i) => ({ image, weight: g.styleBlendWeights[i] }));
      const start = () => (guide ? this.warmStart(guide, content) : this.firstStart(content)).detach();
      if (tiling) {
        const image = keep(tidy(start));
        held.push(image);
        const tiled = runTiledStage({
          net: this.net, options: g, plan: tiling, content, styles: sources, image,
          makeOptimizer: (x) => this.optimizer(x),
          isCancelled: hooks.isCancelled,
          onIteration: (losses, done, total) => hooks.onIteration?.(done, total, losses.total),
        });
        return tiled.cancelled ? null : tidy(() => tensorToImage(this.net.deprocess(image)));
      }
      const objective = new GatysObjective(
        this.net,
        content,
        sources,
        { content: g.contentLayers, style: g.styleLayers },
        { content: g.contentWeight, style: g.styleWeight, tv: g.tvWeight },
        { styleLayerWeights: g.styleLayerWeights, normalization: g.lossNormalization, normalizeGradients: g.normalizeGradients, checkpoint },
      );
      held.push(objective);
      const temporal = guide && o.temporalWeight > 0 ? new TemporalLoss(this.net, guide, o.temporalWeight, o.device) : null;
      if (temporal) held.push(temporal);
      const x = keep(tidy(() => start().variable()));
      held.push(x);
      const optimizer = this.optimizer(x);
      held.push(optimizer);
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
      return tidy(() => tensorToImage(this.net.deprocess(x)));
    } finally {
      for (const h of held.reverse()) h.dispose();
    }
  }

  private optimizer(x: Tensor): Optimizer {
    const g = this.options.gatys;
    return g.optimizer === 'lbfgs' ? new Lbfgs(x, { learningRate: g.learningRate, history: g.lbfgsHistory }) : new Adam(x, { learningRate: g.learningRate });
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
