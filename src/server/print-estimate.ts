/**
 * How long a job would take here, said before it starts (the page's print sizes). The unit is
 * the ETA model's (src/transfer/eta.ts): an evaluation costs about its stage's pixel count, so a
 * stylize job's work is Σ pixels × evaluations over its coarse-to-fine stages (a quick style's:
 * its pixels). The rate is measured, not assumed: work per second of the last finished jobs of
 * the same kind (and transfer method) on this server, in their optimisation loops (loading the
 * network is left out: it does not grow with the picture). A stage over the server's memory budget
 * runs in tiles that overlap, which costs their overlap on top, and each tile of each pass pays a
 * set-up of its own (its content targets, a fresh L-BFGS that searches its first steps' length):
 * TILE_SETUP_EVALUATIONS of its pixels. The same model counts the work of the finished jobs that
 * set the pace, so a tiled print paced on tiled prints stays consistent. The figure is an upper
 * bound for whole stages (every stage counts its cap; stages stop sooner once converged).
 */
import { pixelsAtSide } from '../transfer/eta';
import { planStages, QUALITY_PRESETS } from '../transfer/gatys';
import { planStageTiling, SAFETY, StageMemoryInput, untiledStageBytes } from '../transfer/gatys/tiling';
import { planGrid } from '../transfer/tiling/grid';
import { FAST_BYTES_PER_PIXEL } from '../transfer/fast/tiled';
import { METHODS, MethodName } from '../transfer/method-names';
import type { JobRecord } from '../jobs/store';
import type { Precision } from '../engine';
import { cachedCost, GATYS_PROBE_SIZES } from '../transfer/memory';
import { objectiveCost } from '../transfer/gatys/tiling/memory-model';

/** The process's memory before a stage (runtime, VGG19's weights): the planner's usual base. */
export const BASE_BYTES = 900 * 2 ** 20;
/**
 * Set-up of one tile in one pass, in evaluations of the tile's pixels. Measured: Tübingen at
 * 1,024 px, 20 evaluations, 1.6 GiB (3 passes of 12 tiles of 368 px, 7 iterations each), paced
 * on a 512-px job of 20 (86 s): the overlap alone predicted 711 s, the print took 1,041 s; the
 * difference over 36 tile runs is 3.0 evaluations of a tile.
 */
export const TILE_SETUP_EVALUATIONS = 4;
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
  /** The jobs' compute precision (its bytes per pixel decide the tiling); default fp32. */
  precision?: Precision;
  /** Compute threads per job (with precision, which memory calibration of this machine applies). */
  threads?: number;
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

interface Tiling {
  tiled: boolean;
  /** Tiles in one pass. */
  tiles: number;
  passes: number;
  /** Pixels the tiles of one pass cover, over the image's (their overlap). */
  overhead: number;
  /** Pixels of one tile. */
  tilePixels: number;
  fits: boolean;
}

const WHOLE: Tiling = { tiled: false, tiles: 1, passes: 1, overhead: 1, tilePixels: 0, fits: true };

/** Work of a job (pixel-evaluations): its stages, the largest carrying its tiles' overlap and set-up. */
function workOf(stages: Stage[], tiling: Tiling): number {
  const whole = stages.reduce((w, s) => w + s.pixels * s.evaluations, 0);
  if (!tiling.tiled) return whole;
  const last = stages[stages.length - 1];
  return whole + last.pixels * last.evaluations * (tiling.overhead - 1) + tiling.tiles * tiling.passes * tiling.tilePixels * TILE_SETUP_EVALUATIONS;
}

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
    precision: job.result?.details?.precision === 'bf16' ? 'bf16' : 'fp32',
    threads: typeof job.result?.details?.threads === 'number' ? job.result.details.threads : undefined,
  };
}

/**
 * Work per second over the last finished jobs like `r`. A job that stopped its stages early ran
 * fewer evaluations than planned: its work is scaled by evaluations run / planned. A tiled print
 * is paced on tiled prints where this server has painted one (and a whole painting on whole ones):
 * both sides' work is counted with the same tiling model, so its errors cancel.
 */
export function measuredPace(jobs: readonly JobRecord[], r: EstimateRequest, budgetBytes: number): { workPerSecond: number; jobs: number } | null {
  const tiled = tilingOf(r, budgetBytes).tiled;
  const alike = jobs.filter((job) => ranTiled(job) === tiled);
  return paceOver(alike.length ? alike : jobs, r, budgetBytes);
}

