/**
 * Options of `nst fast` (stylising photos with a trained network or a fitted style), their
 * defaults and their validation into one-line errors. Validation runs before any work starts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../../errors';
import { checkOutputPath, DEFAULT_MAX_PIXELS, OUTPUT_EXTENSIONS } from '../../image';
import { FAST_PADDINGS, FastPadding } from '../../models/transformer-net';
import type { Precision } from '../../engine';
import type { DeviceName } from '../../engine/device';
import { defaultMaxMemory, parseMemorySize } from '../tiling/memory-size';
import { positiveInt } from '../validate';
import { ArbitrarySelection, resolveArbitrarySelection } from '../arbitrary/selection';
import { FAST_MIN_TILE } from './tiled';
import { IMAGE_EXTENSIONS, isImageFile } from './image-files';
import { resolveModelPath } from './model-path';
import { checkRuntime } from './option-checks';
import { PRESERVE_COLORS, PreserveColors } from './preserve-colors';

export type { PreserveColors };

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
  device?: DeviceName;
  /** Directory searched for styles (default: the model directory search order). */
  modelDir?: string;
  maxPixels?: number;
  /** Paintings for the arbitrary-style transformer, fitted on the fly and cached by their hash. */
  styleImage?: string | string[];
  /** Blend weights of the fitted styles (normalised to sum 1). */
  styleBlendWeights?: number[];
  /** Fitted styles: 1 (default) the style, 0 the photo's own vector (fitted to the photo: slow). */
  styleStrength?: number;
  /** Fitted styles: paint at this multiple of the photo's size, then resize back (default 1.5; 1: the plain pass). */
  paintScale?: number;
  /** Fitted styles: 0–1, how far the output moves toward the painting's OkLAB palette (default 0.5). */
  paletteMatch?: number;
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
  /** Pretrained networks: 'reflect' (default: no dark frame, no invented dots, no upsampling grid or woven texture on flat areas; pretrained-cleanup.ts) or 'exact' (the original networks bit for bit). */
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
  device?: DeviceName;
  maxPixels: number;
  /** Set when the style is a fitted style vector (the arbitrary-style transformer). */
  arbitrary?: ArbitrarySelection;
  modelDir?: string;
  /** Memory budget, bytes. */
  maxMemory: number;
  tileSize?: number;
  padding: FastPadding;
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
  if (!PRESERVE_COLORS.includes(preserveColors)) throw new NstError(`--preserve-colors must be none or luminance (got '${preserveColors}')`);
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
