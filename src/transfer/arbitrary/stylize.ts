/**
 * `nst fast` with the arbitrary-style transformer, run in the calling (worker) thread: find each
 * style's vector (a fitted style file, or a painting fitted now and cached by its hash), blend
 * them, then one forward pass per photo. With a strength below 1, each photo's own vector (fitted
 * to the photo itself, cached the same way) is mixed in.
 */
import type { DeviceName } from '../../engine/device';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configureThread, Precision, resolvePrecision, tensor } from '../../engine';
import { NstError } from '../../errors';
import { luminancePreserveColors, RgbImage } from '../../image';
import { ArbitraryStyleTransformer, STYLE_VECTOR_LENGTH } from '../../models/arbitrary-transformer';
import type { ResolvedFastOptions } from '../fast/fast-options';
import type { FastHooks, FastResult } from '../fast/results';
import { paintPhotos } from '../fast/photo-batch';
import { imageToTensor, tensorToImage } from '../image-tensor';
import { isCurrentRecipe } from './cache-entry';
import { FIT_DEFAULTS, resolveFitOptions } from './options';
import { loadArbitraryTransformer, runFitStyle } from './run-fit';
import { ArbitrarySelection } from './selection';
import { fileSha256, readStyleFile, STYLE_FILE_EXTENSION } from './style-file';

/** Σ wᵢ vᵢ. */
export function blendVectors(vectors: Float32Array[], weights: number[]): Float32Array {
  const out = new Float32Array(STYLE_VECTOR_LENGTH);
  vectors.forEach((v, i) => v.forEach((x, j) => (out[j] += weights[i] * x)));
  return out;
}

/** (1 − t)·a + t·b. */
export function interpolateVectors(a: Float32Array, b: Float32Array, t: number): Float32Array {
  return a.map((x, j) => (1 - t) * x + t * b[j]);
}

/** One forward pass with a style vector: RGB image in, stylised RGB image out (same size). */
export function stylizeWithVector(net: ArbitraryStyleTransformer, image: RgbImage, vector: Float32Array): RgbImage {
  const x = imageToTensor(image, net.device);
  const v = tensor(vector, [STYLE_VECTOR_LENGTH], net.device);
  try {
    const y = net.stylise(x, v);
    try {
      return tensorToImage(y);
    } finally {
      y.dispose();
    }
  } finally {
    x.dispose();
    v.dispose();
  }
}

/**
 * The vector of an image fitted as a painting, from the cache (`<cacheDir>/<sha256>.style.json`)
 * or fitted now and cached. Fit progress goes to hooks.
 */
export async function cachedPaintingVector(
  painting: string,
  selection: Pick<ArbitrarySelection, 'cacheDir' | 'fitEvaluations' | 'fitSizes' | 'photos'>,
  options: { modelDir?: string; precision: Precision | 'auto'; threads?: number; device?: DeviceName },
  hooks: FastHooks,
): Promise<{ vector: Float32Array; cached: boolean }> {
  const hash = fileSha256(painting);
  const file = path.join(selection.cacheDir, `${hash}${STYLE_FILE_EXTENSION}`);
  if (fs.existsSync(file)) {
    try {
      const style = readStyleFile(file);
      if (isCurrentRecipe(style)) return { vector: Float32Array.from(style.vector), cached: true };
    } catch (err) {
      // A damaged cache entry is refitted, not fatal.
      hooks.onProgress?.({ type: 'warning', message: `refitting: ${(err as Error).message}` });
    }
  }
  const evaluations = selection.fitEvaluations ?? [...FIT_DEFAULTS.stageEvaluations];
  const fit = resolveFitOptions(
    {
      styleImage: painting,
      name: `painting-${hash.slice(0, 12)}`,
      output: file,
      photos: selection.photos,
      stageEvaluations: evaluations,
      stageSizes: selection.fitSizes ?? (evaluations.length === FIT_DEFAULTS.stageSizes.length ? undefined : evaluations.map(() => 256)),
      precision: options.precision,
      threads: options.threads,
      device: options.device,
      modelDir: options.modelDir,
      overwrite: true,
    },
    { checkOutput: false },
  );
  const result = await runFitStyle(fit, {
    isCancelled: hooks.isCancelled,
    onProgress: (p) => hooks.onProgress?.(p.type === 'fit' ? { ...p, painting } : p),
  });
  if (result.cancelled) throw new NstError('cancelled while fitting the style vector');
  return { vector: Float32Array.from(result.vector), cached: false };
}

export async function runArbitraryFast(options: ResolvedFastOptions, hooks: FastHooks = {}): Promise<FastResult> {
  const selection = options.arbitrary!;
  const started = Date.now();
  const runtime = configureThread({ threads: options.threads, device: options.device });
  const precision = resolvePrecision(options.precision, runtime.device);
  const fitOptions = { modelDir: options.modelDir, precision: options.precision, threads: options.threads, device: options.device };
  const vectors: Float32Array[] = [];
  for (const source of selection.sources) {
    if (source.kind === 'fitted') vectors.push(Float32Array.from(readStyleFile(source.file).vector));
    else vectors.push((await cachedPaintingVector(source.painting, selection, fitOptions, hooks)).vector);
  }
  const styleVector = blendVectors(vectors, selection.weights);
  const net = loadArbitraryTransformer(options.modelDir, runtime.device, precision);
  const result: FastResult = {
    model: { path: net.source, style: selection.label, variant: 'magenta-arbitrary', kind: 'fitted-vector' },
    outputs: [],
    skipped: [],
    cancelled: false,
    seconds: 0,
    threads: runtime.threads,
    device: runtime.device,
    precision,
  };
  try {
    await paintPhotos(options, hooks, result, async (image, input) => {
      let vector = styleVector;
      if (selection.strength < 1) {
        const own = await cachedPaintingVector(input, selection, fitOptions, hooks);
        vector = interpolateVectors(own.vector, styleVector, selection.strength);
      }
      const t0 = performance.now();
      let out = stylizeWithVector(net, image, vector);
      const ms = performance.now() - t0;
      if (options.preserveColors === 'luminance') out = luminancePreserveColors(out, image);
      return { image: out, ms };
    });
  } finally {
    net.dispose();
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
