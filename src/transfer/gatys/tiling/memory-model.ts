/**
 * How much memory a stage of optimisation-based transfer needs, and the largest tile that fits a
 * budget. The objective's cost (VGG19 forward + backward) is measured on the machine itself
 * (../../memory: a probe at two sizes, cached per machine) wherever the budget is close; the
 * tables below are the fallback and the first guess, measured on one AMD EPYC (bench/tile-memory.ts:
 * peak RSS of the objective's forward + backward in a fresh process, minus the RSS after loading
 * VGG19), at the default layers (relu1_1 … relu5_1, relu4_2).
 */
import type { Precision } from '../../../models';
import { formatBytes } from '../../tiling/memory-size';
import type { MemoryCost } from '../../memory';
import { NstError } from '../../../errors';

/**
 * VGG19 forward + backward of the objective, bytes per output pixel (activations kept for the
 * backward pass, their gradients, Gram products). bf16 keeps activations in bf16 but casts the
 * loss layers to fp32, and on a CPU with native bf16 (oneDNN, channels-last) it takes *more*
 * than fp32: measured 2,532 / 2,612 / 2,812 B/px at 1,024 / 512 / 1,536 px (fp32: 2,056–2,262).
 * The figures keep fp32's margin (~17 % over the largest measurement).
 * Since the Gram products run in bf16 (no fp32 copies of the loss layers) the objective alone
 * measures 1,324–1,488 B/px (checkpointed 575–773), but a tiled 2,048² run under 3 GB planned with
 * 1,750 / 900 peaked at 3,821 MiB: what else a tiled bf16 stage holds is not in the model yet, so
 * the figures stay where whole runs were measured within budget.
 */
export const ACTIVATION_BYTES_PER_PIXEL: Record<Precision, number> = { fp32: 3000, bf16: 3300 };

/**
 * The same with checkpointing (GatysObjective's `checkpoint`: one VGG19 block's activations alive
 * at a time). Measured (bench/tile-memory.ts … checkpoint): fp32 976–1,279 B/px against
 * 2,048–2,272 without, for 1.45–1.5× the time per evaluation; bf16 (native) 1,516 at 1,024 px.
 */
export const CHECKPOINTED_ACTIVATION_BYTES_PER_PIXEL: Record<Precision, number> = { fp32: 1500, bf16: 1800 };

/**
 * Whole-image data a tiled stage holds besides the tiles, bytes per output pixel: the decoded
 * content (float32 RGB, 12 B), its preprocessed tensor (12 B), the image being optimised (12 B),
 * the transient copies of the stage's upscaling and of the final save (~4 × 12 B), masks, and
 * what the allocator keeps of freed whole-image buffers. Measured on square 2,048² and 4,096²
 * runs: 100 B/px let the process reach 3,084 MiB against a 3-GiB budget and 6,290–6,700 MiB
 * against 6 GiB (45–75 B/px more than modelled), hence 180.
 */
export const WHOLE_IMAGE_BYTES_PER_PIXEL = 180;
/** A style image at the stage's scale: decoded (12 B) + preprocessed (12 B) per pixel. */
export const STYLE_BYTES_PER_PIXEL = 24;
/** Per optimised pixel: the optimiser's vectors (3 channels × float32) beyond its history. */
const OPTIMIZER_VECTORS = 6;
/** Headroom for allocator slack and the JavaScript heap. */
export const SAFETY = 0.9;

/** The smallest tile: VGG19's relu5_1 needs 32 px to keep 2 × 2 features after four poolings. */
export const MIN_TILE = 32;

export interface StageMemoryInput {
  width: number;
  height: number;
  /** Pixels of each style image at this stage's scale. */
  stylePixels: number[];
  precision: Precision;
  optimizer: 'lbfgs' | 'adam';
  /** L-BFGS history pairs. */
  history: number;
  /** Iterations one optimiser runs (bounds the L-BFGS history actually filled). */
  iterations: number;
  /** Activations recomputed block by block in the backward pass (less memory, more time). */
  checkpoint?: boolean;
  /** The objective's cost measured on this machine (plain or checkpointed); the tables without it. */
  cost?: (checkpoint: boolean) => MemoryCost;
}

/** The objective's forward + backward as this stage runs it: measured, or from the tables. */
export function objectiveCost(m: Pick<StageMemoryInput, 'precision' | 'checkpoint' | 'cost'>): MemoryCost {
  if (m.cost) return m.cost(m.checkpoint ?? false);
  return { fixedBytes: 0, bytesPerPixel: (m.checkpoint ? CHECKPOINTED_ACTIVATION_BYTES_PER_PIXEL : ACTIVATION_BYTES_PER_PIXEL)[m.precision] };
}

/** VGG19's forward + backward, bytes per pixel, as this stage runs it. */
export function activationBytesPerPixel(m: Pick<StageMemoryInput, 'precision' | 'checkpoint' | 'cost'>): number {
  return objectiveCost(m).bytesPerPixel;
}

/** Optimiser state in bytes per optimised pixel. */
export function optimizerBytesPerPixel(m: Pick<StageMemoryInput, 'optimizer' | 'history' | 'iterations'>): number {
  const pairs = m.optimizer === 'lbfgs' ? 2 * Math.min(m.history, m.iterations) : 2;
  return (pairs + OPTIMIZER_VECTORS) * 3 * 4;
}

/** Bytes a stage needs on top of the process's base when run on the whole image at once. */
export function untiledStageBytes(m: StageMemoryInput): number {
  const px = m.width * m.height;
  const cost = objectiveCost(m);
  // The style image's targets are computed without a graph (about half the plain objective's bytes).
  const noGraph = objectiveCost({ ...m, checkpoint: false }).bytesPerPixel / 2;
  const styles = m.stylePixels.reduce((a, p) => a + p * (STYLE_BYTES_PER_PIXEL + noGraph), 0);
  return cost.fixedBytes + px * (WHOLE_IMAGE_BYTES_PER_PIXEL + cost.bytesPerPixel + optimizerBytesPerPixel(m)) + styles;
}

/** Bytes of a tiled stage besides its tile: the whole images. */
export function tiledFixedBytes(m: StageMemoryInput): number {
  return m.width * m.height * WHOLE_IMAGE_BYTES_PER_PIXEL + m.stylePixels.reduce((a, p) => a + p * STYLE_BYTES_PER_PIXEL, 0);
}

/** Bytes one square tile of `side` px needs (objective and optimiser). */
export function tileBytes(side: number, m: StageMemoryInput): number {
  const cost = objectiveCost(m);
  return cost.fixedBytes + side * side * (cost.bytesPerPixel + optimizerBytesPerPixel(m));
}

/**
 * The largest tile side (a multiple of 16, at least MIN_TILE) that fits `available` bytes, or an
 * NstError naming the budget a minimal tile needs.
 */
export function largestTile(available: number, m: StageMemoryInput, budget: number, base: number): number {
  const cost = objectiveCost(m);
  const perPixel = cost.bytesPerPixel + optimizerBytesPerPixel(m);
  const side = Math.floor(Math.sqrt(Math.max(0, available - cost.fixedBytes) / perPixel) / 16) * 16;
  if (side < MIN_TILE) {
    const minimum = (base + tiledFixedBytes(m) + tileBytes(MIN_TILE, m)) / SAFETY;
    throw new NstError(`--max-memory ${formatBytes(budget)} is too small for ${m.width}x${m.height}: one ${MIN_TILE}-px tile needs at least ${formatBytes(minimum)}`);
  }
  return side;
}
