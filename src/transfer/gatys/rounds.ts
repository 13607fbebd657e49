/**
 * The last stage as rounds. A loss that draws at random (ot's sliced-Wasserstein directions, its
 * self-similarity positions) draws once per objective, so L-BFGS's line search sees one fixed
 * function. Run to convergence against one draw, the output fits those directions and not the
 * painting's distribution along others. Split into rounds, the last stage's evaluations go to
 * several objectives in turn, each drawing anew and starting from the previous round's best image
 * with L-BFGS's curvature pairs handed over (as between stages of different sizes).
 *
 * A round is a stage of the same size as the one before it: the report lists each, and progress
 * counts them as stages.
 */
import { NstError } from '../../errors';

/** A round shorter than this barely moves L-BFGS past its handed-over start. */
export const MIN_ROUND_EVALUATIONS = 10;

export interface Schedule {
  scales: number[];
  scaleIterations: number[];
  scaleTolerances: number[];
}

/**
 * `schedule` with its last stage split into `rounds` stages of the same size that share its
 * evaluations (the first rounds take the remainder) and each keep its tolerance. `explicit`: the
 * user asked for this count, so a last stage with fewer evaluations than rounds is an error;
 * a method's default count is lowered instead, to keep MIN_ROUND_EVALUATIONS per round.
 */
export function splitLastStage(schedule: Schedule, rounds: number, explicit: boolean): Schedule {
  const last = schedule.scales.length - 1;
  const total = schedule.scaleIterations[last];
  if (explicit && rounds > total) throw new NstError(`--rounds ${rounds} needs at least ${rounds} iterations in the last stage (it has ${total})`);
  const count = explicit ? rounds : Math.max(1, Math.min(rounds, Math.floor(total / MIN_ROUND_EVALUATIONS)));
  if (count === 1) return schedule;
  const share = Math.floor(total / count);
  const iterations = Array.from({ length: count }, (_, k) => share + (k < total - share * count ? 1 : 0));
  return {
    scales: [...schedule.scales.slice(0, last), ...iterations.map(() => schedule.scales[last])],
    scaleIterations: [...schedule.scaleIterations.slice(0, last), ...iterations],
    scaleTolerances: [...schedule.scaleTolerances.slice(0, last), ...iterations.map(() => schedule.scaleTolerances[last])],
  };
}
