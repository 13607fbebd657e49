/**
 * Training a feed-forward style network ('johnson-upsample') on a folder of photos, in the
 * calling thread: random crops → network → perceptual loss (VGG19) → Adam. Every
 * `checkpointEvery` steps: the validation loss on held-out photos and a checkpoint (weights,
 * Adam's moments, progress; written atomically). Cancellation (Ctrl-C) finishes the current step,
 * writes a checkpoint and returns; `resume` continues from a checkpoint at its iteration count.
 * Memory: every step runs in a tidy() scope, so nothing grows per step.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configureThread, gradients, keep, noGrad, resolvePrecision, Tensor, tensor, tidy } from '../../engine';
import { NstError } from '../../errors';
import { loadImage } from '../../image';
import { Vgg19, VGG19_LAYER_NAMES } from '../../models/vgg19';
import {
  checkArchitecture,
  LossValues,
  readStyleModel,
  StyleModelFile,
  StyleModelMetadata,
  STYLE_MODEL_FORMAT,
  STYLE_MODEL_VERSION,
  writeStyleModel,
} from '../../models/style-model-format';
import { StoredWeight, TransformerNet } from '../../models/transformer-net';
import { imageToTensor } from '../image-tensor';
import { ADAM_DEFAULTS, ParamAdam } from './adam';
import { centreCrop, CropSampler, scanDataset } from './dataset';
import { PerceptualLoss } from './loss';
import { ResolvedTrainOptions } from './train-options';

export const TRAIN_VARIANT = 'johnson-upsample' as const;

export type TrainProgress =
  | {
      type: 'step';
      iteration: number;
      iterations: number;
      /** Fractional epochs done. */
      epoch: number;
      losses: LossValues;
      elapsedSeconds: number;
      iterationsPerSecond: number;
      etaSeconds: number;
    }
  | { type: 'checkpoint'; iteration: number; file: string; validation: LossValues | null }
  | { type: 'info' | 'warning'; message: string };

export interface TrainResult {
  /** The trained model, or null when the run was cancelled before the end. */
  output: string | null;
  checkpoint: string;
  /** Whether this run wrote the checkpoint (false when stopped before its first step). */
  checkpointWritten: boolean;
  startIteration: number;
  iterations: number;
  /** The planned number of steps. */
  totalIterations: number;
  cancelled: boolean;
  losses: { train: LossValues | null; validation: LossValues | null; first: LossValues | null };
  seconds: number;
  msPerStep: number;
  threads: number;
  device: string;
  seed: number;
  dataset: { train: number; validation: number; unreadable: number; tooSmall: number };
}

export interface TrainHooks {
  onProgress?(progress: TrainProgress): void;
  /** Polled once per step. */
  isCancelled?(): boolean;
}

const HISTORY_LIMIT = 2000;

