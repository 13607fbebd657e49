/**
 * Options of `nst compare` (a trained network against optimisation on one photo), their defaults
 * and their validation into one-line errors. Validation runs before any work starts.
 */
import * as path from 'node:path';
import { NstError } from '../../errors';
import { checkLayerNames } from '../../models/vgg19';
import type { DeviceName } from '../../engine/device';
import { nonNegative, nonNegativeInt, positiveInt, requireFile } from '../validate';
import { resolveModelPath } from './model-path';
import { checkRuntime, checkWritable } from './option-checks';

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
  device?: DeviceName;
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
  device?: DeviceName;
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
