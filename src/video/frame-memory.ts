/**
 * Every frame of a video run within --max-memory. The painters plan a frame as the still-image
 * commands plan a photo (the fast network: ../transfer/fast/tiled.ts; optimisation: the Gatys
 * stage planner), with what the video pipeline itself holds added to the process's base. A
 * --size whose frames cannot fit at all is refused before any frame is decoded, in one line that
 * names the budget the frames need and the largest --size that fits.
 */
import type { Tensor } from '../engine';
import { NstError } from '../errors';
import type { RgbImage } from '../image';
import type { Precision } from '../models';
import type { Calibration } from '../transfer/memory';
import { fastCostFor, FastTilingPlan, FAST_TABLE_COST, planFastTiling } from '../transfer/fast/tiled';
import { planRunStage } from '../transfer/gatys/tiling';
import type { RunMemoryWatch } from '../transfer/gatys/memory-watch';
import { formatBytes } from '../transfer/tiling/memory-size';
import type { VideoInfo } from './ffmpeg';
import { blendBytes } from './detail-blend';
import { frameSize, ResolvedVideoOptions } from './options';

/**
 * Frame-sized data the pipeline holds while a frame is painted besides the frame itself (which
 * the painters' planners count), bytes per frame pixel: the decoder's buffer (3), the previous
 * frame and the previous result (2 × 12), both greyscale copies (2 × 4), the warped previous
 * result and its certainty (16), and room for the flows, masks and warps of the guide, garbage
 * until the next collection (~45). Optimisation adds the temporal loss: its target and certainty
 * (16) and its per-evaluation differences (3 × 12).
 */
export const PIPELINE_BYTES_PER_PIXEL = { fast: 96, optimisation: 148 } as const;
/** Garbage the JavaScript heap lets build up before it collects (V8's external-memory step, 64 MiB). */
const UNCOLLECTED_BYTES = 64 * 2 ** 20;

/**
 * What the pipeline holds for frames of width × height beyond the painter's own planning: the
 * data above, the garbage allowance and the fast method's blend (one band at a time).
 * Measured (fast, bf16, whole frames): 74 / 142 MiB over the network at 640x360 / 1,280x720
 * (this model: 152 / 226); in 648-px tiles at 4,000x2,250 the run peaked 1,250 MiB over its base.
 */
export function pipelineBytes(method: 'fast' | 'optimisation', width: number, height: number): number {
  return width * height * PIPELINE_BYTES_PER_PIXEL[method] + UNCOLLECTED_BYTES + (method === 'fast' ? blendBytes(width, height) : 0);
}

/** The smallest --size the search below tries. */
const SMALLEST_SIDE = 16;

/** The largest --size below `side` whose frames pass `fits` (fits is monotone in the size), or null. */
export function largestFittingSize(clip: VideoInfo, side: number, fits: (width: number, height: number) => boolean): number | null {
  const ok = (s: number) => {
    const { width, height } = frameSize(clip, s);
    return fits(width, height);
  };
  if (side <= SMALLEST_SIDE || !ok(SMALLEST_SIDE)) return null;
  let lo = SMALLEST_SIDE;
  let hi = side;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The planner's refusal (which names the budget a frame needs), plus the largest --size that fits. */
function refusal(err: NstError, largest: number | null, budget: number): NstError {
  const instead = largest !== null ? `the largest --size that fits ${formatBytes(budget)} is ${largest}` : `no --size fits ${formatBytes(budget)}`;
  return new NstError(`${err.message}; ${instead}`);
}

/** Runs `plan`; a refusal (NstError) gets the largest size that fits. */
function orRefuse<T>(o: ResolvedVideoOptions, plan: () => T, fits: (width: number, height: number) => boolean): T {
  try {
    return plan();
  } catch (err) {
    if (!(err instanceof NstError)) throw err;
    throw refusal(err, largestFittingSize(o.clip, Math.max(o.width, o.height), fits), o.maxMemory);
  }
}

export interface FastFramePlan {
  /** null: every frame in one pass. */
  tiling: FastTilingPlan | null;
  /** The network's cost measured on this machine (null: the tables, far from the budget). */
  cost: Calibration | null;
}

/** Whether frames of w × h can be planned at all (a plan that does not fit is an NstError). */
function fitsWith(plan: (w: number, h: number) => unknown): (w: number, h: number) => boolean {
  return (w, h) => {
    try {
      plan(w, h);
      return true;
    } catch (e) {
      if (!(e instanceof NstError)) throw e;
      return false;
    }
  };
}

/**
 * How the fast network paints every frame (they all have one size): whole, or in tiles that fit
 * the budget over `baseBytes` (the process after loading the network) plus the pipeline.
 */
export function planFastFrames(o: ResolvedVideoOptions, baseBytes: number, measure: { modelPath: string; precision: Precision; threads: number; device: string }): FastFramePlan {
  const base = (w: number, h: number) => baseBytes + pipelineBytes('fast', w, h);
  const cost = fastCostFor(o.width, o.height, o.maxMemory, base(o.width, o.height), measure);
  const plan = (w: number, h: number) => planFastTiling(w, h, o.maxMemory, base(w, h), undefined, cost ?? FAST_TABLE_COST, measure.precision);
  return { tiling: orRefuse(o, () => plan(o.width, o.height), fitsWith(plan)), cost };
}

/**
 * Refuses frames the optimisation cannot fit in the budget even in its smallest tiles (before
 * decoding), planning as each frame will (OptimisationPainter), with the first frame's iterations.
 */
export function checkOptimisationFrames(o: ResolvedVideoOptions, styles: RgbImage[], precision: Precision, watch: RunMemoryWatch): void {
  const g = { ...o.gatys!, scaleIterations: [Math.max(o.iterations, o.frameIterations)] };
  const planAt = (w: number, h: number) =>
    planRunStage(g, 0, w, h, styleShapes(styles, o, w, h), precision, watch.baseBytes - pipelineBytes('optimisation', o.width, o.height) + pipelineBytes('optimisation', w, h), watch.measureSettings());
  orRefuse(o, () => planAt(o.width, o.height), fitsWith(planAt));
}

/**
 * The style images as they would be loaded for frames of w × h (styleScale × the frame's side).
 * planRunStage reads only their shapes, so these stand-ins carry nothing else.
 */
function styleShapes(styles: RgbImage[], o: ResolvedVideoOptions, w: number, h: number): Tensor[] {
  const scale = Math.max(w, h) / Math.max(o.width, o.height);
  return styles.map((s) => ({ shape: [1, 3, Math.max(1, Math.round(s.height * scale)), Math.max(1, Math.round(s.width * scale))] }) as unknown as Tensor);
}