export async function runTrain(o: ResolvedTrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const started = Date.now();
  const runtime = configureThread({ threads: o.threads, device: o.device, seed: o.seed });
  const device = runtime.device;
  const post = (p: TrainProgress) => hooks.onProgress?.(p);
  const warn = (message: string) => post({ type: 'warning', message });

  const checkpoint: StyleModelFile | null = o.resume ? readCheckpoint(o.resume) : null;
  const seed = checkpoint ? Number(checkpoint.metadata.training?.seed ?? o.seed) : o.seed;
  const data = await scanDataset(o.dataset, { cropSize: o.imageSize, validationImages: o.validationImages, seed, warn });
  const sampler = new CropSampler(data.train, o.imageSize, seed, warn);
  const totalIterations = o.iterations ?? Math.max(1, Math.ceil(((o.epochs ?? 1) * data.train.length) / o.batchSize));
  const startIteration = checkpoint?.metadata.progress?.iteration ?? 0;
  if (startIteration >= totalIterations) {
    throw new NstError(
      `checkpoint ${o.resume} is at iteration ${startIteration}, which already reaches the ${totalIterations} planned; raise --iterations to train further`,
    );
  }
  post({
    type: 'info',
    message:
      `dataset: ${data.train.length} training photos, ${data.validation.length} held out for validation` +
      (startIteration > 0 ? `; resuming at iteration ${startIteration} of ${totalIterations}` : `; ${totalIterations} iterations`),
  });

  const styleImage = await loadImage(o.style, { maxSide: o.styleSize });
  const deepest = [...o.contentLayers, ...o.styleLayers].reduce((a, b) => (VGG19_LAYER_NAMES.indexOf(a) > VGG19_LAYER_NAMES.indexOf(b) ? a : b));
  const held: { dispose(): void }[] = [];
  try {
    const precision = resolvePrecision(o.precision, device);
    const vgg = Vgg19.load({ modelDir: o.modelDir, pooling: o.pooling, device, upTo: deepest, precision });
    held.push(vgg);
    const styleTensor = imageToTensor(styleImage, device);
    const loss = new PerceptualLoss(vgg, styleTensor, { content: o.contentLayers, style: o.styleLayers }, { content: o.contentWeight, style: o.styleWeight, tv: o.tvWeight });
    styleTensor.dispose();
    held.push(loss);

    const net = checkpoint
      ? TransformerNet.fromWeights(TRAIN_VARIANT, checkpoint.tensors, { device, source: o.resume! })
      : TransformerNet.initialise(TRAIN_VARIANT, device);
    held.push(net);
    net.precision = precision;
    const params = net.parameters();
    for (const p of params.values()) p.variable();
    const adam = new ParamAdam(params, { learningRate: o.learningRate, ...ADAM_DEFAULTS });
    held.push(adam);
    if (checkpoint) restoreAdam(adam, checkpoint, o.resume!, device);

    const validation = await loadValidation(data.validation, o.imageSize, device);
    if (validation) held.push(validation);

    const history: ({ iteration: number } & LossValues)[] = checkpoint?.metadata.losses?.history?.slice() ?? [];
    const validations: ({ iteration: number } & LossValues)[] = checkpoint?.metadata.losses?.validation?.slice() ?? [];
    const priorSeconds = checkpoint?.metadata.progress?.seconds ?? 0;
    const window = { sum: zeroLosses(), count: 0 };
    let last: LossValues | null = null;
    let first: LossValues | null = null;
    const windowSize = Math.max(1, o.printEvery || 50);

    const settings = trainingSettings(o, data, totalIterations, seed);
    const metadata = (iteration: number, withOptimizer: boolean): StyleModelMetadata => ({
      format: STYLE_MODEL_FORMAT,
      version: STYLE_MODEL_VERSION,
      architecture: net.architecture,
      style: { name: o.name, image: path.basename(o.style), size: o.styleSize },
      training: settings,
      progress: {
        iteration,
        iterations: totalIterations,
        epoch: round((iteration * o.batchSize) / data.train.length, 3),
        seconds: round(priorSeconds + (Date.now() - started) / 1000, 1),
      },
      losses: { train: last ?? undefined, validation: validations, history: thin(history) },
      ...(withOptimizer ? { optimizer: { name: 'adam' as const, step: adam.step, learningRate: o.learningRate, ...ADAM_DEFAULTS } } : {}),
      created: new Date().toISOString(),
      software: `neural-style-ts ${packageVersion()}`,
    });
    const saveCheckpoint = (iteration: number) => {
      const tensors = net.storedWeights();
      for (const [name, m] of adam.m) tensors.set(`adam.m/${name}`, TransformerNet.toStored(name, m));
      for (const [name, v] of adam.v) tensors.set(`adam.v/${name}`, TransformerNet.toStored(name, v));
      writeStyleModel(o.checkpoint, metadata(iteration, true), tensors);
    };
    const validate = (iteration: number): LossValues | null => {
      if (!validation) return null;
      const v = validationLoss(net, loss, validation, o.batchSize);
      validations.push({ iteration, ...v });
      return v;
    };

    if (startIteration === 0) {
      const v = validate(0);
      if (v) post({ type: 'info', message: `validation loss before training: ${v.total.toExponential(3)}` });
    }

    const batchOf = (iteration: number) => sampler.batch((iteration - 1) * o.batchSize, o.batchSize);
    let pending: Promise<Float32Array> | null = batchOf(startIteration + 1);
    let done = startIteration;
    let cancelled = false;
    const loopStart = Date.now();
    try {
      for (let it = startIteration + 1; it <= totalIterations; it++) {
        if (hooks.isCancelled?.()) {
          cancelled = true;
          break;
        }
        const batch = await pending!;
        // Decode the next batch (libuv threads) while this step computes.
        pending = it < totalIterations ? batchOf(it + 1) : null;
        pending?.catch(() => undefined);
        const values = trainStep(net, loss, adam, params, batch, o.batchSize, o.imageSize, device);
        if (!Number.isFinite(values.total)) {
          throw new NstError(`the loss became ${values.total} at iteration ${it}; try a smaller --learning-rate or --style-weight`);
        }
        done = it;
        first ??= values;
        addLosses(window.sum, values);
        window.count++;
        if (window.count === windowSize || it === totalIterations) {
          last = scaleLosses(window.sum, 1 / window.count);
          history.push({ iteration: it, ...last });
          window.sum = zeroLosses();
          window.count = 0;
        }
        const elapsed = (Date.now() - loopStart) / 1000;
        const rate = (it - startIteration) / Math.max(elapsed, 1e-9);
        post({
          type: 'step',
          iteration: it,
          iterations: totalIterations,
          epoch: (it * o.batchSize) / data.train.length,
          losses: values,
          elapsedSeconds: elapsed,
          iterationsPerSecond: rate,
          etaSeconds: (totalIterations - it) / rate,
        });
        if (it % o.checkpointEvery === 0 && it < totalIterations) {
          const v = validate(it);
          saveCheckpoint(it);
          post({ type: 'checkpoint', iteration: it, file: o.checkpoint, validation: v });
        }
      }
    } finally {
      await pending?.catch(() => undefined);
    }
    const loopSeconds = (Date.now() - loopStart) / 1000;
    if (window.count > 0) {
      last = scaleLosses(window.sum, 1 / window.count);
      history.push({ iteration: done, ...last });
    }
    let finalValidation: LossValues | null = null;
    if (done > startIteration) {
      if (!cancelled) finalValidation = validate(done);
      saveCheckpoint(done);
      post({ type: 'checkpoint', iteration: done, file: o.checkpoint, validation: finalValidation });
    }
    let output: string | null = null;
    if (!cancelled) {
      writeStyleModel(o.output, metadata(done, false), net.storedWeights());
      output = o.output;
    }
    return {
      output,
      checkpoint: o.checkpoint,
      checkpointWritten: done > startIteration,
      startIteration,
      iterations: done,
      totalIterations,
      cancelled,
      losses: { train: last, validation: finalValidation ?? validations[validations.length - 1] ?? null, first },
      seconds: (Date.now() - started) / 1000,
      msPerStep: done > startIteration ? (1000 * loopSeconds) / (done - startIteration) : 0,
      threads: runtime.threads,
      device,
      seed,
      dataset: { train: data.train.length, validation: data.validation.length, unreadable: data.unreadable, tooSmall: data.tooSmall },
    };
  } finally {
    for (const h of held.reverse()) h.dispose();
  }
}