function paceOver(jobs: readonly JobRecord[], r: EstimateRequest, budgetBytes: number): { workPerSecond: number; jobs: number } | null {
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
    work += (workOf(stages, ranTiled(job) ? tilingOf(past, budgetBytes) : WHOLE) * ran) / planned;
    // The optimisation loop's own time where the job recorded it (loading the network is not work per pixel).
    const looped = job.progress?.elapsedSeconds;
    seconds += r.kind === 'stylize' && looped && looped > 0 && looped <= job.result.seconds ? looped : job.result.seconds;
    n++;
  }
  return n && seconds > 0 ? { workPerSecond: work / seconds, jobs: n } : null;
}

/** Whether a finished stylize job's largest stage ran in tiles (its record says so). */
function ranTiled(job: JobRecord): boolean {
  return job.method === 'stylize' && Boolean(job.result?.details?.tiling);
}

/** The shape of a request's largest stage. */
function finalShape(r: EstimateRequest): { width: number; height: number } {
  const side = r.size;
  const width = r.width >= r.height ? side : Math.max(1, Math.round((side * r.width) / r.height));
  const height = r.width >= r.height ? Math.max(1, Math.round((side * r.height) / r.width)) : side;
  return { width, height };
}

/**
 * The largest stage under the budget: whole, tiled (with the overlap's extra work), or not at all.
 * With this machine's measured cost of the objective where a run has measured it (the memory
 * calibration cache; never measured here, an estimate must answer at once), else the planner's
 * tables, which overstate it: then a print is said to need at least as many tiles as it will.
 */
function tilingOf(r: EstimateRequest, budgetBytes: number): Tiling {
  const { width, height } = finalShape(r);
  if (r.kind === 'fast') {
    // The network's forward pass at the fast planner's table cost; over the budget it runs in bands of tiles (their overlap is small).
    const tiles = Math.ceil((width * height * FAST_BYTES_PER_PIXEL) / Math.max(1, budgetBytes * SAFETY - BASE_BYTES));
    return { ...WHOLE, tiled: tiles > 1, tiles };
  }
  const stages = plannedStages(r);
  const precision = r.precision ?? 'fp32';
  const measured = (checkpoint: boolean) => cachedCost({ kind: 'gatys', precision, checkpoint, threads: r.threads ?? 1, sizes: GATYS_PROBE_SIZES }) ?? objectiveCost({ precision, checkpoint });
  const m: StageMemoryInput = { width, height, stylePixels: [width * height], precision, optimizer: 'lbfgs', history: 100, iterations: stages[stages.length - 1].evaluations, cost: measured };
  if (untiledStageBytes(m) <= budgetBytes * SAFETY - BASE_BYTES) return WHOLE;
  if (!METHODS[r.transferMethod ?? 'gatys'].capabilities.tiling) return { ...WHOLE, fits: false };
  try {
    const plan = planStageTiling({ ...m, maxMemory: budgetBytes, baseBytes: BASE_BYTES });
    if (!plan) return WHOLE;
    const tiles = planGrid(width, height, plan.grid);
    const covered = tiles.reduce((a, t) => a + t.width * t.height, 0);
    return { tiled: true, tiles: tiles.length, passes: plan.passes, overhead: covered / (width * height), tilePixels: covered / tiles.length, fits: true };
  } catch {
    return { ...WHOLE, fits: false };
  }
}

export function estimate(r: EstimateRequest, recentJobs: readonly JobRecord[], budgetBytes: number): Estimate {
  const tiling = tilingOf(r, budgetBytes);
  const pace = measuredPace(recentJobs, r, budgetBytes);
  const budget = `${(budgetBytes / 2 ** 30).toFixed(1)} GiB`;
  const base = { measuredJobs: pace?.jobs ?? 0, tiled: tiling.tiled, tiles: tiling.tiles, budgetBytes, fits: tiling.fits };
  if (!tiling.fits) {
    const method = r.transferMethod ?? 'gatys';
    const why = METHODS[method].capabilities.tiling ? 'even in tiles' : `with ${method}, which cannot paint in tiles`;
    return { ...base, seconds: null, message: `${r.size} px does not fit this server's ${budget} per job ${why}` };
  }
  const how = !tiling.tiled ? `whole, within this server's ${budget}` : r.kind === 'fast' ? `in tiles, within this server's ${budget}` : `in ${tiling.tiles} tiles a pass, within this server's ${budget}`;
  if (!pace) return { ...base, seconds: null, message: `${r.size} px, ${how}; its time is known once this server has finished a painting like it` };
  const seconds = workOf(plannedStages(r), tiling) / pace.workPerSecond;
  return { ...base, seconds, message: `${r.size} px, ${how}: up to about ${words(seconds)} (paced on this server's last ${pace.jobs} painting${pace.jobs > 1 ? 's' : ''})` };
}

function words(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
