/**
 * Plans a run's stage with the objective's memory measured on this machine (../../memory) where
 * the budget is close, and with the built-in tables where it is far: a 512-px run under the
 * default budget (75 % of the machine) never pays for the probe.
 */
import { NstError } from '../../../errors';
import { Precision } from '../../../models';
import type { Tensor } from '../../../engine';
import { calibratedCost, Calibration, GATYS_PROBE_SIZES } from '../../memory';
import type { ResolvedStylizeOptions } from '../options';
import { objectiveCost, SAFETY, untiledStageBytes } from './memory-model';
import { PlanInput, planStage, StagePlan } from './tiled-stage';

/** Measure when the tables' untiled estimate exceeds this share of what the budget leaves. */
const MEASURE_ABOVE = 0.5;

/** What the run needs to know to measure: the compute settings the probe must share. */
export interface MeasureSettings {
  threads: number;
  device: string;
  modelDir?: string;
  /**
   * Observed / planned peak of the run's earlier stages (≥ 1): a stage that went over its plan
   * makes the next plans that much more careful.
   */
  correction?: number;
}

export interface MeasuredStagePlan extends StagePlan {
  /** The objective's cost the plan used (null: the tables, far from the budget). */
  calibration: Calibration | null;
  /** What the plan expects the stage to add to the process's base, bytes. */
  plannedBytes: number;
}

/** How stage `stage` of a run runs: whole or tiled, with or without checkpointing. */
export function planRunStage(options: ResolvedStylizeOptions, stage: number, width: number, height: number, styles: Tensor[], precision: Precision, baseBytes: number, measure?: MeasureSettings): MeasuredStagePlan {
  const input: PlanInput = {
    width,
    height,
    stylePixels: styles.map((s) => s.shape[2] * s.shape[3]),
    precision,
    optimizer: options.optimizer,
    history: options.lbfgsHistory,
    iterations: options.scaleIterations[stage],
    maxMemory: options.maxMemory,
    baseBytes,
    tileSize: options.tileSize,
    passes: options.tilePasses,
    checkpointing: options.checkpoint,
  };
  const planned = (plan: StagePlan, p: PlanInput) => plan.tiling ? plan.tiling.tiledBytes : untiledStageBytes({ ...p, checkpoint: plan.checkpoint });
  // CUDA memory is not the process's RSS: the tables (and the device's own limit) there.
  if (!measure || measure.device !== 'cpu') {
    const plan = planStage(input);
    return { ...plan, calibration: null, plannedBytes: planned(plan, input) };
  }
  let guess: StagePlan | null = null;
  try {
    guess = planStage(input);
  } catch (e) {
    if (!(e instanceof NstError)) throw e;
  }
  const room = options.maxMemory * SAFETY - baseBytes;
  const correction = Math.max(1, measure.correction ?? 1);
  if (guess && !guess.tiling && !guess.checkpoint && correction === 1 && untiledStageBytes({ ...input, checkpoint: false }) <= MEASURE_ABOVE * room) {
    return { ...guess, calibration: null, plannedBytes: planned(guess, input) };
  }
  const calibrations = new Map<boolean, Calibration>();
  const cost = (checkpoint: boolean): Calibration => {
    let c = calibrations.get(checkpoint);
    if (!c) {
      const table = objectiveCost({ precision, checkpoint });
      const measured = calibratedCost({ kind: 'gatys', precision, checkpoint, threads: measure.threads, sizes: GATYS_PROBE_SIZES, modelDir: measure.modelDir }, table);
      c = { ...measured, fixedBytes: Math.ceil(measured.fixedBytes * correction), bytesPerPixel: Math.ceil(measured.bytesPerPixel * correction) };
      calibrations.set(checkpoint, c);
    }
    return c;
  };
  const measuredInput = { ...input, cost };
  const plan = planStage(measuredInput);
  return { ...plan, calibration: cost(plan.checkpoint), plannedBytes: planned(plan, measuredInput) };
}
