/**
 * Options of the feed-forward method: stylising with a trained network (`nst fast`), training one
 * (`nst train`) and comparing it with optimisation (`nst compare`); their defaults and their
 * validation into one-line errors. Validation runs before any work starts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../../errors';
import { checkOutputPath, DEFAULT_MAX_PIXELS, OUTPUT_EXTENSIONS } from '../../image';
import { checkLayerNames, Pooling } from '../../models/vgg19';
import { STYLE_MODEL_EXTENSION } from '../../models/style-model-format';
import { FAST_PADDINGS, FastPadding } from '../../models/transformer-net';
import { CHECKPOINT_SUFFIX, resolveStyle } from './styles';
import { defaultMaxMemory, parseMemorySize } from '../tiling/memory-size';
import { FAST_MIN_TILE } from './tiled';
import type { Precision } from '../../engine';
import { checkDeviceName, DeviceName } from '../../engine/device';
import { nonNegative, nonNegativeInt, positiveInt, requireFile, stripUndefined } from '../validate';
import { ArbitrarySelection, resolveArbitrarySelection } from '../arbitrary/selection';

type Device = DeviceName;

// ------------------------------------------------------------------------------------------------
// nst fast

export type PreserveColors = 'none' | 'luminance';

export interface FastOptions {
  /** A style name (see `nst styles`); fitted styles may be a comma-separated list to blend… */
  style?: string;
  /** …or a model: a .safetensors file of ours, or a deeplearn.js checkpoint folder. */
  model?: string;
  /** A photo, or a folder of photos (every image file directly in it). */
  content: string;
  /** The output image; for a folder of photos, the output folder (created if missing). */
  output: string;
  /** Longest side of the output; default: the photo's own size. */
  size?: number;
  /** 'luminance': keep the photo's colours, take only the stylised luminance. Default 'none'. */
  preserveColors?: PreserveColors;
  /** Convolution precision: 'auto' (default) picks bf16 where the CPU has bf16 instructions. */
  precision?: Precision | 'auto';
  threads?: number;
  device?: Device;
  /** Directory searched for styles (default: the model directory search order). */
  modelDir?: string;
  maxPixels?: number;
  /** Paintings for the arbitrary-style transformer, fitted on the fly and cached by their hash. */
  styleImage?: string | string[];
  /** Blend weights of the fitted styles (normalised to sum 1). */
  styleBlendWeights?: number[];
  /** Fitted styles: 1 (default) the style, 0 the photo's own vector (fitted to the photo: slow). */
  styleStrength?: number;
  /** Loss evaluations per stage of an on-the-fly fit. */
  fitEvaluations?: number[];
  /** Photo sizes per stage of an on-the-fly fit (one per evaluation count). */
  fitSizes?: number[];
  /** Training photos of an on-the-fly fit. */
  photos?: string;
  /** Memory budget (bytes or '6GB'); a photo too large for one pass is stylised in overlapping tiles. Default: 75 % of the machine's memory. */
  maxMemory?: number | string;
  /** Stylise in tiles of this side (px) whatever the budget. */
  tileSize?: number;
  /** Pretrained networks' edges: 'reflect' (default, no dark frame) or 'exact' (the original zero padding, bit for bit). */
  padding?: FastPadding;
}

export interface ResolvedFastOptions {
  modelPath: string;
  /** Short name of the style, for messages. */
  styleName: string;
  /** Files to stylise, with their outputs. */
  jobs: { input: string; output: string }[];
  /** Whether content was a folder. */
  batch: boolean;
  size?: number;
  preserveColors: PreserveColors;
  precision: Precision | 'auto';
  threads?: number;
  device?: Device;
  maxPixels: number;
  /** Set when the style is a fitted style vector (the arbitrary-style transformer). */
  arbitrary?: ArbitrarySelection;
  modelDir?: string;
  /** Memory budget, bytes. */
  maxMemory: number;
  tileSize?: number;
  padding: FastPadding;
}

/** Image file extensions read from folders (datasets, batches). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif'];

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** `--model` may be a path or the name of a style; `--style` is a name. */
export function resolveModelPath(options: { style?: string; model?: string; modelDir?: string }): { modelPath: string; styleName: string } {
  if (options.style && options.model) throw new NstError('give either --style or --model, not both');
  if (!options.style && !options.model) throw new NstError("a style is required: --style NAME (see 'nst styles') or --model FILE");
  if (options.model) {
    if (fs.existsSync(options.model)) return { modelPath: options.model, styleName: styleNameOf(options.model) };
    if (!/[\\/]/.test(options.model) && !options.model.endsWith(STYLE_MODEL_EXTENSION)) {
      const entry = resolveStyle(options.model, options.modelDir);
      return { modelPath: entry.path, styleName: entry.name };
    }
    throw new NstError(`style model ${options.model} does not exist`);
  }
  const entry = resolveStyle(options.style!, options.modelDir);
  return { modelPath: entry.path, styleName: entry.name };
}

