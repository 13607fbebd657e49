/**
 * One optimisation-based style transfer, run in the calling thread: load images and VGG19, build
 * the objective, optimise the pixels (at one or several resolutions), report progress, save
 * intermediate and final images and the run report. Cancellation (Ctrl-C, a cancelled job) stops
 * after the current iteration and still saves the current image, so nothing computed is lost.
 */
import * as path from 'node:path';
import { NstError } from '../../errors';
import { configureThread, keep, releaseFreeMemory, resolvePrecision, rand, randn, resize, Tensor, tensor, tidy } from '../../engine';
import { checkOutputPath, loadImage, loadMask, luminancePreserveColors, matchColourStatistics, RgbImage, saveImage } from '../../image';
import { loadPainting } from '../../image/load-painting';
import type { PaintingBorder } from '../../image/painting-border';
import { Precision, Vgg19, VGG19_LAYER_NAMES } from '../../models';
import { LossBreakdown, StyleSource } from '../../losses';
import { Box, CurvaturePairs, Optimizer } from '../../optim';
import { imageToTensor, tensorToImage } from '../image-tensor';
import { BestPoint } from './best-point';
import { MAX_NON_FINITE_RUN, NON_FINITE_AT_END, overflowedTerm } from './divergence';
import { imageBox, makeOptimizer } from './optimiser-choice';
import { ResolvedStylizeOptions } from './options';
import { upscaleStage } from './pyramid';
import { hasConverged } from './quality';
import { pixelsAtSide, StagedEta } from '../eta';
import { disposePairs, handOverPairs, resampledPairs } from './warm-start';
import { LossRecord, lossPlotSvg, sidecarPath, StageReport, writeAnimation, writeFileAtomicSync } from './report';
import { planRunStage, runTiledStage, TileProgress } from './tiling';
import { RunMemoryWatch } from './memory-watch';
import { residentBytes } from '../memory';
import { finishImage, MethodName, methodStart, runTiles, stageObjective } from '../method';
import { planUntiledStage } from '../method-memory';

export interface StylizeProgress {
  /** The transfer method running. */
  method: MethodName;
  /** Iteration within the current stage. */
  iteration: number;
  /** Iterations of the current stage. */
  iterations: number;
  /** Stage index (0-based) and count, for multi-resolution runs. */
  stage: number;
  stages: number;
  /** Iterations done and to do over all stages (`steps` shrinks when a stage converges early). */
  step: number;
  steps: number;
  /** Losses of the best image so far in this stage (the one shown and saved). */
  losses: LossBreakdown;
  /** Total loss of this very evaluation (a line-search trial can lie above the best). */
  evaluated: number;
  elapsedSeconds: number;
  iterationsPerSecond: number;
  etaSeconds: number;
  /** In a stage optimised in tiles (over the memory budget): which tile of which pass. */
  tile?: TileProgress;
}

export interface StylizeResult {
  /** The transfer method that ran. */
  method: MethodName;
  output: string;
  /** Iterations (loss evaluations) actually run, over all stages. */
  iterations: number;
  cancelled: boolean;
  /** Losses of the written image (the best point of the last stage, scored before 8-bit rounding). */
  losses: LossBreakdown | null;
  /** The quality whose schedule ran, or null for explicit iterations/scales. */
  quality: string | null;
  seconds: number;
  width: number;
  height: number;
  seed: number;
  threads: number;
  device: string;
  /** Compute precision actually used ('auto' resolved). */
  precision: Precision;
  stages: StageReport[];
  /** Intermediate images written by saveEvery. */
  intermediates: string[];
  /** Per style painting: the paper border cropped from it (px of the file), or null. */
  paintingBorders?: (PaintingBorder | null)[];
  /** Report, plot and animation files written beside the output. */
  sidecars: string[];
}

export interface RunHooks {
  onProgress?(progress: StylizeProgress): void;
  onPreview?(image: RgbImage, iteration: number): void | Promise<void>;
  /** Polled once per iteration. */
  isCancelled?(): boolean;
}

export { resolvePrecision };

