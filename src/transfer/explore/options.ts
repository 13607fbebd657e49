/**
 * Options of `nst explore` and their validation: the shared settings are checked once, then
 * every cell's stylize options are resolved up front (in the calling thread), so a bad file,
 * layer or value fails with one line before any compute starts.
 */
import * as path from 'node:path';
import { NstError } from '../../errors';
import type { DeviceName } from '../../engine/device';
import { checkOutputPath, DEFAULT_MAX_PIXELS } from '../../image';
import { InitMode, PrecisionOption, resolveStylizeOptions, ResolvedStylizeOptions } from '../gatys/options';
import { DEFAULT_RATIOS, EXPERIMENTS, EXPERIMENT_NAMES, Experiment, ExperimentName, ExploreInput } from './experiments';

export interface ExploreOptions {
  /** One of EXPERIMENT_NAMES. */
  experiment: string;
  /** Content photo (path); not used by style-layers, where it only sets the size. */
  content?: string;
  /** Style painting (path); not used by content-layers. */
  style?: string;
  /** Base name of the outputs: `<output>.png` (the sheet) and `<output>.json`. A trailing .png or .json is dropped. Default: the experiment's name. */
  output?: string;
  /** Longest side of each cell, in pixels. Default 256. */
  size?: number;
  /** Iterations of each cell. Default 200. */
  iterations?: number;
  /** One seed for every cell (the same noise image). Default: random, recorded in the JSON. */
  seed?: number;
  threads?: number;
  precision?: PrecisionOption;
  device?: DeviceName;
  modelDir?: string;
  maxPixels?: number;
  /** Style/content weight ratios (`weights` only). Default 1e1, 1e2, 1e3, 1e4. */
  ratios?: number[];
  /** Starting image of the transfer experiments (content-layer-choice, weights, presets). */
  init?: InitMode;
  /** Cells per row of the sheet. Default: every cell in one row up to 6, else balanced rows. */
  columns?: number;
}

export interface ResolvedExploreCell {
  label: string;
  /** Fully resolved; `output` is replaced by a temporary file when the cell runs. */
  options: ResolvedStylizeOptions;
}

export interface ResolvedExploreOptions {
  experiment: ExperimentName;
  /** Present when the experiment uses it (see Experiment.inputs). */
  content?: string;
  style?: string;
  /** The image whose size every cell takes: the content photo, else the style. */
  canvas: string;
  /** `<output>.png` and `<output>.json`. */
  sheet: string;
  json: string;
  size: number;
  iterations: number;
  seed: number;
  threads?: number;
  precision: PrecisionOption;
  device?: DeviceName;
  modelDir?: string;
  maxPixels: number;
  ratios?: number[];
  init?: InitMode;
  columns?: number;
  inputs: ExploreInput[];
  measureContentMse: boolean;
  cells: ResolvedExploreCell[];
}

export const EXPLORE_DEFAULTS = {
  size: 256,
  iterations: 200,
  ratios: DEFAULT_RATIOS,
  precision: 'auto' as PrecisionOption,
  maxPixels: DEFAULT_MAX_PIXELS,
};

/** At most this many cells per row by default. */
export const MAX_DEFAULT_COLUMNS = 6;

/** Checks everything and resolves every cell; throws NstError (one line) on the first problem. */
export function resolveExploreOptions(options: ExploreOptions): ResolvedExploreOptions {
  const name = options.experiment;
  if (!(EXPERIMENT_NAMES as string[]).includes(name)) {
    throw new NstError(`unknown experiment '${name}' (expected ${EXPERIMENT_NAMES.join(', ')})`);
  }
  const experiment = EXPERIMENTS[name as ExperimentName];
  const { content, style } = usedImages(experiment, options);

  if (options.ratios !== undefined && !experiment.takesRatios) throw new NstError(`--ratios applies to the weights experiment only, not ${name}`);
  const ratios = experiment.takesRatios ? (options.ratios ?? EXPLORE_DEFAULTS.ratios) : undefined;
  if (ratios) {
    if (ratios.length === 0) throw new NstError('--ratios needs at least one style/content ratio');
    for (const r of ratios) {
      if (!(Number.isFinite(r) && r > 0)) throw new NstError(`--ratios must be positive numbers (style/content weight ratios; got ${r})`);
    }
  }
  if (options.init !== undefined && experiment.defaultInit === undefined) throw new NstError(`--init does not apply to ${name} (its cells fix their starting image)`);
  const init = experiment.defaultInit === undefined ? undefined : (options.init ?? experiment.defaultInit);
  if (init !== undefined && !['content', 'style', 'noise'].includes(init)) {
    throw new NstError(`--init must be content, style or noise (got '${init}')`);
  }
  if (options.columns !== undefined && !(Number.isInteger(options.columns) && options.columns >= 1)) {
    throw new NstError(`--columns must be a positive integer (got ${options.columns})`);
  }

  const base = outputBase(options.output ?? name);
  const sheet = `${base}.png`;
  const json = `${base}.json`;
  checkOutputPath(sheet);

  const size = options.size ?? EXPLORE_DEFAULTS.size;
  const iterations = options.iterations ?? EXPLORE_DEFAULTS.iterations;
  const precision = options.precision ?? EXPLORE_DEFAULTS.precision;
  const maxPixels = options.maxPixels ?? EXPLORE_DEFAULTS.maxPixels;
  // One seed for all cells, so noise-initialised cells start from the same image.
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);

  const specs = experiment.cells({ ratios: ratios ?? EXPLORE_DEFAULTS.ratios, init: init ?? 'content' });
  // The stylizer wants both images: an unused one is stood in for by the other, whose loss weight
  // is 0 in those cells (a style-only run takes its size from the style).
  const canvas = content ?? style!;
  const cells = specs.map((spec) => ({
    label: spec.label,
    options: resolveStylizeOptions({
      content: canvas,
      style: style ?? content!,
      output: sheet,
      size,
      iterations,
      seed,
      threads: options.threads,
      precision,
      device: options.device,
      modelDir: options.modelDir,
      maxPixels,
      report: false,
      ...spec.options,
    }),
  }));

  return {
    experiment: experiment.name,
    content,
    style,
    canvas,
    sheet,
    json,
    size,
    iterations,
    seed: cells[0].options.seed,
    threads: options.threads,
    precision,
    device: options.device,
    modelDir: options.modelDir,
    maxPixels,
    ratios,
    init,
    columns: options.columns,
    inputs: experiment.inputs,
    measureContentMse: experiment.measureContentMse,
    cells,
  };
}

/** The images of the experiment: those it uses are required, one it does not use is refused. */
function usedImages(experiment: Experiment, options: ExploreOptions): { content?: string; style?: string } {
  const uses = (input: ExploreInput) => experiment.inputs.includes(input);
  if (uses('content') && !options.content) throw new NstError('a content image is required (--content)');
  if (uses('style') && !options.style) throw new NstError('a style image is required (--style)');
  if (!uses('style') && options.style) throw new NstError(`--style is not used by ${experiment.name} (it works on the content photo alone)`);
  if (!uses('content') && !experiment.contentSetsSize && options.content) throw new NstError(`--content is not used by ${experiment.name}`);
  return { content: options.content || undefined, style: uses('style') ? options.style : undefined };
}

/** `out/sheet.png` → `out/sheet`; `out/sheet` stays. */
function outputBase(output: string): string {
  const ext = path.extname(output).toLowerCase();
  return ext === '.png' || ext === '.json' ? output.slice(0, output.length - ext.length) : output;
}
