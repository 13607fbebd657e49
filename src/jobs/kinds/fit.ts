/**
 * Fitting an uploaded painting as a named style (the page's "any painting"): the library's
 * `fitNamedStyle` in a worker thread, its loss evaluations as progress. The style file it saves
 * is listed by GET /api/styles at once, so fast jobs (and the page's in-browser transformer)
 * paint with it by name; a painting fitted before (same SHA-256) is not fitted again.
 */
import * as path from 'node:path';
import { loadImage } from '../../image';
import { fileSha256, fitNamedStyle, STYLE_NAME_PATTERN } from '../../transfer/arbitrary';
import { listStyles } from '../../transfer/fast';
import { fittedStyleName } from '../fitted-style-name';
import { sharedModelFiles } from '../shared-models';
import { badRequest } from '../http-error';
import type { FieldReader } from '../fields';
import type { JobProgress } from '../store';
import type { InputRole, JobKind, JobOutcome, JobRunContext, KindContext } from './types';
import { computeSettings } from './types';

export interface FitJobParams {
  /** Name of the new style; default the painting's file name ("feathers", "feathers-2" when taken). */
  styleName?: string;
}

/** Side of the result image (the painting, for the gallery). */
const RESULT_SIDE = 256;

export const fitKind: JobKind = {
  name: 'fit',
  description: 'fits a painting as a named style for the arbitrary-style transformer: needs a style image (the painting), optional styleName',
  resumable: false,

  parse(f: FieldReader, ctx: KindContext): Record<string, unknown> {
    const styleName = f.string('styleName', { max: 64, pattern: STYLE_NAME_PATTERN });
    const taken = styleName ? ctx.styles.find(styleName) : undefined;
    if (taken && taken.kind !== 'fitted') throw badRequest(`the name '${styleName}' belongs to a ${taken.kind} style network; choose another styleName`);
    const params: FitJobParams = { styleName };
    return params as unknown as Record<string, unknown>;
  },

  inputs(): InputRole[] {
    return ['style'];
  },

  async run(ctx: JobRunContext): Promise<JobOutcome> {
    const p = ctx.job.params as unknown as FitJobParams;
    const started = Date.now();
    const painting = ctx.inputs.style!;
    const uploadedName = ctx.job.inputs.style?.name;
    // Listed under the name the painter gave the file, not a hash.
    const name = p.styleName ?? fittedStyleName(uploadedName ?? 'painting', fileSha256(painting), listStyles(ctx.modelDir));
    const result = await fitNamedStyle(
      {
        styleImage: painting,
        name,
        paintingName: uploadedName ? path.basename(uploadedName) : undefined,
        stageSizes: ctx.fit?.sizes,
        stageEvaluations: ctx.fit?.evaluations,
        photos: ctx.fit?.photos,
        ...computeSettings(ctx),
      },
      {
        signal: ctx.signal,
        onProgress: (q) => {
          if (q.type === 'fit') ctx.progress(fitProgress(q, started));
        },
      },
    );
    const seconds = (Date.now() - started) / 1000;
    const details = {
      style: result.name,
      cached: result.cached,
      evaluations: result.evaluations,
      vector: `/api/styles/${encodeURIComponent(result.name)}/vector`,
      painting: result.style?.painting.sha256,
    };
    if (result.cancelled) return { cancelled: true, image: null, iterations: result.evaluations, seconds, details };
    const image = await loadImage(painting, { maxSide: RESULT_SIDE, maxPixels: ctx.maxPixels });
    // On a queue of many workers, the style goes to the shared storage so every process lists it.
    const shared = sharedModelFiles(result.file, ctx.modelDir);
    return { cancelled: false, image, iterations: result.evaluations, seconds, details, shared };
  },
};

/** A fit step as job progress: iterations are loss evaluations over all stages. */
export function fitProgress(
  q: { done: number; total: number; losses: { content: number; style: number; tv: number; total: number } },
  started: number,
): JobProgress {
  const elapsed = (Date.now() - started) / 1000;
  const rate = q.done / Math.max(elapsed, 1e-3);
  return {
    phase: 'fitting',
    iteration: q.done,
    iterations: q.total,
    losses: q.losses,
    elapsedSeconds: elapsed,
    etaSeconds: rate > 0 ? (q.total - q.done) / rate : 0,
    iterationsPerSecond: rate,
  };
}