/** `out.jpg` → `out_0100.jpg`: where step 100 is saved with saveEvery. */
export function intermediatePath(output: string, iteration: number): string {
  const ext = path.extname(output);
  return `${output.slice(0, output.length - ext.length)}_${String(iteration).padStart(4, '0')}${ext}`;
}

interface Inputs {
  content: RgbImage;
  styles: RgbImage[];
  paintingBorders: (PaintingBorder | null)[];
  masks: Tensor[];
  init: RgbImage | null;
}

export async function runStylize(options: ResolvedStylizeOptions, hooks: RunHooks = {}): Promise<StylizeResult> {
  const started = Date.now();
  const runtime = configureThread({ threads: options.threads, device: options.device, seed: options.seed });
  const device = runtime.device;
  const precision = resolvePrecision(options.precision, device);
  checkOutputPath(options.output);
  // Read every input once up front, so bad files fail before any compute.
  let inputs = await loadInputs(options, options.scales[0], device);
  const deepest = [...options.contentLayers, ...options.styleLayers].reduce((a, b) =>
    VGG19_LAYER_NAMES.indexOf(a) > VGG19_LAYER_NAMES.indexOf(b) ? a : b,
  VGG19_LAYER_NAMES[0]);
  const net = Vgg19.load({ modelDir: options.modelDir, pooling: options.pooling, poolGradient: options.poolGradient, device, upTo: deepest, precision });
  const memory = new RunMemoryWatch(options.maxMemory, residentBytes(), { threads: runtime.threads, device, modelDir: options.modelDir });
  const baseBytes = memory.baseBytes;

  let steps = options.scaleIterations.reduce((a, b) => a + b, 0);
  // The ETA weighs each evaluation by its stage's pixels: coarse stages are cheap (see ../eta).
  const { width: contentWidth, height: contentHeight } = inputs.content;
  const eta = new StagedEta(options.scales.map((side, k) => ({ pixels: pixelsAtSide(side, contentWidth, contentHeight), evaluations: options.scaleIterations[k] })));
  const records: LossRecord[] = [];
  const stages: StageReport[] = [];
  const intermediates: string[] = [];
  const box: Box | null = options.bounded ? imageBox(net, device) : null;
  let x: Tensor | null = null;
  // L-BFGS's curvature pairs from the previous stage, at that stage's size (see warmStartPairs).
  let handover: { pairs: CurvaturePairs; pixels: number } | null = null;
  let losses: LossBreakdown | null = null;
  let step = 0;
  let cancelled = false;
  let divergence: string | null = null;
  const loopStart = Date.now();
  // The method's last touch (NNST's colour match), then --preserve-colors luminance.
  const finish = (img: RgbImage, content: RgbImage, styles: RgbImage[]) => {
    const finished = finishImage(options.method, img, styles, options);
    return options.preserveColors === 'luminance' ? luminancePreserveColors(finished, content) : finished;
  };

  try {
    // A method that cannot tile refuses a run whose largest (last) stage is over the budget before
    // any compute, rather than after the smaller stages (sizes scaled from the first stage's).
    if (!runTiles(options)) {
      const grow = options.scales[options.scales.length - 1] / options.scales[0];
      planUntiledStage({
        method: options.method, width: Math.round(contentWidth * grow), height: Math.round(contentHeight * grow),
        stylePixels: inputs.styles.map((s) => s.width * s.height * grow * grow), precision,
        optimizer: options.optimizer, history: options.lbfgsHistory, iterations: options.scaleIterations[options.scales.length - 1],
        maxMemory: options.maxMemory, baseBytes, finalSide: options.scales[options.scales.length - 1],
      });
    }
    for (let stage = 0; stage < options.scales.length && !cancelled && !divergence; stage++) {
      if (stage > 0) {
        for (const m of inputs.masks) m.dispose();
        inputs = await loadInputs(options, options.scales[stage], device);
      }
      const stageStart = Date.now();
      const { width, height } = inputs.content;
      const held: { dispose(): void }[] = [];
      try {
        const content = keep(tidy(() => net.preprocess(imageToTensor(inputs.content, device))));
        held.push(content);
        const sources: StyleSource[] = inputs.styles.map((s, i) => {
          const image = keep(tidy(() => net.preprocess(imageToTensor(s, device))));
          held.push(image);
          return { image, weight: options.styleBlendWeights[i], mask: inputs.masks[i] };
        });
        // Over the memory budget: optimise this stage in overlapping tiles (see ./tiling).
        // Methods that cannot tile run whole or refuse (see ../method-memory.ts).
        const stagePlan = runTiles(options)
          ? planRunStage(options, stage, width, height, sources.map((s) => s.image), precision, baseBytes, memory.measureSettings())
          : planUntiledStage({
            method: options.method, width, height, stylePixels: sources.map((s) => s.image.shape[2] * s.image.shape[3]), precision,
            optimizer: options.optimizer, history: options.lbfgsHistory, iterations: options.scaleIterations[stage],
            maxMemory: options.maxMemory, baseBytes, finalSide: options.scales[options.scales.length - 1],
          });
        const { tiling, checkpoint } = stagePlan;
        if (tiling) {
          if (handover) disposePairs(handover.pairs); // tiles keep their own optimisers
          handover = null;
          const previous: Tensor | null = x;
          x = keep(tidy((): Tensor => {
            const init: Tensor = previous ? upscaleStage(previous, height, width, options.init === 'content' ? content : undefined) : initialImage(net, options, content, sources[0].image, inputs.init, device);
            return (box ? box.projected(init) : init).detach();
          }));
          previous?.dispose();
          const stepBefore = step;
          const iterations = options.scaleIterations[stage];
          const tiled = runTiledStage({
            net, options, plan: tiling, content, styles: sources, image: x!,
            makeOptimizer: (t) => makeOptimizer(options, t, box),
            isCancelled: hooks.isCancelled,
            onIteration: (tileLosses, done, total, tile) => {
              // Progress in the stage's iterations: every tile of every pass is a share of them.
              const i = Math.max(1, Math.floor((done / total) * iterations));
              const advanced = stepBefore + i > step;
              step = stepBefore + i;
              losses = tileLosses;
              const elapsed = (Date.now() - loopStart) / 1000;
              const rate = step / Math.max(elapsed, 1e-9);
              if (advanced && options.printEvery > 0 && (i % options.printEvery === 0 || i === 1 || i === iterations)) records.push({ stage, iteration: i, step, seconds: round(elapsed), losses: tileLosses });
              hooks.onProgress?.({ method: options.method, iteration: i, iterations, stage, stages: options.scales.length, step, steps, losses: tileLosses, evaluated: tileLosses.total, elapsedSeconds: elapsed, iterationsPerSecond: rate, etaSeconds: eta.secondsLeft(stage, i, elapsed), tile });
            },
          });
          cancelled = tiled.cancelled;
          losses = tiled.losses ?? losses;
          const image = x!;
          stages.push({ size: { width, height }, iterations: step - stepBefore, maxIterations: iterations, converged: false, bestLoss: losses?.total ?? NaN, seconds: round((Date.now() - stageStart) / 1000), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), tiling: tiled.report, memory: memory.stageDone(stagePlan) });
          if (stage === options.scales.length - 1 || cancelled) {
            releaseFreeMemory(); // the tiles' freed memory, before sharp allocates for the file
            await saveImage(finish(tidy(() => tensorToImage(net.deprocess(image))), inputs.content, inputs.styles), options.output);
          }
          continue;
        }
        // Stage 0 starts as --init says; later stages from the upscaled previous result (plus the
        // content's finer detail with a content start).
        const previous: Tensor | null = x;
        const start: Tensor = keep(
          tidy((): Tensor => {
            const init = previous
              ? upscaleStage(previous, height, width, options.init === 'content' ? content : undefined)
              : initialImage(net, options, content, sources[0].image, inputs.init, device);
            return (box ? box.projected(init) : init).detach().variable();
          }),
        );
        previous?.dispose();
        x = start;
        // The method's objective for this stage (NNST's target reads the start image).
        const objective = stageObjective({ net, options, content, styles: sources, start, checkpoint, stage });
        held.push(objective);
        const warmStart = handover ? resampledPairs(handover.pairs, handover.pixels, height, width) : undefined;
        handover = null;
        const optimizer: Optimizer = makeOptimizer(options, start, box, warmStart);
        held.push(optimizer);
        const best = new BestPoint();
        held.push(best);
        const bestImage = () => best.image ?? start;
        const current = () => finish(tidy(() => tensorToImage(net.deprocess(bestImage()))), inputs.content, inputs.styles);

        const iterations = options.scaleIterations[stage];
        const bestSoFar: number[] = [];
        let done = 0;
        let nonFinite = 0;
        let converged = false;
        let lastEvaluated: LossBreakdown | null = null;
        for (let i = 1; i <= iterations; i++) {
          if (hooks.isCancelled?.()) {
            cancelled = true;
            break;
          }
          const optimiserDone = tidy(() => {
            const evaluation = objective.evaluate(start);
            lastEvaluated = evaluation.losses;
            best.offer(start, evaluation.losses, i);
            return optimizer.step(evaluation.losses.total, evaluation.grad);
          });
          done = i;
          step++;
          bestSoFar.push(best.loss);
          losses = best.losses ?? lastEvaluated;
          // Line-search trials may overflow and are then shortened; only a persistent overflow is an error.
          nonFinite = Number.isFinite(lastEvaluated!.total) ? 0 : nonFinite + 1;
          if (nonFinite >= MAX_NON_FINITE_RUN) break;
          converged = optimiserDone || hasConverged(bestSoFar, options.scaleTolerances[stage]);
          const elapsed = (Date.now() - loopStart) / 1000;
          const rate = step / Math.max(elapsed, 1e-9);
          if (converged || i === iterations) steps -= iterations - i; // the unused budget of this stage
          if (options.printEvery > 0 && (i % options.printEvery === 0 || i === 1 || i === iterations || converged)) {
            records.push({ stage, iteration: i, step, seconds: round(elapsed), losses: losses! });
          }
          hooks.onProgress?.({
            method: options.method,
            iteration: i,
            iterations,
            stage,
            stages: options.scales.length,
            step,
            steps,
            losses: losses!,
            evaluated: lastEvaluated!.total,
            elapsedSeconds: elapsed,
            iterationsPerSecond: rate,
            etaSeconds: eta.secondsLeft(stage, i, elapsed, converged),
          });
          if (options.saveEvery > 0 && step % options.saveEvery === 0 && step < steps) {
            const file = intermediatePath(options.output, step);
            await saveImage(current(), file);
            intermediates.push(file);
          }
          if (hooks.onPreview && options.previewEvery > 0 && i % options.previewEvery === 0) await hooks.onPreview(current(), step);
          if (converged) break;
        }
        // Adam's iterate average is a candidate too (one more evaluation).
        const average = optimizer.average?.();
        if (average) {
          const candidate = keep(average);
          tidy(() => {
            const evaluation = objective.evaluate(candidate.variable());
            if (best.offer(candidate, evaluation.losses, done)) losses = evaluation.losses;
          });
          candidate.dispose();
        }
        // A stage that ends overflowing, or never produced a finite loss, has diverged.
        if (lastEvaluated && (!best.image || nonFinite >= Math.min(NON_FINITE_AT_END, done))) {
          const recovered = best.image ? `; the last finite image (iteration ${best.iteration} of this stage, loss ${best.loss.toPrecision(4)}) was written` : '';
          divergence = `${overflowedTerm(lastEvaluated)} overflowed and the optimisation did not recover${recovered}; try a smaller --learning-rate, --line-search strong-wolfe or --precision fp32`;
        }
        // The next stage (and the output) continue from the best image of this one.
        if (best.image) tidy(() => start.copyInPlace(best.image!));
        if (stage < options.scales.length - 1) handover = handOverPairs(optimizer, width, height);
        stages.push({
          size: { width, height },
          iterations: done,
          maxIterations: iterations,
          converged,
          bestLoss: best.loss,
          seconds: round((Date.now() - stageStart) / 1000),
          peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
          memory: memory.stageDone(stagePlan),
          ...(checkpoint ? { checkpoint } : {}),
        });
        if (stage === options.scales.length - 1 || cancelled || divergence) {
          if (best.image || !divergence) {
            releaseFreeMemory(); // the stage's freed activations, before sharp allocates for the file
            await saveImage(current(), options.output);
          }
        }
      } finally {
        for (const item of held.reverse()) item.dispose();
      }
    }
  } finally {
    (x as Tensor | null)?.dispose();
    if (handover) disposePairs((handover as { pairs: CurvaturePairs }).pairs);
    for (const m of inputs.masks) m.dispose();
    box?.dispose();
    net.dispose();
  }
  if (divergence) throw new NstError(divergence);

  const result: StylizeResult = {
    method: options.method,
    output: options.output,
    iterations: step,
    cancelled,
    losses,
    quality: options.quality,
    seconds: round((Date.now() - started) / 1000),
    width: inputs.content.width,
    height: inputs.content.height,
    seed: options.seed,
    threads: runtime.threads,
    device,
    precision,
    stages,
    intermediates,
    paintingBorders: inputs.paintingBorders,
    sidecars: [],
  };
  if (options.report) result.sidecars.push(...writeReport(options, result, records));
  if (options.animation !== 'none' && intermediates.length > 0) {
    const file = sidecarPath(options.output, `anim.${options.animation}`);
    await writeAnimation([...intermediates, options.output], file, options.animation);
    result.sidecars.push(file);
  }
  return result;
}

