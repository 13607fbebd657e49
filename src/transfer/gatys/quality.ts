/**
 * `quality`: the effort of a run in words a painter understands, turned into a coarse-to-fine
 * schedule. Stages grow by a fixed step (√2 as crowsonkb/style-transfer-pytorch does, or 2) from
 * a fraction of the output size; each stage but the last stops as soon as it has converged (the loss improved by
 * less than `tolerance` over the last `window` evaluations), the last one also at its cap. Coarse
 * stages are cheap (cost grows with the pixel count) and lay out the large forms, so the full-size
 * stage starts close to a good image and only refines the brush strokes.
 */
import { NstError } from '../../errors';

export type Quality = 'draft' | 'standard' | 'high';
export const QUALITY_NAMES: readonly Quality[] = ['draft', 'standard', 'high'];

export interface QualityPreset {
  description: string;
  /** The first stage's size as a fraction of the output size (never below MIN_STAGE_SIZE). */
  firstStageRatio: number;
  /** Ratio of a stage's side to the previous stage's. */
  stageStep: number;
  /** Evaluations of the first coarse stage, at most (later ones fewer, see planStages). */
  coarseIterations: number;
  /** Evaluations of the full-size stage, at most. */
  finalIterations: number;
  /** Relative improvement over `window` evaluations below which the full-size stage has converged. */
  tolerance: number;
  /** The same for coarse stages: they only lay out the large forms, which the next stage refines. */
  coarseTolerance: number;
}

// Coarse caps chosen by time to quality at 512 px (golden_gate × the_scream, 2 threads): coarse
// stages of 40/30/20/15 evaluations (77 s) left the full-size stage ~22 evaluations from PyTorch's
// 300-iteration saved-image score; 40 at every stage took 152 s for a 16-evaluation gap.
// standard's step of 2 (128 → 256 → 512) instead of √2: 27.4–31.2 s against 35.2–38.2 s to that
// score at 512 px (bf16, three runs each), 22.1–22.6 s against 22.7–23.2 s at 256 px.
export const QUALITY_PRESETS: Record<Quality, QualityPreset> = {
  draft: { description: 'a quick look', firstStageRatio: 0.5, stageStep: Math.SQRT2, coarseIterations: 30, finalIterations: 40, tolerance: 0.02, coarseTolerance: 0.03 },
  standard: { description: 'a finished painting', firstStageRatio: 0.25, stageStep: 2, coarseIterations: 40, finalIterations: 150, tolerance: 0.005, coarseTolerance: 0.02 },
  high: { description: 'converged to the last brush stroke', firstStageRatio: 0.25, stageStep: Math.SQRT2, coarseIterations: 100, finalIterations: 500, tolerance: 0.001, coarseTolerance: 0.005 },
};

/** Coarse stages below this size lose the painting's texture scale: start no smaller. */
export const MIN_STAGE_SIZE = 128;
/** Fewer evaluations than this barely move a stage away from its upscaled start. */
export const MIN_COARSE_ITERATIONS = 10;
/** Evaluations over which convergence is judged. */
export const CONVERGENCE_WINDOW = 10;

export interface StagePlan {
  /** Longest side of this stage's image. */
  size: number;
  /** Evaluations at most. */
  iterations: number;
  /** Stop early when the loss improved by less than this fraction over CONVERGENCE_WINDOW evaluations (0: never). */
  tolerance: number;
}

/** The stages of `quality` for an output of `size` px: `stageStep` apart, ending at `size`. */
export function planStages(size: number, quality: Quality): StagePlan[] {
  const preset = QUALITY_PRESETS[quality];
  if (!preset) throw new NstError(`unknown quality '${quality}' (available: ${QUALITY_NAMES.join(', ')})`);
  const first = Math.max(Math.min(MIN_STAGE_SIZE, size), Math.round(size * preset.firstStageRatio));
  const sizes: number[] = [];
  for (let s = size; s >= first * 0.99; s /= preset.stageStep) sizes.unshift(Math.round(s));
  // A coarse stage's cap shrinks as its cost grows: the first gets coarseIterations, a stage
  // twice its side about half as many (never below MIN_COARSE_ITERATIONS).
  return sizes.map((s, i) =>
    i === sizes.length - 1
      ? { size: s, iterations: preset.finalIterations, tolerance: preset.tolerance }
      : { size: s, iterations: Math.max(MIN_COARSE_ITERATIONS, Math.round((preset.coarseIterations * sizes[0]) / s)), tolerance: preset.coarseTolerance },
  );
}

/**
 * Whether a stage has converged: its best loss improved by less than `tolerance` (relative) over
 * the last `window` evaluations. `bestSoFar[i]` is the best loss after evaluation i + 1.
 */
export function hasConverged(bestSoFar: number[], tolerance: number, window = CONVERGENCE_WINDOW): boolean {
  if (tolerance <= 0 || bestSoFar.length <= window) return false;
  const now = bestSoFar[bestSoFar.length - 1];
  const before = bestSoFar[bestSoFar.length - 1 - window];
  if (!Number.isFinite(now) || !Number.isFinite(before)) return false;
  return before - now < tolerance * Math.abs(now);
}
