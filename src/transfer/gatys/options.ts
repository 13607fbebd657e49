/**
 * Options of optimisation-based style transfer (Gatys et al.), their defaults (those of
 * jcjohnson/neural-style, with the project's loss contract), and validation into one-line errors.
 */
import * as fs from 'node:fs';
import { NstError } from '../../errors';
import { checkLayerNames, Pooling } from '../../models/vgg19';
import { DEFAULT_MAX_PIXELS } from '../../image';

export type InitMode = 'content' | 'noise' | 'style';
export type OptimizerName = 'lbfgs' | 'adam';

export interface StylizeOptions {
  /** Content photo (path). */
  content: string;
  /** Style painting (path). */
  style: string;
  /** Output image; its extension picks the format (.jpg, .png, .webp, .tif). */
  output: string;
  /** Longest side of the output, in pixels. Default 512. */
  size?: number;
  /** Loss evaluations. Default 500. */
  iterations?: number;
  contentWeight?: number;
  styleWeight?: number;
  tvWeight?: number;
  /** Default ['relu4_2']. */
  contentLayers?: string[];
  /** Default ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1']. */
  styleLayers?: string[];
  /** Start from the content, the style, noise, or an image file. Default 'content'. */
  init?: InitMode | string;
  optimizer?: OptimizerName;
  /** Default 1 for L-BFGS, 10 for Adam (as neural-style). */
  learningRate?: number;
  /** Seed of the random generator (noise init). Default: a random seed, recorded in the result. */
  seed?: number;
  /** Progress lines every N iterations when there is no terminal. Default 50. */
  printEvery?: number;
  /** Save the current image every N iterations beside the output (0: never). */
  saveEvery?: number;
  /** Send a preview image to onPreview every N iterations (0: never). */
  previewEvery?: number;
  threads?: number;
  device?: 'cpu' | 'cuda';
  /** Directory that holds vgg19/ (default: the model directory search order). */
  modelDir?: string;
  pooling?: Pooling;
  /** Refuse inputs with more decoded pixels than this. */
  maxPixels?: number;
  /**
   * Compute precision of VGG19: 'fp32', 'bf16' (losses, Gram matrices and optimiser state stay
   * fp32), or 'auto' (default): bf16 on a CPU with native bf16 instructions, else fp32.
   */
  precision?: PrecisionOption;
}

export type PrecisionOption = 'fp32' | 'bf16' | 'auto';

export type ResolvedStylizeOptions = Required<Omit<StylizeOptions, 'modelDir' | 'device' | 'threads'>> &
  Pick<StylizeOptions, 'modelDir' | 'device' | 'threads'>;

export const STYLIZE_DEFAULTS = {
  size: 512,
  iterations: 500,
  contentWeight: 5,
  styleWeight: 100,
  tvWeight: 1e-3,
  contentLayers: ['relu4_2'],
  styleLayers: ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'],
  init: 'content' as InitMode | string,
  optimizer: 'lbfgs' as OptimizerName,
  printEvery: 50,
  saveEvery: 0,
  previewEvery: 0,
  pooling: 'max' as Pooling,
  maxPixels: DEFAULT_MAX_PIXELS,
  precision: 'auto' as PrecisionOption,
};

/** Fills defaults and checks every option; throws NstError (one line) on the first problem. */
export function resolveStylizeOptions(options: StylizeOptions): ResolvedStylizeOptions {
  const o = { ...STYLIZE_DEFAULTS, ...stripUndefined(options) } as typeof STYLIZE_DEFAULTS & StylizeOptions;
  requireFile(o.content, 'content image');
  requireFile(o.style, 'style image');
  if (!o.output) throw new NstError('an output path is required');
  positiveInt(o.size, 'size');
  positiveInt(o.iterations, 'iterations');
  nonNegative(o.contentWeight, 'content-weight');
  nonNegative(o.styleWeight, 'style-weight');
  nonNegative(o.tvWeight, 'tv-weight');
  nonNegativeInt(o.printEvery, 'print-every');
  nonNegativeInt(o.saveEvery, 'save-every');
  nonNegativeInt(o.previewEvery, 'preview-every');
  positiveInt(o.maxPixels, 'max-pixels');
  if (o.contentLayers.length === 0) throw new NstError('--content-layers needs at least one layer');
  if (o.styleLayers.length === 0) throw new NstError('--style-layers needs at least one layer');
  checkLayerNames(o.contentLayers, 'content');
  checkLayerNames(o.styleLayers, 'style');
  if (!['lbfgs', 'adam'].includes(o.optimizer)) throw new NstError(`unknown optimizer '${o.optimizer}' (expected lbfgs or adam)`);
  if (!['fp32', 'bf16', 'auto'].includes(o.precision)) throw new NstError(`unknown precision '${o.precision}' (expected fp32, bf16 or auto)`);
  if (!['max', 'avg'].includes(o.pooling)) throw new NstError(`unknown pooling '${o.pooling}' (expected max or avg)`);
  if (!['content', 'noise', 'style'].includes(o.init)) requireFile(o.init, 'init image');
  const learningRate = options.learningRate ?? (o.optimizer === 'adam' ? 10 : 1);
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new NstError(`--learning-rate must be a positive number (got ${learningRate})`);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  nonNegativeInt(seed, 'seed');
  if (o.threads !== undefined) positiveInt(o.threads, 'threads');
  if (o.device !== undefined && o.device !== 'cpu' && o.device !== 'cuda') throw new NstError(`unknown device '${o.device}' (expected cpu or cuda)`);
  return { ...o, learningRate, seed } as ResolvedStylizeOptions;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function requireFile(file: string, what: string): void {
  if (!file) throw new NstError(`a ${what} is required`);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new NstError(`${what} '${file}' does not exist`);
  }
  if (!stat.isFile()) throw new NstError(`${what} '${file}' is not a file`);
}

function positiveInt(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 1) throw new NstError(`--${name} must be a positive integer (got ${v})`);
}
function nonNegativeInt(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 0) throw new NstError(`--${name} must be a non-negative integer (got ${v})`);
}
function nonNegative(v: number, name: string): void {
  if (!Number.isFinite(v) || v < 0) throw new NstError(`--${name} must be a non-negative number (got ${v})`);
}