/** One optimisation step on a batch (planar [B,3,S,S] in [0,1]); returns the loss terms. */
export function trainStep(
  net: TransformerNet,
  loss: PerceptualLoss,
  adam: ParamAdam,
  params: Map<string, Tensor>,
  batch: Float32Array,
  batchSize: number,
  size: number,
  device: string,
): LossValues {
  return tidy(() => {
    const x = tensor(batch, [batchSize, 3, size, size], device);
    const y = net.forward(x);
    const t = loss.terms(y, x);
    const names = [...params.keys()];
    const grads = gradients([t.total], [...params.values()]);
    const map = new Map<string, Tensor>();
    grads.forEach((g, i) => g && map.set(names[i], g));
    adam.update(map);
    return { content: t.content.item(), style: t.style.item(), tv: t.tv.item(), total: t.total.item() };
  });
}

function readCheckpoint(file: string): StyleModelFile {
  const ck = readStyleModel(file);
  const variant = checkArchitecture(file, ck.metadata.architecture);
  if (variant !== TRAIN_VARIANT) throw new NstError(`${file}: cannot resume a ${variant} network (training uses ${TRAIN_VARIANT})`);
  if (!ck.metadata.optimizer || !ck.metadata.progress) {
    throw new NstError(`${file} is a trained model, not a training checkpoint (no optimizer state); resume from the .ckpt${path.extname(file)} file`);
  }
  return ck;
}

