/**
 * Named layer presets from published findings — the one place where they are defined. A preset
 * supplies content layers, style layers and per-layer style weights; explicit options override it.
 */
export interface LayerPreset {
  description: string;
  /** Where the choice comes from. */
  source: string;
  contentLayers: string[];
  styleLayers: string[];
  /** Multipliers of the style weight per style layer (default 1 each). */
  styleLayerWeights?: number[];
}

export const PRESETS: Readonly<Record<string, LayerPreset>> = {
  gatys: {
    description: 'the paper’s default: content from conv4_2, style from conv1_1 … conv5_1 with equal weights',
    source: 'Gatys, Ecker & Bethge 2016; jcjohnson/neural-style defaults',
    contentLayers: ['relu4_2'],
    styleLayers: ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'],
  },
  'high-level': {
    description: 'style from conv3_1, conv4_1, conv5_1 only: larger structures and shapes (cubism, mosaics) rather than fine texture',
    source: 'Gatys et al. 2016 (Fig. 3: style from higher layers gives larger-scale structures); Nikulin & Novak 2016',
    contentLayers: ['relu4_2'],
    styleLayers: ['relu3_1', 'relu4_1', 'relu5_1'],
  },
  'soft-content': {
    description: 'content from conv5_2: looser content constraints, more of the painting shows through (very detailed photos)',
    source: 'Gatys et al. 2016 (Fig. 3: content from conv5_2 keeps only the global arrangement)',
    contentLayers: ['relu5_2'],
    styleLayers: ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'],
  },
  partial: {
    description: 'partial style transfer: only the low-level style (colours, brush strokes) from conv1_1 and conv2_1; the photo keeps its structure',
    source: 'Nikulin & Novak 2016, "Exploring the Neural Algorithm of Artistic Style" (style from a subset of layers)',
    contentLayers: ['relu4_2'],
    styleLayers: ['relu1_1', 'relu2_1'],
  },
  'fine-texture': {
    description: 'all five style layers weighted toward the lower ones (1, 0.5, 0.25, 0.125, 0.0625): fine brush texture over large forms',
    source: 'layer weighting as in Gatys et al. 2016 (w_l) and neural-style-pt’s per-layer weights',
    contentLayers: ['relu4_2'],
    styleLayers: ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'],
    styleLayerWeights: [1, 0.5, 0.25, 0.125, 0.0625],
  },
};

export const PRESET_NAMES = Object.keys(PRESETS);
