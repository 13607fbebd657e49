/**
 * The loop over the photos of a one-pass run, shared by the style networks and the arbitrary-style
 * transformer: the output folder of a batch, cancellation between photos, unreadable photos of a
 * batch skipped with a warning, each result saved and reported as it is done.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../../errors';
import { loadImage, RgbImage, saveImage } from '../../image';
import type { ResolvedFastOptions } from './fast-options';
import type { FastHooks, FastResult } from './results';
import { releaseFreeMemory } from '../../engine';

/** A painted photo, its compute time and (when it was split) its tile side. */
export interface PaintedPhoto {
  image: RgbImage;
  ms: number;
  tile?: number;
  /** The process's peak resident memory after this photo, MiB (reported with tiles). */
  peakMiB?: number;
}

/** Runs `paint` on every photo of `options.jobs`, filling `result`'s outputs, skipped and cancelled. */
export async function paintPhotos(
  options: ResolvedFastOptions,
  hooks: FastHooks,
  result: FastResult,
  paint: (image: RgbImage, input: string) => Promise<PaintedPhoto>,
): Promise<void> {
  if (options.batch && options.jobs.length > 0) {
    const dir = path.dirname(options.jobs[0].output);
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new NstError(`cannot create output folder ${dir}: ${String((err as Error).message).split('\n')[0]}`);
    }
  }
  for (const [index, job] of options.jobs.entries()) {
    if (hooks.isCancelled?.()) {
      result.cancelled = true;
      break;
    }
    let image: RgbImage;
    try {
      image = await loadImage(job.input, { maxSide: options.size, maxPixels: options.maxPixels });
    } catch (err) {
      if (!options.batch || !(err instanceof NstError)) throw err;
      result.skipped.push({ input: job.input, reason: err.message });
      hooks.onProgress?.({ type: 'warning', message: `skipping ${job.input}: ${err.message}` });
      continue;
    }
    const painted = await paint(image, job.input);
    releaseFreeMemory(); // the network's freed activations, before sharp allocates for the file
    await saveImage(painted.image, job.output);
    const entry = { input: job.input, output: job.output, width: painted.image.width, height: painted.image.height, ms: painted.ms, ...('tile' in painted ? { tile: painted.tile } : {}), ...(painted.peakMiB !== undefined ? { peakMiB: painted.peakMiB } : {}) };
    result.outputs.push(entry);
    hooks.onProgress?.({ type: 'image', index: index + 1, total: options.jobs.length, ...entry });
  }
  if (options.batch && result.outputs.length === 0 && !result.cancelled) {
    throw new NstError(`none of the ${options.jobs.length} images could be read`);
  }
}
