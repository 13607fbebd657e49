/**
 * Optimisation-based transfer as a job: the library's `stylize()` in a worker thread, with one
 * of its methods (`transferMethod`: Gatys, STROTSS or NNST) and previews every few iterations. Each preview is also the job's checkpoint, so a job
 * interrupted by a restart resumes from its last saved image with the remaining iterations.
 */
import * as path from 'node:path';
import { loadImage, luminancePreserveColors, RgbImage } from '../../image';
import { planStages, PRESETS, QUALITY_PRESETS, stylize, STYLIZE_DEFAULTS } from '../../transfer/gatys';
import type { StageReport } from '../../transfer/gatys/report';
import { METHOD_NAMES, METHODS, MethodName } from '../../transfer/method-names';
import { badRequest } from '../http-error';
import type { FieldReader } from '../fields';
import type { LossValues } from '../store';
import type { InputRole, JobKind, JobOutcome, JobRunContext, KindContext } from './types';
import { computeSettings } from './types';

/**
 * For people who do not want to pick numbers: an output size, and the library's quality of the same
 * name (a coarse-to-fine schedule that stops each stage when it has converged). Explicit fields win.
 */
const plannedIterations = (size: number, quality: keyof typeof QUALITY_PRESETS) => planStages(size, quality).reduce((n, s) => n + s.iterations, 0);
export const QUALITIES = {
  /** iterations: the most the schedule may run (stages stop earlier once converged). */
  draft: { size: 256, iterations: plannedIterations(256, 'draft'), description: `${QUALITY_PRESETS.draft.description}: 256 px` },
  standard: { size: 384, iterations: plannedIterations(384, 'standard'), description: `${QUALITY_PRESETS.standard.description}: 384 px` },
  high: { size: 512, iterations: plannedIterations(512, 'high'), description: `${QUALITY_PRESETS.high.description}: 512 px` },
} as const;
export type Quality = keyof typeof QUALITIES;
export const DEFAULT_QUALITY: Quality = 'standard';

export type ColourMode = 'none' | 'luminance' | 'histogram';

/** The transfer method of a job that names none (and of jobs stored before there was a choice). */
export const DEFAULT_TRANSFER_METHOD: MethodName = 'gatys';

export interface StylizeJobParams {
  /** The library's transfer method; absent in jobs stored before the choice existed (Gatys). */
  transferMethod?: MethodName;
  /** STROTSS / NNST: how much of the photo to keep, 0–1 (absent: the method's default). */
  alpha?: number;
  quality: Quality;
  /** The library's layer preset (src/transfer/gatys/presets.ts). */
  preset: string;
  size: number;
  /** Evaluations at most over the whole schedule (the quality's plan, or the explicit single-scale count). */
  iterations: number;
  /** Given explicitly: one stage of exactly this many; absent: the quality's schedule. */
  explicitIterations?: boolean;
  /** Absent for methods balanced by alpha (STROTSS, NNST), which refuse the weights. */
  contentWeight?: number;
  styleWeight?: number;
  /** Absent: the method's own. */
  tvWeight?: number;
  init: 'content' | 'style' | 'noise';
  optimizer: 'lbfgs' | 'adam';
  learningRate?: number;
  /** L-BFGS step rule; absent in jobs stored before the option existed (then the library default). */
  lineSearch?: 'strong-wolfe' | 'none';
  /** false: pixels may leave the displayable range while optimising (absent: bounded). */
  bounded?: boolean;
  /** Absent in jobs stored before the option existed (the default then). */
  lbfgsHistory?: number;
  pooling: 'max' | 'avg';
  seed: number;
  preserveColors: ColourMode;
  previewEvery: number;
}