function restoreAdam(adam: ParamAdam, ck: StyleModelFile, file: string, device: string): void {
  const m = new Map<string, Tensor>();
  const v = new Map<string, Tensor>();
  try {
    for (const [name, p] of adam.m) {
      for (const [prefix, into] of [['adam.m/', m], ['adam.v/', v]] as const) {
        const w: StoredWeight | undefined = ck.tensors.get(prefix + name);
        if (!w) throw new NstError(`${file}: missing variable ${prefix}${name}`);
        const t = TransformerNet.fromStored(name, w, device);
        into.set(name, t);
        if (t.shape.join(',') !== p.shape.join(',')) throw new NstError(`${file}: variable ${prefix}${name} has the wrong shape`);
      }
    }
    adam.restore(ck.metadata.optimizer!.step, m, v);
  } finally {
    for (const t of [...m.values(), ...v.values()]) t.dispose();
  }
}

async function loadValidation(images: { path: string; width: number; height: number }[], size: number, device: string): Promise<Tensor | null> {
  const crops: Float32Array[] = [];
  for (const info of images) {
    try {
      crops.push(await centreCrop(info, size));
    } catch (err) {
      if (!(err instanceof NstError)) throw err;
    }
  }
  if (crops.length === 0) return null;
  const all = new Float32Array(crops.length * 3 * size * size);
  crops.forEach((c, i) => all.set(c, i * c.length));
  return keep(tensor(all, [crops.length, 3, size, size], device));
}

/** Mean loss terms over the validation photos, in chunks of the batch size, without gradients. */
function validationLoss(net: TransformerNet, loss: PerceptualLoss, photos: Tensor, chunk: number): LossValues {
  const n = photos.shape[0];
  const sum = zeroLosses();
  noGrad(() => {
    for (let i = 0; i < n; i += chunk) {
      const count = Math.min(chunk, n - i);
      tidy(() => {
        const x = photos.narrow(0, i, count);
        addLosses(sum, scaleLosses(loss.evaluate(net.forward(x), x), count));
      });
    }
  });
  return scaleLosses(sum, 1 / n);
}

function trainingSettings(o: ResolvedTrainOptions, data: { train: unknown[]; validation: unknown[] }, iterations: number, seed: number): Record<string, unknown> {
  return {
    dataset: o.dataset,
    trainPhotos: data.train.length,
    validationPhotos: data.validation.length,
    imageSize: o.imageSize,
    batchSize: o.batchSize,
    iterations,
    epochs: o.epochs,
    contentWeight: o.contentWeight,
    styleWeight: o.styleWeight,
    tvWeight: o.tvWeight,
    contentLayers: o.contentLayers,
    styleLayers: o.styleLayers,
    styleSize: o.styleSize,
    learningRate: o.learningRate,
    optimizer: 'adam',
    checkpointEvery: o.checkpointEvery,
    seed,
    lossNetwork: 'vgg19 (ImageNet, Caffe preprocessing)',
    pooling: o.pooling,
  };
}

function zeroLosses(): LossValues {
  return { content: 0, style: 0, tv: 0, total: 0 };
}
function addLosses(into: LossValues, v: LossValues): void {
  into.content += v.content;
  into.style += v.style;
  into.tv += v.tv;
  into.total += v.total;
}
function scaleLosses(v: LossValues, f: number): LossValues {
  return { content: v.content * f, style: v.style * f, tv: v.tv * f, total: v.total * f };
}
function round(v: number, digits: number): number {
  return Number(v.toFixed(digits));
}
/** Keeps the loss history to a bounded length by dropping every other entry of older halves. */
function thin<T>(list: T[]): T[] {
  let out = list;
  while (out.length > HISTORY_LIMIT) out = out.filter((_, i) => i % 2 === 1 || i === out.length - 1);
  return out;
}

function packageVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}
