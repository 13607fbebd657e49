/**
 * The experiments of `nst explore`, as data: each is a list of cells, one optimisation run each,
 * that differ in exactly one setting. The figures they reproduce are those of Gatys, Ecker &
 * Bethge (2015, "A Neural Algorithm of Artistic Style"; 2016, CVPR), see docs/experiments.md.
 *
 * Layer names are the engine's: the paper's "conv4_2" means the rectified responses of that
 * layer, which the engine calls relu4_2, so cells are labelled with relu names throughout.
 */
import { STYLIZE_DEFAULTS, type InitMode, type StylizeOptions } from '../gatys/options';
import { PRESET_NAMES } from '../gatys/presets';

export type ExperimentName = 'content-layers' | 'style-layers' | 'init' | 'content-layer-choice' | 'weights' | 'presets';

/** An input image shown as the first cells of the sheet. */
export type ExploreInput = 'content' | 'style';

/** One cell: its label and the stylize options that make it (on top of the shared ones). */
export interface ExperimentCell {
  label: string;
  options: Partial<StylizeOptions>;
}

/** Values of the experiment-specific command-line options. */
export interface ExperimentParams {
  /** Style/content weight ratios (the `weights` experiment). */
  ratios: number[];
  /** Starting image of the transfer experiments that take --init. */
  init: InitMode;
}

export interface Experiment {
  name: ExperimentName;
  /** One line, for --help and the sheet's title. */
  summary: string;
  /** The images the experiment uses, shown before the results; only these are asked for. */
  inputs: ExploreInput[];
  /**
   * Style-only experiments: a content photo, if given, sets only the size of the synthesised
   * image (the style's own size otherwise).
   */
  contentSetsSize?: boolean;
  /** Report each cell's pixel MSE to the content image (reconstructions). */
  measureContentMse: boolean;
  /** Transfer experiments take --init; this is their default. Absent: the cells fix init. */
  defaultInit?: InitMode;
  /** Takes --ratios. */
  takesRatios?: boolean;
  cells(params: ExperimentParams): ExperimentCell[];
}

/** The layers of Gatys et al.'s content-reconstruction figure (conv1_2 … conv5_2). */
export const CONTENT_RECONSTRUCTION_LAYERS = ['relu1_2', 'relu2_2', 'relu3_2', 'relu4_2', 'relu5_2'];
/** The style layers, in order; the style-layers experiment uses growing prefixes of it. */
export const STYLE_SYNTHESIS_LAYERS = ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'];
export const CONTENT_LAYER_CHOICES = ['relu2_2', 'relu4_2', 'relu5_2'];
export const DEFAULT_RATIOS = [1e1, 1e2, 1e3, 1e4];

/**
 * "From noise" in the paper means a white-noise image: init 'noise' with noise ratio 1 gives
 * uniform random pixels. (The engine's plain 'noise' start is the mean colour plus noise of
 * amplitude 0.001, nearly flat: a relu1_1-only Gram loss cannot break its symmetry and leaves it
 * flat.) The transfer experiments keep `stylize --init noise`'s meaning instead.
 */
const WHITE_NOISE: Partial<StylizeOptions> = { init: 'noise', noiseRatio: 1 };

/**
 * resolveStylizeOptions needs at least one style layer even when the style weight is 0; the
 * content-only cells use the cheapest one. Its (zero) loss is left out of the JSON.
 */
const UNUSED_STYLE_LAYER = 'relu1_1';

export const EXPERIMENTS: Readonly<Record<ExperimentName, Experiment>> = {
  'content-layers': {
    name: 'content-layers',
    summary: 'reconstruct the content photo from noise with the content loss alone, at relu1_2 … relu5_2',
    inputs: ['content'],
    measureContentMse: true,
    cells: () =>
      CONTENT_RECONSTRUCTION_LAYERS.map((layer) => ({
        label: layer,
        options: { ...WHITE_NOISE, contentLayers: [layer], styleLayers: [UNUSED_STYLE_LAYER], styleWeight: 0, tvWeight: 0 },
      })),
  },
  'style-layers': {
    name: 'style-layers',
    summary: 'synthesise the style from noise with the style loss alone, on growing layer sets {relu1_1} … {relu1_1, …, relu5_1}',
    inputs: ['style'],
    contentSetsSize: true,
    measureContentMse: false,
    cells: () =>
      STYLE_SYNTHESIS_LAYERS.map((_, i) => {
        const layers = STYLE_SYNTHESIS_LAYERS.slice(0, i + 1);
        return {
          label: layers.length === 1 ? layers[0] : `${layers[0]} … ${layers[layers.length - 1]}`,
          options: { ...WHITE_NOISE, contentLayers: [], contentWeight: 0, styleLayers: layers, tvWeight: 0 },
        };
      }),
  },
  init: {
    name: 'init',
    summary: 'the same transfer started from the content photo, the style painting and noise',
    inputs: ['content', 'style'],
    measureContentMse: false,
    cells: () => (['content', 'style', 'noise'] as const).map((init) => ({ label: `init ${init}`, options: { init } })),
  },
  'content-layer-choice': {
    name: 'content-layer-choice',
    summary: 'the transfer with the content loss at relu2_2 vs relu4_2 vs relu5_2',
    inputs: ['content', 'style'],
    measureContentMse: false,
    defaultInit: 'noise',
    cells: ({ init }) => CONTENT_LAYER_CHOICES.map((layer) => ({ label: `content ${layer}`, options: { init, contentLayers: [layer] } })),
  },
  weights: {
    name: 'weights',
    summary: 'a sweep of the style/content weight ratio (content weight fixed at the default)',
    inputs: ['content', 'style'],
    measureContentMse: false,
    defaultInit: 'noise',
    takesRatios: true,
    cells: ({ init, ratios }) =>
      ratios.map((ratio) => ({
        label: `style/content ${formatRatio(ratio)}`,
        options: { init, contentWeight: STYLIZE_DEFAULTS.contentWeight, styleWeight: STYLIZE_DEFAULTS.contentWeight * ratio },
      })),
  },
  presets: {
    name: 'presets',
    summary: `the same pair under each layer preset (${PRESET_NAMES.join(', ')})`,
    inputs: ['content', 'style'],
    measureContentMse: false,
    defaultInit: 'content',
    cells: ({ init }) => PRESET_NAMES.map((name) => ({ label: name, options: { init, preset: name } })),
  },
};

export const EXPERIMENT_NAMES = Object.keys(EXPERIMENTS) as ExperimentName[];

/** 1000 → '1e3', 10 → '1e1', 0.5 → '0.5', 2500 → '2500', 25000 → '2.5e4'. */
export function formatRatio(r: number): string {
  const k = Math.round(Math.log10(r));
  if (k !== 0 && Math.abs(r / 10 ** k - 1) < 1e-9) return `1e${k}`;
  if (r >= 0.01 && r < 1e4) return String(Number(r.toPrecision(3)));
  const [mantissa, exponent] = r.toExponential().split('e');
  return `${Number(Number(mantissa).toPrecision(3))}e${Number(exponent)}`;
}
