/**
 * Options of `nst train` (training a feed-forward network on one painting), their defaults and
 * their validation into one-line errors. Validation runs before any work starts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../../errors';
import { checkLayerNames, Pooling } from '../../models/vgg19';
import { STYLE_MODEL_EXTENSION } from '../../models/style-model-format';
import type { Precision } from '../../engine';
import type { DeviceName } from '../../engine/device';
import { nonNegative, nonNegativeInt, positiveInt, requireFile, stripUndefined } from '../validate';
import { CHECKPOINT_SUFFIX } from './styles';
import { checkRuntime, checkWritable } from './option-checks';

export interface TrainOptions {
  /** The style painting (image file). */
  style: string;
  /** Folder of training photos (searched recursively). */
  dataset: string;
  /** The trained model (.safetensors is appended when missing). */
  output: string;
  /** Side of the square random crops. Default 256. */
  imageSize?: number;
  /** Default 4. */
  batchSize?: number;
  /** Training steps; default: 2 epochs over the training photos. Exclusive with epochs. */
  iterations?: number;
  epochs?: number;
  contentWeight?: number;
  styleWeight?: number;
  tvWeight?: number;
  contentLayers?: string[];
  styleLayers?: string[];
  /** Longest side of the style image. Default: the crop size. */
  styleSize?: number;
  /** Adam's step size. Default 1e-3. */
  learningRate?: number;
  /** Write a checkpoint (and compute the validation loss) every N steps. Default 500. */
  checkpointEvery?: number;
  /** Checkpoint file. Default: the output with .ckpt.safetensors. */
  checkpoint?: string;
  /** Resume from this checkpoint (true: the default checkpoint file). */
  resume?: string | boolean;
  /** Photos held out for the validation loss. Default 16 (at most a fifth of the photos). */
  validationImages?: number;
  /** Name of the style in the model's metadata. Default: the style image's file name. */
  name?: string;
  /** Seed of the initial weights and of the crop sequence. Default: random (recorded). */
  seed?: number;
  /** Progress lines every N steps when there is no terminal. Default 50. */
  printEvery?: number;
  /**
   * Convolution precision of the network and of VGG19 during training: 'fp32' (default: the
   * measured recipes), 'bf16', or 'auto' (bf16 where the CPU has bf16 instructions).
   */
  precision?: Precision | 'auto';
  threads?: number;
  device?: DeviceName;
  /** Directory that holds vgg19/. */
  modelDir?: string;
  pooling?: Pooling;
}

export const TRAIN_DEFAULTS = {
  imageSize: 256,
  batchSize: 4,
  epochs: 2,
  contentWeight: 1,
  styleWeight: 5,
  tvWeight: 1e-5,
  contentLayers: ['relu2_2'],
  styleLayers: ['relu1_1', 'relu2_1', 'relu3_1'],
  learningRate: 1e-3,
  checkpointEvery: 500,
  validationImages: 16,
  printEvery: 50,
  pooling: 'max' as Pooling,
};

export interface ResolvedTrainOptions {
  style: string;
  dataset: string;
  output: string;
  checkpoint: string;
  resume: string | null;
  name: string;
  imageSize: number;
  batchSize: number;
  /** Null when given as epochs (resolved once the dataset is scanned). */
  iterations: number | null;
  epochs: number | null;
  contentWeight: number;
  styleWeight: number;
  tvWeight: number;
  contentLayers: string[];
  styleLayers: string[];
  styleSize: number;
  learningRate: number;
  checkpointEvery: number;
  validationImages: number;
  seed: number;
  printEvery: number;
  precision: Precision | 'auto';
  threads?: number;
  device?: DeviceName;
  modelDir?: string;
  pooling: Pooling;
}

export function defaultCheckpointPath(output: string): string {
  return output.endsWith(STYLE_MODEL_EXTENSION) ? output.slice(0, -STYLE_MODEL_EXTENSION.length) + CHECKPOINT_SUFFIX : output + CHECKPOINT_SUFFIX;
}

