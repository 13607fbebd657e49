/**
 * Benchmark of the arbitrary-style transformer, for `npm run bench`:
 * - stylise: one forward pass (no I/O) at 256² and 512², fp32, and bf16 where the CPU has native
 *   bf16 instructions (median of `repeats`);
 * - fit: one style fitted with the default recipe (seconds, evaluations, seconds per evaluation
 *   per stage);
 * - quality: for paintings that have a pretrained Johnson network, the contract objective on
 *   held-out photos of the unstyled photo, the fitted-vector output and the Johnson output, a
 *   frame measure (frameRatio: edge colour step over interior step, zero vs reflection padding), and a
 *   contact sheet (photo | Johnson | fitted vector) written to `outDir`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configureThread, cpuHasBf16, keep, noGrad, rand, Tensor, tensor, tidy } from '../../engine';
import { loadImage, RgbImage } from '../../image';
import { STYLE_VECTOR_LENGTH } from '../../models/arbitrary-transformer';
import { findModelFile, PROJECT_ROOT } from '../../models/model-dir';
import { loadStyleModel } from '../../models/style-model-format';
import { Vgg19 } from '../../models/vgg19';
import { renderContactSheet, SheetCell } from '../explore/contact-sheet';
import { imageToTensor, tensorToImage } from '../image-tensor';
import { contractLosses, FitLossSettings, imageContractLosses } from './fit';
import { FIT_DEFAULTS, FitStyleOptions, resolveFitOptions } from './options';
import { readStyleFile } from './style-file';
import { defaultFinishOf } from './selection';
import { stylePalette } from './palette-match';
import { StyliseFinish, stylizeWithVector } from './stylize';
import { deepestLayer, loadArbitraryTransformer, loadSquare, runFitStyle } from './run-fit';

/** The pretrained Johnson styles and their paintings in ../shared/images/style. */
export const JOHNSON_PAINTINGS: Record<string, string> = { wave: 'wave.jpg', udnie: 'udnie.jpg', scream: 'the_scream.jpg', wreck: 'shipwreck.jpg' };

export interface ArbitraryBenchOptions {
  threads?: number;
  repeats?: number;
  /** Fit and compare these Johnson styles (default: all four); [] skips fitting and quality. */
  styles?: string[];
  /** Where fitted style files and the contact sheet go. */
  outDir: string;
  /** Reuse `<style>-fitted.style.json` files from this folder instead of fitting (quality only). */
  fittedDir?: string;
  /** Held-out photos (default: tubingen, golden_gate). */
  heldOut?: string[];
  size?: number;
  /** Fit options that replace the defaults (to compare recipes). */
  fitOverrides?: Partial<FitStyleOptions>;
}

export async function benchArbitrary(options: ArbitraryBenchOptions): Promise<Record<string, unknown>> {
  const runtime = configureThread({ threads: options.threads, seed: 1 });
  const repeats = options.repeats ?? 3;
  const net = loadArbitraryTransformer(undefined, runtime.device, 'fp32');
  const stylise: Record<string, number> = {};
  try {
    const v = keep(tensor(new Float32Array(STYLE_VECTOR_LENGTH).fill(0.1), [STYLE_VECTOR_LENGTH]));
    // Emulated bf16 (no avx512_bf16/amx) is many times slower than fp32 and not what 'auto' picks.
    for (const precision of cpuHasBf16() ? (['fp32', 'bf16'] as const) : (['fp32'] as const)) {
      net.precision = precision;
      for (const size of [256, 512]) {
        const x = keep(rand([1, 3, size, size]));
        stylise[`${size}Ms${precision === 'bf16' ? 'Bf16' : ''}`] = medianMs(repeats, () => tidy(() => net.stylise(x, v).data()));
        x.dispose();
      }
    }
    v.dispose();
  } finally {
    net.dispose();
  }
  const styles = options.styles ?? Object.keys(JOHNSON_PAINTINGS);
  if (styles.length === 0) return { threads: runtime.threads, stylise };

  fs.mkdirSync(options.outDir, { recursive: true });
  const images = path.join(PROJECT_ROOT, '..', 'shared', 'images');
  const size = options.size ?? 256;
  const heldOutFiles = (options.heldOut ?? ['tubingen.jpg', 'golden_gate.jpg']).map((f) => path.join(images, 'content', f));
  const fits: Record<string, unknown>[] = [];
  const quality: Record<string, unknown>[] = [];
  const rows: SheetCell[] = [];
  for (const style of styles) {
    const painting = path.join(images, 'style', JOHNSON_PAINTINGS[style]);
    const output = path.join(options.outDir, `${style}-fitted.style.json`);
    const file = options.fittedDir ? path.join(options.fittedDir, `${style}-fitted.style.json`) : output;
    let vector: number[];
    if (options.fittedDir) {
      vector = readStyleFile(file).vector;
      fits.push({ style, reused: options.fittedDir });
    } else {
      const fit = await runFitStyle(resolveFitOptions({ ...options.fitOverrides, styleImage: painting, name: `${style}-fitted`, output, overwrite: true, threads: options.threads }));
      vector = fit.vector;
      fits.push({ style, seconds: fit.seconds, evaluations: fit.evaluations, precision: fit.precision, branch: fit.branch, branchLosses: fit.branchLosses, stages: fit.stages.map((s) => ({ ...s, secondsPerEvaluation: s.seconds / Math.max(1, s.evaluations) })) });
    }
    // As `nst fast` paints a fitted style by default: with the finish its fit chose.
    const styleFile = readStyleFile(file);
    const own = defaultFinishOf(styleFile);
    const finish: StyliseFinish = { ...own, palette: await stylePalette(styleFile) };
    fits[fits.length - 1].finish = own;
    fits[fits.length - 1].finishChoice = (styleFile.settings as Record<string, unknown>).finishChoice ?? null;
    quality.push(await compareWithJohnson(style, painting, Float32Array.from(vector), heldOutFiles, size, rows, finish));
  }
  const sheet = await renderContactSheet(`fitted vector vs Johnson network, ${size} px (photo | Johnson | fitted, reflect | fitted, zero padding)`, rows, size, size, { columns: 4 });
  const sheetPath = path.join(options.outDir, 'arbitrary-vs-johnson.png');
  fs.writeFileSync(sheetPath, sheet.png);
  return { threads: runtime.threads, stylise, fit: fits, quality, contactSheet: sheetPath, fitRecipe: { ...FIT_DEFAULTS, ...options.fitOverrides } };
}

