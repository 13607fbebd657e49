/**
 * The optimisation-based transfer methods `nst stylize --method` offers, as data: names, one-line
 * descriptions, what each supports and the defaults it puts in place of the options the user left
 * out. The objectives themselves are built in method.ts.
 */

export type MethodName = 'gatys' | 'strotss' | 'nnst' | 'ot';
export const METHOD_NAMES: readonly MethodName[] = ['gatys', 'strotss', 'nnst', 'ot'];

/** The loss blocks of the Gatys method's objective (`--style-loss`, `--content-loss`), as the losses define them. */
export { STYLE_LOSSES as STYLE_LOSS_NAMES, CONTENT_LOSSES as CONTENT_LOSS_NAMES } from '../losses/layer-losses';
export type { StyleLossName, ContentLossName } from '../losses/layer-losses';

export interface MethodCapabilities {
  /** Spatial control with --style-mask. */
  masks: boolean;
  /** A stage over the --max-memory budget can be optimised in tiles (else the run refuses: see method.ts). */
  tiling: boolean;
  /** --style-loss / --content-loss pick its loss blocks. */
  lossBlocks: boolean;
  /** --alpha sets its content-vs-style trade-off. */
  alpha: boolean;
  /** Gatys-only knobs: --normalize-gradients, --loss-normalization sum, --checkpoint on. */
  gatysKnobs: boolean;
  /** --content-weight and --style-weight apply (STROTSS balances its terms by α alone). */
  weights: boolean;
}

export interface MethodDefaults {
  contentWeight: number;
  styleWeight: number;
  tvWeight: number;
  /** The method's VGG19 layers when --style-layers is not given (null: the preset's). */
  styleLayers: readonly string[] | null;
  /** Its content layers when --content-layers is not given (null: the preset's, or none for methods with their own style layers). */
  contentLayers: readonly string[] | null;
  /** Content-vs-style trade-off (methods with `alpha`). */
  alpha: number;
  /** L-BFGS curvature pairs kept (each holds two image-sized vectors). */
  lbfgsHistory: number;
  /** Rounds of the last stage, each with new random draws (gatys/rounds.ts; 1: one objective). */
  rounds: number;
}

export interface MethodInfo {
  name: MethodName;
  /** One line for --help and the web page. */
  description: string;
  capabilities: MethodCapabilities;
  defaults: MethodDefaults;
}

/**
 * NNST's hypercolumn layers on VGG19. NNST used VGG16's relu1_1 … relu4_3 (ten layers); measured
 * at 256 px on three pairs with src/quality (the table is in src/transfer/nnst/index.ts), one
 * layer per block from relu1_1 to relu4_1 plus relu4_2 gives the same mean style distance as the
 * dense set (79.0 vs 79.6) with 43 % of its channels; the dense set keeps 8 % more structure (CFSD).
 */
export const NNST_LAYERS: readonly string[] = ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu4_2'];

/** STROTSS's hypercolumn layers on VGG19 (measured in src/transfer/strotss/defaults.ts, whose list this mirrors without importing the engine). */
export const STROTSS_LAYERS: readonly string[] = ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'];

/**
 * Its self-similarity content at relu3_1 only, where the photo's structure is measured: relu4_2
 * also anchored relu4_1, where most of the painting's feature distribution stays unmatched
 * (dropping it: 3 % less style distance for 2 % more structure loss, src/transfer/ot).
 */
export const OT_CONTENT_LAYERS: readonly string[] = ['relu3_1'];

/**
 * Its last stage in rounds with new random directions (gatys/rounds.ts): fitted to one draw, the
 * output matched the painting along those directions only (tuning pairs in src/transfer/ot).
 */
export const OT_ROUNDS = 6;

export const METHODS: Record<MethodName, MethodInfo> = {
  gatys: {
    name: 'gatys',
    description: 'Gatys et al. 2016: match the painting\'s Gram matrices (or another --style-loss) while keeping the photo\'s features',
    capabilities: { masks: true, tiling: true, lossBlocks: true, alpha: false, gatysKnobs: true, weights: true },
    defaults: { contentWeight: 5, styleWeight: 100, tvWeight: 1e-3, styleLayers: null, contentLayers: null, alpha: 0, lbfgsHistory: 100, rounds: 1 },
  },
  strotss: {
    name: 'strotss',
    description: 'STROTSS (Kolkin et al. 2019): relaxed optimal transport between output and painting features, self-similarity content',
    capabilities: { masks: true, tiling: false, lossBlocks: false, alpha: true, gatysKnobs: false, weights: false },
    // α = 1 is STROTSS's own default (content weight 16 at 64 px, halved per doubling).
    defaults: { contentWeight: 1, styleWeight: 1, tvWeight: 0, styleLayers: STROTSS_LAYERS, contentLayers: null, alpha: 1, lbfgsHistory: 100, rounds: 1 },
  },
  nnst: {
    name: 'nnst',
    description: 'Neural neighbours (Kolkin et al. 2022): every photo feature replaced by its nearest painting feature, then the painting\'s colours',
    capabilities: { masks: false, tiling: false, lossBlocks: false, alpha: true, gatysKnobs: false, weights: true },
    // 40 L-BFGS pairs, not 100: NNST's evaluation holds ~1 GB at 512 px, and the 60 pairs less
    // (280 MB at 512 × 384) keep a standard 512-px run under 2 GB.
    defaults: { contentWeight: 0, styleWeight: 1, tvWeight: 0, styleLayers: NNST_LAYERS, contentLayers: null, alpha: 0.75, lbfgsHistory: 40, rounds: 1 },
  },
  ot: {
    name: 'ot',
    description: 'Optimal transport (Heitz et al. 2021): match the distribution of the painting\'s features along random directions (sliced Wasserstein), keep the photo\'s self-similarity',
    capabilities: { masks: false, tiling: false, lossBlocks: false, alpha: false, gatysKnobs: false, weights: true },
    // Gatys's weights and strength scale: src/transfer/ot scales them to its own loss blocks.
    defaults: { contentWeight: 5, styleWeight: 100, tvWeight: 1e-3, styleLayers: null, contentLayers: OT_CONTENT_LAYERS, alpha: 0, lbfgsHistory: 100, rounds: OT_ROUNDS },
  },
};
