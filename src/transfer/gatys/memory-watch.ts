/**
 * Watches a run's memory against its budget, stage by stage: records what each stage planned,
 * what the objective was measured to cost and what the process reached, and when a stage grew
 * past its plan, makes the following stages' plans that much more careful. A stage over the
 * budget is never silent: the report and the CLI's stage line say so.
 */
import { MIB } from '../tiling/memory-size';
import { peakResidentBytes } from '../memory';
import type { MeasuredStagePlan, MeasureSettings } from './tiling';

export interface StageMemoryReport {
  budgetMiB: number;
  /** The process before the run's first stage (runtime, VGG19), MiB. */
  baseMiB: number;
  /** What the plan expected the stage to add to the base, MiB. */
  plannedMiB: number;
  /** The objective's cost the plan used: measured on this machine, cached, or the tables. */
  objective: { source: string; fixedMiB: number; bytesPerPixel: number; probe?: { sizes: number[]; peaksMiB: number[] } } | null;
  /** The process's peak at the end of the stage, MiB. */
  peakMiB: number;
  /** The peak passed the budget during this stage. */
  overBudget: boolean;
}

export class RunMemoryWatch {
  private correction = 1;
  private stagePeakBefore = peakResidentBytes();

  constructor(
    private readonly budget: number,
    readonly baseBytes: number,
    private readonly settings: Omit<MeasureSettings, 'correction'>,
  ) {}

  /** What the next stage's plan measures with; also marks where that stage's own peak starts (see stageDone). */
  measureSettings(): MeasureSettings {
    this.stagePeakBefore = peakResidentBytes();
    return { ...this.settings, correction: this.correction };
  }

  /** After a stage: its memory report; a stage that rose past its plan corrects the next plans. */
  stageDone(plan: MeasuredStagePlan): StageMemoryReport {
    const peak = peakResidentBytes();
    const grown = peak - this.baseBytes;
    if (peak > this.stagePeakBefore && plan.plannedBytes > 0 && grown > plan.plannedBytes) {
      this.correction = Math.max(this.correction, grown / plan.plannedBytes);
    }
    const c = plan.calibration;
    return {
      budgetMiB: Math.round(this.budget / MIB),
      baseMiB: Math.round(this.baseBytes / MIB),
      plannedMiB: Math.round(plan.plannedBytes / MIB),
      objective: c ? { source: c.source, fixedMiB: Math.round(c.fixedBytes / MIB), bytesPerPixel: c.bytesPerPixel, ...(c.probe ? { probe: c.probe } : {}) } : null,
      peakMiB: Math.round(peak / MIB),
      // The peak is the process's all-time one: only a rise during this stage is this stage's.
      overBudget: peak > this.budget && peak > this.stagePeakBefore,
    };
  }
}
