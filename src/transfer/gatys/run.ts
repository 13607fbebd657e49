/**
 * One optimisation-based style transfer, run in the calling thread: load images and VGG19, build
 * the objective, optimise the pixels, report progress, save intermediate and final images.
 * Cancellation (Ctrl-C, a cancelled job) stops after the current iteration and still saves the
 * current image, so nothing already computed is lost.
 */
import * as path from 'node:path';
import { configureThread, cpuHasBf16, keep, randn, Tensor, tidy, resize } from '../../engine';
import { checkOutputPath, loadImage, saveImage, RgbImage } from '../../image';
import { fromCaffe, Precision, toCaffe, Vgg19, VGG19_LAYER_NAMES } from '../../models';
import { GatysObjective, LossBreakdown } from '../../losses';
import { Adam, Lbfgs, Optimizer } from '../../optim';
import { imageToTensor, tensorToImage } from '../image-tensor';
import { PrecisionOption, ResolvedStylizeOptions } from './options';

/** 'auto' → bf16 where the CPU has native bf16 instructions (fp32 on CUDA and older CPUs). */
export function resolvePrecision(option: PrecisionOption, device: string): Precision {
  if (option !== 'auto') return option;
  return device === 'cpu' && cpuHasBf16() ? 'bf16' : 'fp32';
}

export interface StylizeProgress {
  iteration: number;
  iterations: number;
  losses: LossBreakdown;
  elapsedSeconds: number;
  iterationsPerSecond: number;
  etaSeconds: number;
}

export interface StylizeResult {
  output: string;
  /** Iterations (loss evaluations) actually run. */
  iterations: number;
  cancelled: boolean;
  /** Losses at the last evaluation. */
  losses: LossBreakdown | null;
  seconds: number;
  width: number;
  height: number;
  seed: number;
  threads: number;
  device: string;
  /** Compute precision actually used ('auto' resolved). */
  precision: Precision;
  /** Intermediate images written by saveEvery. */
  intermediates: string[];
}

export interface RunHooks {
  onProgress?(progress: StylizeProgress): void;
  onPreview?(image: RgbImage, iteration: number): void | Promise<void>;
  /** Polled once per iteration. */
  isCancelled?(): boolean;
}

/** `out.jpg` → `out_0100.jpg`: where iteration 100 is saved with saveEvery. */
export function intermediatePath(output: string, iteration: number): string {
  const ext = path.extname(output);
  return `${output.slice(0, output.length - ext.length)}_${String(iteration).padStart(4, '0')}${ext}`;
}

export async function runStylize(options: ResolvedStylizeOptions, hooks: RunHooks = {}): Promise<StylizeResult> {
  const started = Date.now();
  const runtime = configureThread({ threads: options.threads, device: options.device, seed: options.seed });
  const device = runtime.device;
  checkOutputPath(options.output);
  const contentImage = await loadImage(options.content, { maxSide: options.size, maxPixels: options.maxPixels });
  const styleImage = await loadImage(options.style, { maxSide: options.size, maxPixels: options.maxPixels });
  const initImage = ['content', 'style', 'noise'].includes(options.init)
    ? null
    : await loadImage(options.init, { width: contentImage.width, height: contentImage.height, maxPixels: options.maxPixels });

  const deepest = [...options.contentLayers, ...options.styleLayers].reduce((a, b) =>
    VGG19_LAYER_NAMES.indexOf(a) > VGG19_LAYER_NAMES.indexOf(b) ? a : b,
  );
  const precision = resolvePrecision(options.precision, device);
  const net = Vgg19.load({ modelDir: options.modelDir, pooling: options.pooling, device, upTo: deepest, precision });
  const held: { dispose(): void }[] = [net];
  try {
    const [content, style] = tidy(() => [toCaffe(imageToTensor(contentImage, device)), toCaffe(imageToTensor(styleImage, device))]);
    held.push(keep(content), keep(style));
    const objective = new GatysObjective(
      net,
      content,
      style,
      { content: options.contentLayers, style: options.styleLayers },
      { content: options.contentWeight, style: options.styleWeight, tv: options.tvWeight },
    );
    held.push(objective);
    const x = keep(tidy(() => initialImage(options.init, content, style, initImage, device).detach().variable()));
    held.push(x);
    const optimizer: Optimizer =
      options.optimizer === 'lbfgs' ? new Lbfgs(x, { learningRate: options.learningRate }) : new Adam(x, { learningRate: options.learningRate });
    held.push(optimizer);

    const current = () => tidy(() => tensorToImage(fromCaffe(x)));
    const intermediates: string[] = [];
    let losses: LossBreakdown | null = null;
    let done = 0;
    let cancelled = false;
    const loopStart = Date.now();
    for (let i = 1; i <= options.iterations; i++) {
      if (hooks.isCancelled?.()) {
        cancelled = true;
        break;
      }
      const converged = tidy(() => {
        const evaluation = objective.evaluate(x);
        losses = evaluation.losses;
        return optimizer.step(evaluation.losses.total, evaluation.grad);
      });
      done = i;
      if (!Number.isFinite(losses!.total)) throw new Error(`the loss became ${losses!.total} at iteration ${i}; try a smaller learning rate`);
      const elapsed = (Date.now() - loopStart) / 1000;
      const rate = i / Math.max(elapsed, 1e-9);
      hooks.onProgress?.({
        iteration: i,
        iterations: options.iterations,
        losses: losses!,
        elapsedSeconds: elapsed,
        iterationsPerSecond: rate,
        etaSeconds: (options.iterations - i) / rate,
      });
      if (options.saveEvery > 0 && i % options.saveEvery === 0 && i < options.iterations) {
        const file = intermediatePath(options.output, i);
        await saveImage(current(), file);
        intermediates.push(file);
      }
      if (hooks.onPreview && options.previewEvery > 0 && i % options.previewEvery === 0) await hooks.onPreview(current(), i);
      if (converged) break;
    }
    await saveImage(current(), options.output);
    return {
      output: options.output,
      iterations: done,
      cancelled,
      losses,
      seconds: (Date.now() - started) / 1000,
      width: contentImage.width,
      height: contentImage.height,
      seed: options.seed,
      threads: runtime.threads,
      device,
      precision,
      intermediates,
    };
  } finally {
    for (const item of held.reverse()) item.dispose();
  }
}

/** The starting point of the optimisation, in the Caffe convention (NCHW). */
function initialImage(init: string, content: Tensor, style: Tensor, image: RgbImage | null, device: string): Tensor {
  const [, , h, w] = content.shape;
  switch (init) {
    case 'content':
      return content.clone();
    case 'style':
      return resize(style, h, w, 'bilinear');
    case 'noise':
      // As neural-style: small Gaussian noise around the mean colour.
      return randn([1, 3, h, w], device).mul(0.001);
    default:
      return toCaffe(imageToTensor(image!, device));
  }
}