async function compareWithJohnson(style: string, paintingFile: string, vector: Float32Array, photos: string[], size: number, sheet: SheetCell[], finish: StyliseFinish) {
  const settings: FitLossSettings = {
    contentWeight: FIT_DEFAULTS.contentWeight,
    styleWeight: FIT_DEFAULTS.styleWeight,
    tvWeight: FIT_DEFAULTS.tvWeight,
    contentLayers: ['relu4_2'],
    styleLayers: ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'],
  };
  const vgg = Vgg19.load({ upTo: deepestLayer([...settings.contentLayers, ...settings.styleLayers]) });
  const net = loadArbitraryTransformer(undefined, 'cpu', 'fp32');
  const johnson = loadStyleModel(findModelFile(`fast-style/${style}/manifest.json`).replace(/[\\/]manifest\.json$/, ''), 'cpu');
  const paintingImage: RgbImage = await loadImage(paintingFile, { maxSide: size });
  const held: Tensor[] = [];
  const perPhoto: Record<string, unknown>[] = [];
  try {
    const p = keep(tidy(() => imageToTensor(paintingImage)));
    held.push(p);
    for (const file of photos) {
      const image = await loadSquare(file, size);
      const x = keep(tidy(() => imageToTensor(image)));
      held.push(x);
      const johnsonOut = keep(noGrad(() => johnson.net.stylise(x)));
      held.push(johnsonOut);
      net.padding = 'reflect';
      const fitted = keep(tidy(() => net.stylise(x, tensor(vector, [STYLE_VECTOR_LENGTH]))));
      held.push(fitted);
      net.padding = 'zero';
      const fittedZero = keep(tidy(() => net.stylise(x, tensor(vector, [STYLE_VECTOR_LENGTH]))));
      held.push(fittedZero);
      const unstyled = imageContractLosses(vgg, x, x, p, settings).total;
      const fittedLoss = contractLosses(net, vgg, vector, p, [x], settings)[0].total; // zero padding (net.padding)
      net.padding = 'reflect';
      const fittedReflect = contractLosses(net, vgg, vector, p, [x], settings)[0].total;
      const johnsonLoss = imageContractLosses(vgg, johnsonOut, x, p, settings).total;
      const finished = keep(tidy(() => imageToTensor(stylizeWithVector(net, image, vector, finish))));
      held.push(finished);
      const fittedFinished = imageContractLosses(vgg, finished, x, p, settings).total;
      perPhoto.push({
        photo: path.basename(file),
        unstyled,
        fittedReflect,
        fittedZeroPadding: fittedLoss,
        johnson: johnsonLoss,
        fittedOverJohnson: round(fittedReflect / johnsonLoss),
        /** As `nst fast` paints it (reflect padding, the fitted-style finish). */
        fittedFinished,
        finishedOverJohnson: round(fittedFinished / johnsonLoss),
        frameRatio: { photo: frameRatio(x), fittedReflect: frameRatio(fitted), fittedZeroPadding: frameRatio(fittedZero), johnson: frameRatio(johnsonOut) },
      });
      const name = path.basename(file, path.extname(file));
      sheet.push(
        { image, lines: [name, 'photo'] },
        { image: tensorToImage(johnsonOut), lines: [`johnson ${style}`, `loss ${johnsonLoss.toExponential(2)}`] },
        { image: tensorToImage(fitted), lines: [`fitted ${style}`, `loss ${fittedReflect.toExponential(2)}`] },
        { image: tensorToImage(fittedZero), lines: ['zero padding', `loss ${fittedLoss.toExponential(2)}`] },
      );
    }
  } finally {
    for (const t of held) t.dispose();
    net.dispose();
    vgg.dispose();
    johnson.net.dispose();
  }
  return { style, painting: path.basename(paintingFile), perPhoto };
}

/**
 * How strongly an image (NCHW, batch 1) has a frame: the mean colour step between its outermost
 * row/column and the next one, on all four sides, over the same step measured in its interior
 * (middle rows and columns). About 1 without a frame; the graph's zero padding gives 3–5.
 */
export function frameRatio(y: Tensor): number {
  return tidy(() => {
    const [, , h, w] = y.shape;
    const step = (dim: number, at: number) => y.narrow(dim, at, 1).sub(y.narrow(dim, at + 1, 1)).abs().mean().item();
    const edge = (step(2, 0) + step(2, h - 2) + step(3, 0) + step(3, w - 2)) / 4;
    const interior = (step(2, Math.floor(h / 2)) + step(2, Math.floor(h / 3)) + step(3, Math.floor(w / 2)) + step(3, Math.floor(w / 3))) / 4;
    return round(edge / Math.max(interior, 1e-6));
  });
}

function medianMs(repeats: number, fn: () => unknown): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < Math.max(1, repeats); i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return Number(times[Math.floor(times.length / 2)].toFixed(1));
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
