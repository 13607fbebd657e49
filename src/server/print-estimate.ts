/**
 * How long a job would take here, said before it starts (the page's print sizes). The unit is
 * the ETA model's (src/transfer/eta.ts): an evaluation costs about its stage's pixel count, so a
 * stylize job's work is Σ pixels × evaluations over its coarse-to-fine stages (a quick style's:
 * its pixels). The rate is measured, not assumed: work per second of the last finished jobs of
 * the same kind (and transfer method) on this server, in their optimisation loops (loading the
 * network is left out: it does not grow with the picture). A stage over the server's memory budget
 * runs in tiles that overlap, which costs their overlap on top. The figure is an upper bound:
 * every stage counts its cap, and stages stop sooner once converged.
 */
import { pixelsAtSide } from '../transfer/eta';
import { planStages, QUALITY_PRESETS } from '../transfer/gatys';
import { planStageTiling, SAFETY, StageMemoryInput, untiledStageBytes } from '../transfer/gatys/tiling';
import { planGrid } from '../transfer/tiling/grid';
import { FAST_BYTES_PER_PIXEL } from '../transfer/fast/tiled';
import { METHODS, MethodName } from '../transfer/method-names';
import type { JobRecord } from '../jobs/store';

/** The process's memory before a stage (runtime, VGG19's weights): the planner's usual base. */
export const BASE_BYTES = 900 * 2 ** 20;
/** Jobs whose pace is averaged. */
const RECENT_JOBS = 8;
/**
 * Smallest final image that paces a print: below it an evaluation's fixed costs (kernel launches,
 * the optimiser's bookkeeping) outweigh its pixels, and a 48-px job paced a 2,048-px print 20×
 * too slow.
 */
export const MIN_PACING_PIXELS = 40_000;

export interface EstimateRequest {
  kind: 'stylize' | 'fast';
  size: number;
  /** The photo's shape (the result keeps it). */
  width: number;
  height: number;
  quality?: keyof typeof QUALITY_PRESETS;
  /** One stage of exactly this many evaluations (instead of the quality's schedule). */
  iterations?: number;
  transferMethod?: MethodName;
}

export interface Estimate {
  /** Seconds, at most (null: nothing measured on this server yet). */
  seconds: number | null;
  /** Finished jobs the pace was measured on. */
  measuredJobs: number;
  /** Whether the largest stage runs in tiles within the budget, and how many per pass. */
  tiled: boolean;
  tiles: number;
  budgetBytes: number;
  /** False where the job cannot run within the budget (a method that cannot tile). */
  fits: boolean;
  /** One line for the painter. */
  message: string;
}

interface Stage {
  pixels: number;
  evaluations: number;
}

/** The stages a stylize job plans (the ETA model's EtaStage), or one for a quick style. */
export function plannedStages(r: EstimateRequest): Stage[] {
  const px = (side: number) => pixelsAtSide(side, r.width, r.height);
  if (r.kind === 'fast') return [{ pixels: px(r.size), evaluations: 1 }];
  if (r.iterations !== undefined) return [{ pixels: px(r.size), evaluations: r.iterations }];
  return planStages(r.size, r.quality ?? 'standard').map((s) => ({ pixels: px(s.size), evaluations: s.iterations }));
}

const workOf = (stages: Stage[]) => stages.reduce((w, s) => w + s.pixels * s.evaluations, 0);

/** The request a finished job was, read back from its record (null when it cannot be). */
function requestOf(job: JobRecord): EstimateRequest | null {
  const p = job.params;
  const photo = job.inputs.content;
  if (!photo?.width || !photo.height || typeof p.size !== 'number') return null;
  if (job.method === 'fast') return { kind: 'fast', size: p.size, width: photo.width, height: photo.height };
  if (job.method !== 'stylize') return null;
  const explicit = p.explicitIterations === true && typeof p.iterations === 'number';
  return {
    kind: 'stylize',
    size: p.size,
    width: photo.width,
    height: photo.height,
    quality: p.quality as EstimateRequest['quality'],
    iterations: explicit ? (p.iterations as number) : undefined,
    transferMethod: (p.transferMethod as MethodName | undefined) ?? 'gatys',
  };
}

/**
 * Work per second over the last finished jobs like `r`. A job that stopped its stages early ran
 * fewer evaluations than planned: its work is scaled by evaluations run / planned.
 */