/** `preserveColors`: true/false, or none, luminance (keep the photo's colours) or histogram (recolour the painting first). */
export function parseColourMode(f: FieldReader, allowed: readonly ColourMode[]): ColourMode {
  const v = f.raw('preserveColors');
  if (v === undefined) return 'none';
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as ColourMode;
  const b = typeof v === 'boolean' || ['true', 'false', '1', '0', 'on', 'off'].includes(String(v)) ? f.boolean('preserveColors') : undefined;
  if (b === undefined) throw badRequest(`field 'preserveColors' must be true, false or one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
  return b ? 'luminance' : 'none';
}

export const stylizeKind: JobKind = {
  name: 'stylize',
  description: 'optimisation-based transfer (transferMethod gatys, strotss, nnst or ot): needs a content and a style image',
  resumable: true,

  parse(f: FieldReader, ctx: KindContext): Record<string, unknown> {
    const transferMethod = f.choice('transferMethod', METHOD_NAMES) ?? DEFAULT_TRANSFER_METHOD;
    const balance = parseBalance(f, transferMethod);
    const quality = f.choice('quality', Object.keys(QUALITIES) as Quality[]) ?? DEFAULT_QUALITY;
    const base = QUALITIES[quality];
    const preset = f.choice('preset', Object.keys(PRESETS)) ?? STYLIZE_DEFAULTS.preset;
    const size = f.integer('size', { min: 32, max: ctx.maxSize }) ?? Math.min(base.size, ctx.maxSize);
    const explicit = f.integer('iterations', { min: 1, max: ctx.maxIterations });
    const iterations = explicit ?? Math.min(plannedIterations(size, quality), ctx.maxIterations);
    const params: StylizeJobParams = {
      transferMethod,
      quality,
      preset,
      size,
      iterations,
      explicitIterations: explicit !== undefined,
      ...balance,
      init: f.choice('init', ['content', 'style', 'noise'] as const) ?? 'content',
      optimizer: f.choice('optimizer', ['lbfgs', 'adam'] as const) ?? STYLIZE_DEFAULTS.optimizer,
      learningRate: f.number('learningRate', { min: 0, max: 1e12, exclusiveMin: true }),
      lineSearch: f.choice('lineSearch', ['strong-wolfe', 'none'] as const),
      bounded: f.boolean('bounded'),
      // Unset: the method's own history (NNST keeps fewer pairs: 100 would pass 2 GB at 512 px).
      lbfgsHistory: f.integer('lbfgsHistory', { min: 1, max: 1000 }),
      pooling: f.choice('pooling', ['max', 'avg'] as const) ?? STYLIZE_DEFAULTS.pooling,
      seed: f.integer('seed', { min: 0, max: 2 ** 31 - 1 }) ?? Math.floor(Math.random() * 2 ** 31),
      preserveColors: parseColourMode(f, ['none', 'luminance', 'histogram']),
      previewEvery: f.integer('previewEvery', { min: 1, max: ctx.maxIterations }) ?? Math.max(1, Math.round(iterations / 30)),
    };
    if (params.learningRate === undefined) delete params.learningRate;
    if (params.lineSearch === undefined) delete params.lineSearch;
    if (params.bounded === undefined) delete params.bounded;
    if (params.lbfgsHistory === undefined) delete params.lbfgsHistory;
    if (!params.explicitIterations) delete params.explicitIterations;
    return params as unknown as Record<string, unknown>;
  },

  inputs(): InputRole[] {
    return ['content', 'style'];
  },

  async run(ctx: JobRunContext): Promise<JobOutcome> {
    const p = ctx.job.params as unknown as StylizeJobParams;
    const started = Date.now();
    const base = ctx.checkpoint?.iteration ?? 0;
    // Seconds spent before a restart: a resumed job's times count the whole job, not its last part.
    const before = ctx.checkpoint ? (ctx.job.progress?.elapsedSeconds ?? 0) : 0;
    // The content photo at the output size, for colour preservation (loaded once).
    let content: Promise<RgbImage> | null = null;
    const display = async (raw: RgbImage): Promise<RgbImage> => {
      // Luminance transfer is applied here, not by the library, so checkpoints stay raw (resumable).
      if (p.preserveColors !== 'luminance') return raw;
      content ??= loadImage(ctx.inputs.content!, { width: raw.width, height: raw.height, maxPixels: ctx.maxPixels });
      const c = await content;
      if (c.width !== raw.width || c.height !== raw.height) throw new Error('the content and output sizes differ');
      return luminancePreserveColors(raw, c);
    };
    if (ctx.checkpoint && base >= p.iterations) {
      // Interrupted after its last iteration but before the result was written.
      const raw = await loadImage(ctx.checkpoint.file, { maxPixels: ctx.maxPixels });
      return { cancelled: false, image: await display(raw), raw, iterations: base, seconds: before, details: { seed: p.seed } };
    }
    const output = path.join(ctx.dir, 'final.png');
    let losses: LossValues | undefined;
    const result = await stylize(
      {
        content: ctx.inputs.content!,
        style: ctx.inputs.style!,
        output,
        // The quality's schedule; a resumed job (or explicit iterations) runs one full-size stage.
        ...(p.explicitIterations || base > 0 || !p.quality ? { size: p.size, iterations: p.iterations - base } : { size: p.size, quality: p.quality }),
        method: p.transferMethod ?? DEFAULT_TRANSFER_METHOD,
        alpha: p.alpha,
        contentWeight: p.contentWeight,
        styleWeight: p.styleWeight,
        tvWeight: p.tvWeight,
        preset: p.preset,
        preserveColors: p.preserveColors === 'histogram' ? 'histogram' : 'none',
        report: false,
        init: ctx.checkpoint ? ctx.checkpoint.file : p.init,
        optimizer: p.optimizer,
        learningRate: p.learningRate,
        lineSearch: p.lineSearch,
        bounded: p.bounded,
        lbfgsHistory: p.lbfgsHistory,
        pooling: p.pooling,
        seed: p.seed,
        printEvery: 0,
        saveEvery: 0,
        previewEvery: p.previewEvery,
        ...computeSettings(ctx),
      },
      {
        signal: ctx.signal,
        onProgress: (q) => {
          losses = { content: sum(q.losses.content), style: sum(q.losses.style), tv: q.losses.tv, total: q.losses.total };
          ctx.progress({
            iteration: base + q.step,
            iterations: Math.min(p.iterations, base + q.steps),
            losses,
            elapsedSeconds: before + q.elapsedSeconds,
            iterationsPerSecond: q.iterationsPerSecond,
            etaSeconds: q.etaSeconds,
          });
        },
        onPreview: (image, iteration) => {
          display(image).then(
            (shown) => ctx.preview(image, shown, base + iteration),
            () => undefined,
          );
        },
      },
    );
    const raw = await loadImage(output, { maxPixels: ctx.maxPixels });
    return {
      cancelled: result.cancelled,
      image: await display(raw),
      raw,
      iterations: base + result.iterations,
      seconds: before + (Date.now() - started) / 1000,
      losses,
      details: { method: result.method, seed: result.seed, threads: result.threads, device: result.device, precision: result.precision, resumedFrom: base || undefined, tiling: lastStageTiling(result.stages) },
    };
  },
};

/** How the largest stage ran in tiles (what a print's time estimate needs to pace on this job), or undefined when whole. */
function lastStageTiling(stages: readonly StageReport[]): { tiles: number; passes: number; tile: number; overlap: number } | undefined {
  const t = stages[stages.length - 1]?.tiling;
  if (!t) return undefined;
  return { tiles: Math.round(t.grids.reduce((a, g) => a + g.tiles, 0) / Math.max(1, t.grids.length)), passes: t.grids.length, tile: t.tile, overlap: t.overlap };
}

/**
 * How photo and painting are balanced: Gatys by its weights (the defaults filled in, as stored
 * jobs always had them); STROTSS and NNST by alpha, and a weight sent to them is refused.
 */
function parseBalance(f: FieldReader, method: MethodName): Pick<StylizeJobParams, 'alpha' | 'contentWeight' | 'styleWeight' | 'tvWeight'> {
  const tvWeight = f.number('tvWeight', { min: 0, max: 1e9 });
  if (!METHODS[method].capabilities.alpha) {
    if (f.has('alpha')) throw badRequest(`field 'alpha' is the photo-vs-painting balance of ${alphaMethods()}; ${method} uses styleWeight and contentWeight`);
    return {
      contentWeight: f.number('contentWeight', { min: 0, max: 1e9 }) ?? STYLIZE_DEFAULTS.contentWeight,
      styleWeight: f.number('styleWeight', { min: 0, max: 1e9 }) ?? STYLIZE_DEFAULTS.styleWeight,
      tvWeight: tvWeight ?? STYLIZE_DEFAULTS.tvWeight,
    };
  }
  for (const weight of ['contentWeight', 'styleWeight']) {
    if (f.has(weight)) throw badRequest(`field '${weight}' does not apply to ${method}: it balances photo and painting with 'alpha' (0–1, 1 keeps the most of the photo)`);
  }
  const alpha = f.number('alpha', { min: 0, max: 1 });
  return { ...(alpha === undefined ? {} : { alpha }), ...(tvWeight === undefined ? {} : { tvWeight }) };
}

function alphaMethods(): string {
  return METHOD_NAMES.filter((m) => METHODS[m].capabilities.alpha).join(' and ');
}

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}
