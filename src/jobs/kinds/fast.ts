/**
 * Feed-forward transfer as a job: one forward pass of a pretrained or trained style network
 * (Johnson et al.), or of the arbitrary-style transformer with a fitted style (by name) or with a
 * painting uploaded as the style image (fitted first, cached by its hash; the fit's evaluations
 * are the job's progress). The library's `fastStylize()` runs in a worker thread. Fitted styles
 * get `nst fast`'s finish (paint scale and palette; the page paints the same in the browser, from
 * GET /api/styles/:name/vector's `finish`). Strength blends the stylised image with the photo. A
 * run is seconds long, so an interrupted one runs again.
 */
import * as path from 'node:path';
import { loadImage, luminancePreserveColors, RgbImage } from '../../image';
import { fastStylize, listStyles } from '../../transfer/fast';
import { defaultFinishOf, PAINT_SCALE_MAX, readStyleFile } from '../../transfer/arbitrary';
import { badRequest } from '../http-error';
import type { FieldReader } from '../fields';
import { fitProgress } from './fit';
import { parseColourMode } from './stylize';
import type { InputRole, JobKind, JobOutcome, JobRunContext, KindContext } from './types';
import { computeSettings } from './types';

export interface FastJobParams {
  /** A style by name; absent: the style image (a painting) is fitted on the fly. */
  fastStyle?: string;
  size: number;
  /** 0…1: how much of the stylised image (1) versus the photo (0). */
  strength: number;
  preserveColors: boolean;
  /**
   * Fitted styles only: paint at this multiple of the photo's size, then resize back. Absent: the
   * style's own finish (a painting fitted on the fly, whose choice is made by its fit; jobs made
   * before there was a finish); the one painted is in the result's details.
   */
  paintScale?: number;
  /** Fitted styles only: 0–1, how far toward the painting's OkLAB palette (absent: the style's own). */
  paletteMatch?: number;
}

export const DEFAULT_FAST_SIZE = 512;

/** The finish fields of a fitted style's job: what was asked, else the style's own where it is known. */
function finishParams(own: { paintScale: number; paletteMatch: number } | undefined, paintScale?: number, paletteMatch?: number): Pick<FastJobParams, 'paintScale' | 'paletteMatch'> {
  const scale = paintScale ?? own?.paintScale;
  const palette = paletteMatch ?? own?.paletteMatch;
  return { ...(scale !== undefined ? { paintScale: scale } : {}), ...(palette !== undefined ? { paletteMatch: palette } : {}) };
}

export const fastKind: JobKind = {
  name: 'fast',
  description: 'feed-forward transfer: needs a content image and fastStyle (a style network or a fitted style), or a style image (a painting, fitted first)',
  resumable: false,

  parse(f: FieldReader, ctx: KindContext): Record<string, unknown> {
    const fastStyle = f.string('fastStyle', { max: 100 });
    if (fastStyle && !ctx.styles.find(fastStyle)) {
      const known = ctx.styles.list().map((s) => s.name).join(', ') || 'none installed';
      throw badRequest(`unknown fast style '${fastStyle}' (available: ${known})`);
    }
    const paintScale = f.number('paintScale', { min: 0, exclusiveMin: true, max: PAINT_SCALE_MAX });
    const paletteMatch = f.number('paletteMatch', { min: 0, max: 1 });
    // As `nst fast`: the pretrained and trained networks paint as they always did.
    const entry = fastStyle ? ctx.styles.find(fastStyle) : undefined;
    const fitted = !fastStyle || entry?.kind === 'fitted';
    if (!fitted && (paintScale !== undefined || paletteMatch !== undefined)) {
      throw badRequest(`paintScale and paletteMatch work with fitted styles ('${fastStyle}' is a style network)`);
    }
    const preserveColors = parseColourMode(f, ['none', 'luminance']) === 'luminance';
    const params: FastJobParams = {
      fastStyle,
      size: f.integer('size', { min: 32, max: ctx.maxSize }) ?? Math.min(DEFAULT_FAST_SIZE, ctx.maxSize),
      strength: f.number('strength', { min: 0, max: 1 }) ?? 1,
      preserveColors,
      // Recorded as painted, a named style's own finish filled in (a painting fitted on the fly
      // gets its fit's choice). Keeping the photo's colours would undo the palette anyway, so it
      // is not matched then (as `nst fast` does).
      ...(fitted ? finishParams(entry ? defaultFinishOf(readStyleFile(entry.path)) : undefined, paintScale, preserveColors ? 0 : paletteMatch) : {}),
    };
    return params as unknown as Record<string, unknown>;
  },

  inputs(params): InputRole[] {
    return params.fastStyle ? ['content'] : ['content', 'style'];
  },

  missingInput(role) {
    return role === 'style' ? "the fast method needs 'fastStyle' (see GET /api/styles), or a painting as the style image (it is fitted first)" : undefined;
  },

  async run(ctx: JobRunContext): Promise<JobOutcome> {
    const p = ctx.job.params as unknown as FastJobParams;
    const started = Date.now();
    const output = path.join(ctx.dir, 'final.png');
    const style = p.fastStyle ?? ctx.job.inputs.style?.name ?? 'painting';
    const fitted = !p.fastStyle || listStyles(ctx.modelDir).find((s) => s.name === p.fastStyle)?.kind === 'fitted';
    // Fitted styles: the recorded finish (absent: the style's own).
    const finish = fitted ? { paintScale: p.paintScale, paletteMatch: p.paletteMatch } : {};
    const result = await fastStylize(
      {
        ...(p.fastStyle ? { style: p.fastStyle } : { styleImage: ctx.inputs.style!, fitEvaluations: ctx.fit?.evaluations, fitSizes: ctx.fit?.sizes, photos: ctx.fit?.photos }),
        ...finish,
        content: ctx.inputs.content!,
        output,
        size: p.size,
        ...computeSettings(ctx),
      },
      {
        signal: ctx.signal,
        onProgress: (q) => {
          if (q.type === 'fit') ctx.progress(fitProgress(q, started));
          if (q.type !== 'image') return;
          const elapsed = (Date.now() - started) / 1000;
          ctx.progress({ ...(p.fastStyle ? {} : { phase: 'painting' as const }), iteration: 1, iterations: 1, elapsedSeconds: elapsed, etaSeconds: 0, iterationsPerSecond: 1 / Math.max(elapsed, 1e-3) });
        },
      },
    );
    const details = { style, model: result.model.kind, variant: result.model.variant, threads: result.threads, device: result.device, ms: result.outputs[0]?.ms, ...(result.finish ? { finish: result.finish } : {}) };
    if (result.outputs.length === 0) {
      return { cancelled: true, image: null, iterations: 0, seconds: (Date.now() - started) / 1000, details };
    }
    const raw = await loadImage(output, { maxPixels: ctx.maxPixels });
    let image: RgbImage = raw;
    if (p.preserveColors || p.strength < 1) {
      const photo = await loadImage(ctx.inputs.content!, { width: raw.width, height: raw.height, maxPixels: ctx.maxPixels });
      if (p.preserveColors) image = luminancePreserveColors(image, photo);
      if (p.strength < 1) image = blend(image, photo, p.strength);
    }
    return { cancelled: false, image, raw, iterations: 1, seconds: (Date.now() - started) / 1000, details };
  },
};

/** strength · a + (1 − strength) · b, pixel by pixel. */
export function blend(a: RgbImage, b: RgbImage, strength: number): RgbImage {
  const data = new Float32Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = strength * a.data[i] + (1 - strength) * b.data[i];
  return { width: a.width, height: a.height, data };
}
