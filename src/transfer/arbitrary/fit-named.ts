/**
 * Fits a painting as a named style (what `nst serve` does for an uploaded painting): the vector
 * comes from the on-the-fly cache (`style-cache/<sha256>.style.json`, shared with
 * `nst fast --style-image`) when that painting was fitted before, else it is fitted now (in a
 * worker) into that cache; then it is saved as `fast-style/<name>.style.json`, where the styles
 * list and `nst fast --style NAME` find it. A refit of the same painting is a file copy.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DeviceName } from '../../engine/device';
import type { PrecisionOption } from '../../engine/runtime';
import { NstError } from '../../errors';
import type { WorkerCallbacks } from '../worker-host';
import { listStyles } from '../fast/styles';
import { fitStyle } from './api';
import { isCurrentRecipe } from './cache-entry';
import { defaultStyleFilePath } from './options';
import type { FitProgress } from './run-fit';
import { styleCacheDir } from './selection';
import { fileSha256, readStyleFile, STYLE_FILE_EXTENSION, StyleFile, writeStyleFile } from './style-file';

export interface FitNamedOptions {
  /** The painting (image file). */
  styleImage: string;
  /** Name of the style; default `painting-<first 12 hex digits of its SHA-256>`. */
  name?: string;
  /** The painting's name as the user knows it (recorded in the style file); default its file name. */
  paintingName?: string;
  stageSizes?: number[];
  stageEvaluations?: number[];
  photos?: string;
  threads?: number;
  device?: DeviceName;
  precision?: PrecisionOption;
  modelDir?: string;
  maxPixels?: number;
}

export interface FitNamedResult {
  name: string;
  /** The style file written. */
  file: string;
  /** Null when cancelled. */
  style: StyleFile | null;
  /** True when no fitting ran (the painting's vector was cached). */
  cached: boolean;
  /** Loss evaluations run now (0 when cached). */
  evaluations: number;
  cancelled: boolean;
}

/** A one-line error when `name` is taken by a network or by the fit of another painting. */
export function checkStyleNameFree(name: string, paintingSha256: string | null, modelDir?: string): void {
  const taken = listStyles(modelDir).find((s) => s.name === name);
  if (!taken) return;
  if (taken.kind !== 'fitted') throw new NstError(`the name '${name}' belongs to a ${taken.kind} style network; choose another name`);
  if (paintingSha256 === null) return;
  let other: string | null = null;
  try {
    const existing = readStyleFile(taken.path);
    if (existing.painting.sha256 !== paintingSha256) other = existing.painting.file;
  } catch {
    return; // a damaged file of that name is replaced
  }
  if (other !== null) throw new NstError(`a style named '${name}' exists already (fitted to ${other}); choose another name`);
}

export async function fitNamedStyle(o: FitNamedOptions, callbacks: WorkerCallbacks<FitProgress> = {}): Promise<FitNamedResult> {
  const hash = fileSha256(o.styleImage);
  const name = o.name ?? `painting-${hash.slice(0, 12)}`;
  checkStyleNameFree(name, hash, o.modelDir);
  const target = defaultStyleFilePath(name, o.modelDir);
  const cacheFile = path.join(styleCacheDir(o.modelDir), `${hash}${STYLE_FILE_EXTENSION}`);
  for (const dir of [path.dirname(target), path.dirname(cacheFile)]) requireWritableDir(dir);
  const cached = readIfValid(cacheFile);
  if (cached) return { ...(await publish(cached, name, target, o.paintingName)), cached: true, evaluations: 0, cancelled: false };
  const fit = await fitStyle(
    {
      styleImage: o.styleImage,
      name,
      output: cacheFile,
      overwrite: true,
      stageSizes: o.stageSizes,
      stageEvaluations: o.stageEvaluations,
      photos: o.photos,
      threads: o.threads,
      device: o.device,
      precision: o.precision,
      modelDir: o.modelDir,
      maxPixels: o.maxPixels,
    },
    callbacks,
  );
  if (fit.cancelled) return { name, file: '', style: null, cached: false, evaluations: fit.evaluations, cancelled: true };
  return { ...(await publish(readStyleFile(cacheFile), name, target, o.paintingName)), cached: false, evaluations: fit.evaluations, cancelled: false };
}

/** Fails before any fitting when the style could not be saved (e.g. a read-only shared model folder). */
function requireWritableDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new NstError(`cannot save fitted styles: ${dir} cannot be written (choose a writable model folder: --model-dir or $NST_MODEL_DIR)`);
  }
}

function readIfValid(file: string): StyleFile | null {
  if (!fs.existsSync(file)) return null;
  try {
    const style = readStyleFile(file);
    return isCurrentRecipe(style) ? style : null; // an older recipe's vector is fitted again
  } catch {
    return null; // a damaged cache entry is fitted again
  }
}

async function publish(source: StyleFile, name: string, target: string, paintingName?: string): Promise<{ name: string; file: string; style: StyleFile }> {
  const { format: _f, version: _v, checksum: _c, ...rest } = source;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const style = await writeStyleFile(target, { ...rest, name, painting: { ...source.painting, file: paintingName ?? source.painting.file } });
  return { name, file: target, style };
}