export function resolveTrainOptions(options: TrainOptions): ResolvedTrainOptions {
  if (options.precision !== undefined && !['fp32', 'bf16', 'auto'].includes(options.precision)) throw new NstError(`unknown precision '${options.precision}' (expected fp32, bf16 or auto)`);
  const o = { ...TRAIN_DEFAULTS, ...stripUndefined(options) } as typeof TRAIN_DEFAULTS & TrainOptions;
  requireFile(o.style, 'style image');
  if (!o.dataset) throw new NstError('a dataset folder is required (--dataset)');
  const ds = fs.statSync(o.dataset, { throwIfNoEntry: false });
  if (!ds) throw new NstError(`dataset folder '${o.dataset}' does not exist`);
  if (!ds.isDirectory()) throw new NstError(`dataset '${o.dataset}' is not a folder`);
  if (!o.output) throw new NstError('an output model path is required (--output)');
  const output = o.output.endsWith(STYLE_MODEL_EXTENSION) ? o.output : o.output + STYLE_MODEL_EXTENSION;
  checkWritable(output, 'output');
  const checkpoint = o.checkpoint ?? defaultCheckpointPath(output);
  if (!checkpoint.endsWith(STYLE_MODEL_EXTENSION)) throw new NstError(`--checkpoint must end in ${STYLE_MODEL_EXTENSION} (got '${checkpoint}')`);
  if (path.resolve(checkpoint) === path.resolve(output)) throw new NstError('--checkpoint must differ from --output');
  checkWritable(checkpoint, 'checkpoint');
  let resume: string | null = null;
  if (o.resume) {
    resume = typeof o.resume === 'string' ? o.resume : checkpoint;
    if (!fs.existsSync(resume)) throw new NstError(`checkpoint to resume from '${resume}' does not exist`);
  }
  positiveInt(o.imageSize, 'image-size');
  if (o.imageSize < 16) throw new NstError(`--image-size must be at least 16 (got ${o.imageSize})`);
  positiveInt(o.batchSize, 'batch-size');
  if (options.iterations !== undefined && options.epochs !== undefined) throw new NstError('give either --iterations or --epochs, not both');
  if (options.iterations !== undefined) positiveInt(options.iterations, 'iterations');
  const epochs = options.iterations !== undefined ? null : o.epochs;
  if (epochs !== null && !(Number.isFinite(epochs) && epochs > 0)) throw new NstError(`--epochs must be a positive number (got ${epochs})`);
  nonNegative(o.contentWeight, 'content-weight');
  nonNegative(o.styleWeight, 'style-weight');
  nonNegative(o.tvWeight, 'tv-weight');
  if (o.contentLayers.length === 0) throw new NstError('--content-layers needs at least one layer');
  if (o.styleLayers.length === 0) throw new NstError('--style-layers needs at least one layer');
  checkLayerNames(o.contentLayers, 'content');
  checkLayerNames(o.styleLayers, 'style');
  const styleSize = o.styleSize ?? o.imageSize;
  positiveInt(styleSize, 'style-size');
  if (!(o.learningRate > 0) || !Number.isFinite(o.learningRate)) throw new NstError(`--learning-rate must be a positive number (got ${o.learningRate})`);
  positiveInt(o.checkpointEvery, 'checkpoint-every');
  nonNegativeInt(o.validationImages, 'validation-images');
  nonNegativeInt(o.printEvery, 'print-every');
  if (!['max', 'avg'].includes(o.pooling)) throw new NstError(`unknown pooling '${o.pooling}' (expected max or avg)`);
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  nonNegativeInt(seed, 'seed');
  checkRuntime(o);
  const name = o.name ?? path.basename(output, STYLE_MODEL_EXTENSION);
  return {
    style: o.style,
    dataset: o.dataset,
    output,
    checkpoint,
    resume,
    name,
    imageSize: o.imageSize,
    batchSize: o.batchSize,
    iterations: options.iterations ?? null,
    epochs,
    contentWeight: o.contentWeight,
    styleWeight: o.styleWeight,
    tvWeight: o.tvWeight,
    contentLayers: o.contentLayers,
    styleLayers: o.styleLayers,
    styleSize,
    learningRate: o.learningRate,
    checkpointEvery: o.checkpointEvery,
    validationImages: o.validationImages,
    seed,
    printEvery: o.printEvery,
    precision: o.precision ?? 'fp32',
    threads: o.threads,
    device: o.device,
    modelDir: o.modelDir,
    pooling: o.pooling,
  };
}