export function measuredPace(jobs: readonly JobRecord[], r: EstimateRequest): { workPerSecond: number; jobs: number } | null {
  let work = 0;
  let seconds = 0;
  let n = 0;
  for (const job of jobs) {
    if (n >= RECENT_JOBS) break;
    if (job.status !== 'succeeded' || !job.result || job.result.partial || !(job.result.seconds > 0) || job.resumes.length) continue;
    const past = requestOf(job);
    if (!past || past.kind !== r.kind || (r.kind === 'stylize' && past.transferMethod !== (r.transferMethod ?? 'gatys'))) continue;
    const stages = plannedStages(past);
    if (stages[stages.length - 1].pixels < MIN_PACING_PIXELS) continue;
    const planned = stages.reduce((a, s) => a + s.evaluations, 0);
    const ran = r.kind === 'fast' ? 1 : Math.min(job.result.iterations, planned);
    work += (workOf(stages) * ran) / planned;
    // The optimisation loop's own time where the job recorded it (loading the network is not work per pixel).
    const looped = job.progress?.elapsedSeconds;
    seconds += r.kind === 'stylize' && looped && looped > 0 && looped <= job.result.seconds ? looped : job.result.seconds;
    n++;
  }
  return n && seconds > 0 ? { workPerSecond: work / seconds, jobs: n } : null;
}

/** The largest stage under the budget: whole, tiled (with the overlap's extra work), or not at all. */
function tilingOf(r: EstimateRequest, budgetBytes: number): { tiled: boolean; tiles: number; overhead: number; fits: boolean } {
  const side = r.size;
  const width = r.width >= r.height ? side : Math.max(1, Math.round((side * r.width) / r.height));
  const height = r.width >= r.height ? Math.max(1, Math.round((side * r.height) / r.width)) : side;
  if (r.kind === 'fast') {
    // The network's forward pass at the fast planner's table cost; over the budget it runs in bands of tiles (their overlap is small).
    const tiles = Math.ceil((width * height * FAST_BYTES_PER_PIXEL) / Math.max(1, budgetBytes * SAFETY - BASE_BYTES));
    return { tiled: tiles > 1, tiles, overhead: 1, fits: true };
  }
  const stages = plannedStages(r);
  const m: StageMemoryInput = { width, height, stylePixels: [width * height], precision: 'fp32', optimizer: 'lbfgs', history: 100, iterations: stages[stages.length - 1].evaluations };
  if (untiledStageBytes(m) <= budgetBytes * SAFETY - BASE_BYTES) return { tiled: false, tiles: 1, overhead: 1, fits: true };
  if (!METHODS[r.transferMethod ?? 'gatys'].capabilities.tiling) return { tiled: false, tiles: 1, overhead: 1, fits: false };
  try {
    const plan = planStageTiling({ ...m, maxMemory: budgetBytes, baseBytes: BASE_BYTES });
    if (!plan) return { tiled: false, tiles: 1, overhead: 1, fits: true };
    const tiles = planGrid(width, height, plan.grid);
    const covered = tiles.reduce((a, t) => a + t.width * t.height, 0);
    return { tiled: true, tiles: tiles.length, overhead: covered / (width * height), fits: true };
  } catch {
    return { tiled: false, tiles: 1, overhead: 1, fits: false };
  }
}

export function estimate(r: EstimateRequest, recentJobs: readonly JobRecord[], budgetBytes: number): Estimate {
  const tiling = tilingOf(r, budgetBytes);
  const pace = measuredPace(recentJobs, r);
  const budget = `${(budgetBytes / 2 ** 30).toFixed(1)} GiB`;
  const base = { measuredJobs: pace?.jobs ?? 0, tiled: tiling.tiled, tiles: tiling.tiles, budgetBytes, fits: tiling.fits };
  if (!tiling.fits) {
    const method = r.transferMethod ?? 'gatys';
    const why = METHODS[method].capabilities.tiling ? 'even in tiles' : `with ${method}, which cannot paint in tiles`;
    return { ...base, seconds: null, message: `${r.size} px does not fit this server's ${budget} per job ${why}` };
  }
  const how = !tiling.tiled ? `whole, within this server's ${budget}` : r.kind === 'fast' ? `in tiles, within this server's ${budget}` : `in ${tiling.tiles} tiles a pass, within this server's ${budget}`;
  if (!pace) return { ...base, seconds: null, message: `${r.size} px, ${how}; its time is known once this server has finished a painting like it` };
  // The largest stage carries the tiles' overlap; the coarse stages run whole.
  const stages = plannedStages(r);
  const last = stages[stages.length - 1];
  const work = workOf(stages) + last.pixels * last.evaluations * (tiling.overhead - 1);
  const seconds = work / pace.workPerSecond;
  return { ...base, seconds, message: `${r.size} px, ${how}: up to about ${words(seconds)} (paced on this server's last ${pace.jobs} painting${pace.jobs > 1 ? 's' : ''})` };
}

function words(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