function styleNameOf(modelPath: string): string {
  const base = path.basename(path.resolve(modelPath));
  return base.replace(CHECKPOINT_SUFFIX, '').replace(STYLE_MODEL_EXTENSION, '');
}

export function resolveFastOptions(options: FastOptions): ResolvedFastOptions {
  const arbitrary = resolveArbitrarySelection(options);
  const { modelPath, styleName } = arbitrary ? { modelPath: '', styleName: arbitrary.label } : resolveModelPath(options);
  if (!options.content) throw new NstError('a photo or a folder of photos is required (--content)');
  if (!options.output) throw new NstError('an output path is required (--output)');
  if (options.size !== undefined) positiveInt(options.size, 'size');
  const preserveColors = options.preserveColors ?? 'none';
  const precision = options.precision ?? 'auto';
  if (!['fp32', 'bf16', 'auto'].includes(precision)) throw new NstError(`unknown precision '${precision}' (expected fp32, bf16 or auto)`);
  if (!['none', 'luminance'].includes(preserveColors)) throw new NstError(`--preserve-colors must be none or luminance (got '${preserveColors}')`);
  const padding = options.padding ?? 'reflect';
  if (!FAST_PADDINGS.includes(padding)) throw new NstError(`--padding must be ${FAST_PADDINGS.join(' or ')} (got '${padding}')`);
  checkRuntime(options);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  positiveInt(maxPixels, 'max-pixels');
  const maxMemory = options.maxMemory === undefined ? defaultMaxMemory() : parseMemorySize(options.maxMemory);
  if (options.tileSize !== undefined) {
    positiveInt(options.tileSize, 'tile-size');
    if (options.tileSize < FAST_MIN_TILE) throw new NstError(`--tile-size must be at least ${FAST_MIN_TILE} px (got ${options.tileSize})`);
  }

  let stat: fs.Stats;
  try {
    stat = fs.statSync(options.content);
  } catch {
    throw new NstError(`photo '${options.content}' does not exist`);
  }
  const jobs: { input: string; output: string }[] = [];
  if (stat.isDirectory()) {
    const outStat = fs.statSync(options.output, { throwIfNoEntry: false });
    if (outStat && !outStat.isDirectory()) throw new NstError(`--output must be a folder when --content is a folder ('${options.output}' is a file)`);
    if (path.resolve(options.output) === path.resolve(options.content)) throw new NstError('--output must differ from the --content folder (the photos would be overwritten)');
    const files = fs
      .readdirSync(options.content, { withFileTypes: true })
      .filter((e) => e.isFile() && isImageFile(e.name))
      .map((e) => e.name)
      .sort();
    if (files.length === 0) throw new NstError(`photo folder '${options.content}' has no images (${IMAGE_EXTENSIONS.join(', ')})`);
    for (const name of files) {
      const ext = path.extname(name).toLowerCase();
      const outName = OUTPUT_EXTENSIONS.includes(ext) ? name : `${path.basename(name, path.extname(name))}.png`;
      jobs.push({ input: path.join(options.content, name), output: path.join(options.output, outName) });
    }
  } else {
    let output = options.output;
    if (fs.statSync(output, { throwIfNoEntry: false })?.isDirectory()) {
      const ext = path.extname(options.content).toLowerCase();
      output = path.join(output, OUTPUT_EXTENSIONS.includes(ext) ? path.basename(options.content) : `${path.basename(options.content, ext)}.png`);
    }
    checkOutputPath(output);
    jobs.push({ input: options.content, output });
  }
  return {
    modelPath,
    styleName,
    jobs,
    batch: stat.isDirectory(),
    size: options.size,
    maxMemory,
    tileSize: options.tileSize,
    padding,
    preserveColors,
    precision,
    threads: options.threads,
    device: options.device,
    maxPixels,
    arbitrary,
    modelDir: options.modelDir,
  };
}

// ------------------------------------------------------------------------------------------------
// nst train

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
  device?: Device;
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
  device?: Device;
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

// ------------------------------------------------------------------------------------------------
// nst compare

