/**
 * Time left of a run whose stages differ in size (coarse-to-fine: 128 → 256 → 512 px). An
 * evaluation costs about its stage's pixel count, so counting evaluations lets the cheap coarse
 * stages set the rate and promises a fraction of the time the full-size stage takes. Here the
 * rate is measured in pixel-evaluations per second and the work left is, over the evaluations
 * left, the sum of their stage's pixels. Each stage counts its planned cap: with --quality a
 * stage may stop earlier on convergence, so the estimate is an upper bound until it does.
 */

export interface EtaStage {
  /** Pixels of the stage's image. */
  pixels: number;
  /** Evaluations planned (the stage's cap). */
  evaluations: number;
}

/** Pixels of an image of `width`x`height` resized so its longest side is `side` (as loadImage's maxSide). */
export function pixelsAtSide(side: number, width: number, height: number): number {
  const short = Math.max(1, Math.round((side * Math.min(width, height)) / Math.max(width, height)));
  return side * short;
}

export class StagedEta {
  /** Evaluations run so far in each stage. */
  private readonly done: number[];
  /** Stages that stopped before their cap (converged, diverged): their unused cap is no work. */
  private readonly ended: boolean[];

  constructor(private readonly stages: readonly EtaStage[]) {
    this.done = stages.map(() => 0);
    this.ended = stages.map(() => false);
  }

  /**
   * Seconds left once `done` evaluations of stage `stage` have run, `elapsedSeconds` into the run;
   * `ended`: the stage stops here. Infinity before any work is done.
   */
  secondsLeft(stage: number, done: number, elapsedSeconds: number, ended = false): number {
    this.done[stage] = done;
    if (ended) this.ended[stage] = true;
    let workDone = 0;
    let workLeft = 0;
    this.stages.forEach((s, k) => {
      workDone += this.done[k] * s.pixels;
      // Stages before the current one are over, whatever their cap said.
      if (k >= stage && !this.ended[k]) workLeft += Math.max(0, s.evaluations - this.done[k]) * s.pixels;
    });
    if (workLeft === 0) return 0;
    if (!(workDone > 0)) return Infinity;
    return workLeft / (workDone / Math.max(elapsedSeconds, 1e-9));
  }
}
