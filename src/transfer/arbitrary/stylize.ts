/**
 * `nst fast` with the arbitrary-style transformer, run in the calling (worker) thread: find each
 * style's vector (a fitted style file, or a painting fitted now and cached by its hash), blend
 * them, then one forward pass per photo, at the selection's paint scale, finished with the
 * painting's palette. With a strength below 1, each photo's own vector (fitted to the photo itself,
 * cached the same way) is mixed in.
 */
import type { DeviceName } from '../../engine/device';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configureThread, Precision, resolvePrecision, tensor } from '../../engine';
import { NstError } from '../../errors';
import { ColourMoments, luminancePreserveColors, RgbImage } from '../../image';
import { ArbitraryStyleTransformer, STYLE_VECTOR_LENGTH } from '../../models/arbitrary-transformer';
import type { ResolvedFastOptions } from '../fast/fast-options';
import type { FastHooks, FastResult } from '../fast/results';
import { paintPhotos } from '../fast/photo-batch';
import { imageToTensor, tensorToImage } from '../image-tensor';
import { isCurrentRecipe } from './cache-entry';
import { FIT_DEFAULTS, resolveFitOptions } from './options';
import { loadArbitraryTransformer, runFitStyle } from './run-fit';
import { paintAtScale } from './paint-scale';
import { matchPalette, stylePalette } from './palette-match';
import { mixColourMoments } from '../../image/oklab-colour-match';
import { ArbitrarySelection, finishOfSelection } from './selection';
import { fileSha256, readStyleFile, STYLE_FILE_EXTENSION, StyleFile } from './style-file';

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

/** How a forward pass is finished (see ArbitrarySelection). */
export interface StyliseFinish {
  paintScale: number;
  paletteMatch: number;
  /** The palette to match (needed when paletteMatch > 0). */
  palette?: ColourMoments;
}

/**
 * One forward pass with a style vector: RGB image in, stylised RGB image out (same size). With a
 * finish, painted at its scale and moved toward its palette; without, the plain pass.
 */
export function stylizeWithVector(net: ArbitraryStyleTransformer, image: RgbImage, vector: Float32Array, finish?: StyliseFinish): RgbImage {
  const x = imageToTensor(image, net.device);
  const v = tensor(vector, [STYLE_VECTOR_LENGTH], net.device);
  let out: RgbImage;
  try {
    const y = paintAtScale(x, finish?.paintScale ?? 1, (input) => net.stylise(input, v));
    try {
      out = tensorToImage(y);
    } finally {
      y.dispose();
    }
  } finally {
    x.dispose();
    v.dispose();
  }
  return finish ? finishPalette(out, finish) : out;
}

/** The palette step of a finish (the output itself when paletteMatch is 0). */
export function finishPalette(output: RgbImage, finish: StyliseFinish): RgbImage {
  if (finish.paletteMatch === 0) return output;
  if (!finish.palette) throw new NstError('a palette match needs the painting\'s palette');
  return matchPalette(output, finish.palette, finish.paletteMatch);
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
): Promise<{ vector: Float32Array; cached: boolean; style: StyleFile }> {
  const hash = fileSha256(painting);
  const file = path.join(selection.cacheDir, `${hash}${STYLE_FILE_EXTENSION}`);
  if (fs.existsSync(file)) {
    try {
      const style = readStyleFile(file);
      if (isCurrentRecipe(style)) return { vector: Float32Array.from(style.vector), cached: true, style };
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
  return { vector: Float32Array.from(result.vector), cached: false, style: readStyleFile(file) };
}

export async function runArbitraryFast(options: ResolvedFastOptions, hooks: FastHooks = {}): Promise<FastResult> {
  const selection = options.arbitrary!;
  const started = Date.now();
  const runtime = configureThread({ threads: options.threads, device: options.device });
  const precision = resolvePrecision(options.precision, runtime.device);
  const fitOptions = { modelDir: options.modelDir, precision: options.precision, threads: options.threads, device: options.device };
  const vectors: Float32Array[] = [];
  const styles: StyleFile[] = [];
  for (const source of selection.sources) {
    if (source.kind === 'fitted') styles.push(readStyleFile(source.file));
    else styles.push((await cachedPaintingVector(source.painting, selection, fitOptions, hooks)).style);
    vectors.push(Float32Array.from(styles[styles.length - 1].vector));
  }
  const styleVector = blendVectors(vectors, selection.weights);
  const finish = finishOfSelection(selection, styles);
  // Keeping the photo's colours (--preserve-colors luminance) would undo the palette anyway.
  let paletteMatch = options.preserveColors === 'luminance' ? 0 : finish.paletteMatch;
  let stylePalettes: ColourMoments[] = [];
  try {
    if (paletteMatch > 0) stylePalettes = await Promise.all(styles.map(stylePalette));
  } catch (err) {
    // A hand-made style file may lack the painting's thumbnail: paint without its palette.
    if (!(err instanceof NstError)) throw err;
    hooks.onProgress?.({ type: 'warning', message: `${err.message}; painting without the palette` });
    paletteMatch = 0;
  }
  const wantPalette = paletteMatch > 0;
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
    finish: { paintScale: finish.paintScale, paletteMatch },
  };
  try {
    await paintPhotos(options, hooks, result, async (image, input) => {
      let vector = styleVector;
      let palette = wantPalette ? mixColourMoments(stylePalettes, selection.weights) : undefined;
      if (selection.strength < 1) {
        const own = await cachedPaintingVector(input, selection, fitOptions, hooks);
        vector = interpolateVectors(own.vector, styleVector, selection.strength);
        // The other end is the photo's own vector: its palette (the photo's) in the same proportion.
        if (palette) palette = mixColourMoments([await stylePalette(own.style), palette], [1 - selection.strength, selection.strength]);
      }
      const t0 = performance.now();
      let out = stylizeWithVector(net, image, vector, { paintScale: finish.paintScale, paletteMatch, palette });
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