export interface CompareOptions {
  /** The trained network: a model file, a checkpoint folder, or a style name. */
  model: string;
  content: string;
  /** The style painting the objective measures against. */
  style: string;
  /** The JSON report; the plot goes beside it (.svg) unless plot is given. */
  output: string;
  plot?: string;
  /** Longest side of the content image. Default 256. */
  size?: number;
  /** Longest side of the style image. Default: the model's training setting, else size. */
  styleSize?: number;
  /** L-BFGS checkpoints. Default [50, 100, 200, 500]. */
  iterations?: number[];
  /** L-BFGS start. Default 'content'. */
  init?: 'content' | 'noise';
  /** Objective; default: the settings the model was trained with, else the training defaults. */
  contentWeight?: number;
  styleWeight?: number;
  tvWeight?: number;
  contentLayers?: string[];
  styleLayers?: string[];
  /** Also write the fast result and the L-BFGS images at each checkpoint beside the report. */
  saveImages?: boolean;
  seed?: number;
  threads?: number;
  device?: Device;
  modelDir?: string;
}

export interface ResolvedCompareOptions {
  modelPath: string;
  styleName: string;
  content: string;
  style: string;
  output: string;
  plot: string;
  size: number;
  styleSize?: number;
  iterations: number[];
  init: 'content' | 'noise';
  weights: { content?: number; style?: number; tv?: number };
  layers: { content?: string[]; style?: string[] };
  saveImages: boolean;
  seed: number;
  threads?: number;
  device?: Device;
  modelDir?: string;
}

export const COMPARE_DEFAULTS = { size: 256, iterations: [50, 100, 200, 500], init: 'content' as const };

export function resolveCompareOptions(options: CompareOptions): ResolvedCompareOptions {
  const { modelPath, styleName } = resolveModelPath({ model: options.model, modelDir: options.modelDir });
  requireFile(options.content, 'photo');
  requireFile(options.style, 'style image');
  if (!options.output) throw new NstError('an output path for the JSON report is required (--output)');
  if (path.extname(options.output).toLowerCase() !== '.json') throw new NstError(`--output must be a .json file (got '${options.output}')`);
  checkWritable(options.output, 'output');
  const plot = options.plot ?? options.output.replace(/\.json$/i, '.svg');
  if (path.extname(plot).toLowerCase() !== '.svg') throw new NstError(`--plot must be an .svg file (got '${plot}')`);
  checkWritable(plot, 'plot');
  const size = options.size ?? COMPARE_DEFAULTS.size;
  positiveInt(size, 'size');
  if (options.styleSize !== undefined) positiveInt(options.styleSize, 'style-size');
  const iterations = [...new Set(options.iterations ?? COMPARE_DEFAULTS.iterations)].sort((a, b) => a - b);
  if (iterations.length === 0) throw new NstError('--iterations needs at least one count');
  for (const n of iterations) positiveInt(n, 'iterations');
  const init = options.init ?? COMPARE_DEFAULTS.init;
  if (!['content', 'noise'].includes(init)) throw new NstError(`--init must be content or noise (got '${init}')`);
  for (const [k, v] of [['content-weight', options.contentWeight], ['style-weight', options.styleWeight], ['tv-weight', options.tvWeight]] as const) {
    if (v !== undefined) nonNegative(v, k);
  }
  if (options.contentLayers) checkLayerNames(options.contentLayers, 'content');
  if (options.styleLayers) checkLayerNames(options.styleLayers, 'style');
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  nonNegativeInt(seed, 'seed');
  checkRuntime(options);
  return {
    modelPath,
    styleName,
    content: options.content,
    style: options.style,
    output: options.output,
    plot,
    size,
    styleSize: options.styleSize,
    iterations,
    init,
    weights: { content: options.contentWeight, style: options.styleWeight, tv: options.tvWeight },
    layers: { content: options.contentLayers, style: options.styleLayers },
    saveImages: !!options.saveImages,
    seed,
    threads: options.threads,
    device: options.device,
    modelDir: options.modelDir,
  };
}

// ------------------------------------------------------------------------------------------------


function checkRuntime(o: { threads?: number; device?: string }): void {
  if (o.threads !== undefined) positiveInt(o.threads, 'threads');
  if (o.device !== undefined) checkDeviceName(o.device);
}


/** The file's folder exists and is writable, and the file is not a folder. */
function checkWritable(file: string, what: string): void {
  const dir = path.dirname(path.resolve(file));
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw new NstError(`cannot write ${what} '${file}': the folder ${dir} does not exist`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new NstError(`cannot write ${what} '${file}': permission denied`);
  }
  if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new NstError(`cannot write ${what} '${file}': it is a folder`);
}