/** Loads the content, styles (recoloured for 'histogram'), masks and init image for one stage size. */
async function loadInputs(options: ResolvedStylizeOptions, size: number, device: string): Promise<Inputs> {
  const content = await loadImage(options.content, { maxSide: size, maxPixels: options.maxPixels });
  const styleSide = Math.max(16, Math.round(size * options.styleScale));
  const paintings = await Promise.all(options.styles.map((s) => loadPainting(s, { maxSide: styleSide, maxPixels: options.maxPixels, keepBorder: options.keepPaintingBorder })));
  let styles = paintings.map((p) => p.image);
  if (options.preserveColors === 'histogram') styles = styles.map((s) => matchColourStatistics(s, content));
  const maskImages = await Promise.all(options.styleMasks.map((m) => loadMask(m, content.width, content.height, { maxPixels: options.maxPixels })));
  const masks = maskImages.map((m) => keep(tensor(m.data, [1, 1, m.height, m.width], device)));
  const init = ['content', 'style', 'noise'].includes(options.init)
    ? null
    : await loadImage(options.init, { width: content.width, height: content.height, maxPixels: options.maxPixels });
  return { content, styles, paintingBorders: paintings.map((p) => p.border), masks, init };
}

/** The starting point of the optimisation, in the network's input convention (NCHW). */
function initialImage(net: Vgg19, options: ResolvedStylizeOptions, content: Tensor, style: Tensor, image: RgbImage | null, device: string): Tensor {
  const [, , h, w] = content.shape;
  let start: Tensor;
  switch (options.init) {
    case 'content':
      start = methodStart(options.method, net, content, style) ?? content.clone();
      break;
    case 'style':
      start = resize(style, h, w, 'bilinear');
      break;
    case 'noise':
      // As neural-style: small Gaussian noise around the mean colour.
      start = randn([1, 3, h, w], device).mul(0.001);
      break;
    default:
      start = net.preprocess(imageToTensor(image!, device));
  }
  if (options.noiseRatio > 0) {
    // Blend a uniform-noise image (pixels uniform in [0,1]) into the start.
    start = start.mul(1 - options.noiseRatio).add(net.preprocess(rand([1, 3, h, w], device)).mul(options.noiseRatio));
  }
  return start;
}

function writeReport(options: ResolvedStylizeOptions, result: StylizeResult, records: LossRecord[]): string[] {
  const reportFile = sidecarPath(options.output, 'report.json');
  const plotFile = sidecarPath(options.output, 'losses.svg');
  const report = {
    tool: 'nst stylize',
    createdAt: new Date().toISOString(),
    settings: options,
    result: { ...result, sidecars: undefined },
    losses: records,
  };
  writeFileAtomicSync(reportFile, JSON.stringify(report, null, 2) + '\n');
  writeFileAtomicSync(plotFile, lossPlotSvg(records, `${path.basename(options.content)} × ${options.styles.map((s) => path.basename(s)).join(' + ')}`));
  return [reportFile, plotFile];
}

const round = (v: number) => Math.round(v * 1000) / 1000;
