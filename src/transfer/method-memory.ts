/**
 * Memory planning for methods that cannot tile (NNST, STROTSS, ot: their losses compare features
 * across the whole image). A stage over the --max-memory budget is refused before any compute,
 * in one line naming the largest --size that fits untiled; running over the budget silently
 * would defeat the budget. The estimate is the Gatys tables' untiled stage (the same VGG19
 * forward and backward, a little deeper for Gatys) plus the neighbour search's blocks (ot: its
 * sorted projections).
 */
import { NstError } from '../errors';
import { formatBytes } from './tiling/memory-size';
import { SAFETY, StageMemoryInput, untiledStageBytes } from './gatys/tiling/memory-model';
import type { MeasuredStagePlan } from './gatys/tiling';
import { NEIGHBOUR_BLOCK_BYTES } from './nnst/neighbours';
import type { MethodName } from './method-names';

export interface UntiledStageInput extends Omit<StageMemoryInput, 'checkpoint'> {
  method: MethodName;
  maxMemory: number;
  baseBytes: number;
  /** The run's final --size (what the message suggests lowering). */
  finalSide: number;
}

/**
 * What ot's sliced-Wasserstein blocks hold beyond the Gatys tables' stage, per output pixel: the
 * sorted projections of every position (values, indices, gradients; 64 directions at relu1_1, 128
 * at relu2_1, …) and the painting's resampled to them. Measured at 512 × 384, bf16, 2 threads
 * (Tübingen × Starry Night): a 2,138 MiB peak where the tables give 1,123 MiB over a ~300 MiB base
 * for the 28 evaluations that stage ran, about 3.7 KB a pixel; rounded up.
 */
export const OT_BYTES_PER_PIXEL = 4096;

/** The method's own bytes beside the Gatys tables' stage: NNST's (and STROTSS's) search blocks, ot's sorted projections. */
function methodBytes(method: MethodName, m: StageMemoryInput): number {
  return method === 'ot' ? m.width * m.height * OT_BYTES_PER_PIXEL : NEIGHBOUR_BLOCK_BYTES;
}

/** The stage's bytes over the process's base, whole. */
function stageBytes(method: MethodName, m: StageMemoryInput): number {
  return untiledStageBytes({ ...m, checkpoint: false }) + methodBytes(method, m);
}

/** The untiled plan of a stage of a method without tiles, or an NstError when it does not fit. */
export function planUntiledStage(p: UntiledStageInput): MeasuredStagePlan {
  const memory: StageMemoryInput = { width: p.width, height: p.height, stylePixels: p.stylePixels, precision: p.precision, optimizer: p.optimizer, history: p.history, iterations: p.iterations };
  const need = stageBytes(p.method, memory);
  const room = p.maxMemory * SAFETY - p.baseBytes;
  if (need <= room) return { tiling: null, checkpoint: false, calibration: null, plannedBytes: need };
  // Scale the whole run (photo and paintings alike) down until the stage fits.
  const side = Math.max(p.width, p.height);
  let scale = 1;
  while (scale > 0.01) {
    scale *= 0.98;
    const s = scale;
    const fits = stageBytes(p.method, { ...memory, width: Math.round(p.width * s), height: Math.round(p.height * s), stylePixels: p.stylePixels.map((px) => px * s * s) }) <= room;
    if (fits) break;
  }
  // The run's largest stage is its last: the largest --size is the side at which this stage fits.
  const largest = Math.min(p.finalSide, Math.floor((side * scale) / 16) * 16);
  const fit = largest >= 16 ? `; the largest --size that fits untiled is about ${largest} px` : '';
  throw new NstError(
    `--method ${p.method} cannot optimise in tiles, and its ${p.width}x${p.height} stage needs about ${formatBytes(need + p.baseBytes)}, over --max-memory ${formatBytes(p.maxMemory)}${fit} (or raise --max-memory, or use --method gatys)`,
  );
}
