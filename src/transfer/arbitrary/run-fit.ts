/**
 * `nst styles fit`, run in the calling (worker) thread: pick the training photos, fit the style
 * vector stage by stage (fit.ts), and write the style file with the painting's hash and
 * thumbnail. Cancellation stops after the current evaluation; nothing is written then.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configureThread, keep, Precision, resolvePrecision, Tensor, tidy } from '../../engine';
import { NstError } from '../../errors';
import { encodeImage, imageSize, loadImage, matchColourStatistics, resizeRgb, RgbImage } from '../../image';
import { loadPainting } from '../../image/load-painting';
import { describeBorder } from '../../image/painting-border';
import { ArbitraryStyleTransformer, ARBITRARY_MODEL_SUBDIR, STYLE_VECTOR_LENGTH } from '../../models/arbitrary-transformer';
import { findModelFile } from '../../models/model-dir';
import { Vgg19, VGG19_LAYER_NAMES } from '../../models/vgg19';
import { seededRandom } from '../../util/random';
import { listImageFiles } from '../fast/dataset';
import { resolveStyle } from '../fast/styles';
import { imageToTensor } from '../image-tensor';
import { checkCloseUp, CloseUpCheck } from './close-up-guard';
import { chooseFinish, FINISH_CHECK_SIZE, FinishChoice, findFinishCloseUp } from './finish-choice';
import { FitLossSettings, fitStage, FitStep } from './fit';
import { defaultPhotosDir, ResolvedFitOptions } from './options';
import { fileSha256, isStyleFile, readStyleFile, StyleFile, writeStyleFile } from './style-file';

export type FitProgress =
  | ({ type: 'fit'; stages: number; size: number; done: number; total: number } & FitStep)
  | { type: 'warning'; message: string };

export interface FitResult {
  name: string;
  /** The style file written ('' when cancelled). */
  output: string;
  vector: number[];
  stages: { size: number; evaluations: number; seconds: number; best: FitStep['losses'] }[];
  photos: string[];
  evaluations: number;
  seconds: number;
  cancelled: boolean;
  precision: Precision;
  threads: number;
  /**
   * The branch of the first stages that went on (its multiplier of the linear structure term; 1
   * when the recipe does not branch); branchLosses: each branch's loss at the end of the branched
   * stages, in the order of branchStructureScales (empty when it did not branch or was cancelled).
   */
  branch: number;
  branchLosses: number[];
  /** The close-up guard's check of the stages' vector (null: no guard photo, or cancelled); its stage, when it ran, is the last of `stages`. */
  closeUp: CloseUpCheck | null;
  /** The default finish chosen for the vector (finish-choice.ts); null when cancelled. */
  finishChoice: FinishChoice | null;
}

export interface FitRunHooks {
  onProgress?(p: FitProgress): void;
  isCancelled?(): boolean;
}

/** The transformer's weights: `<model dir>/arbitrary-style/magenta-transformer-separable/model.json`. */
export function loadArbitraryTransformer(modelDir: string | undefined, device: string, precision: Precision): ArbitraryStyleTransformer {
  const file = findModelFile(`${ARBITRARY_MODEL_SUBDIR}/model.json`, modelDir, 'the arbitrary-style transformer is in the project data folder ../shared/models');
  const net = ArbitraryStyleTransformer.load(file, { device });
  net.precision = precision;
  return net;
}

/** The deepest VGG19 layer a loss needs (VGG is loaded only that far). */
export function deepestLayer(layers: string[]): string {
  return layers.reduce((a, b) => (VGG19_LAYER_NAMES.indexOf(a) > VGG19_LAYER_NAMES.indexOf(b) ? a : b));
}

/** A style vector from a style name or a .style.json file. */
export function styleVectorFrom(nameOrFile: string, modelDir?: string): { vector: Float32Array; style: StyleFile } {
  const file = isStyleFile(nameOrFile) && fs.existsSync(nameOrFile) ? nameOrFile : resolveStyle(nameOrFile, modelDir).path;
  if (!isStyleFile(file)) throw new NstError(`style '${nameOrFile}' is a trained network, not a fitted style vector (fit one with 'nst styles fit')`);
  const style = readStyleFile(file);
  return { vector: Float32Array.from(style.vector), style };
}

/** `count` photos from the folder, a seeded choice, each centre-cropped to size×size (shorter side scaled to size). */
export async function loadTrainingPhotos(dir: string, count: number, size: number, seed: number, warn: (m: string) => void): Promise<{ paths: string[]; images: RgbImage[] }> {
  const files = listImageFiles(dir);
  if (files.length === 0) throw new NstError(`photo folder '${dir}' has no images`);
  const rng = seededRandom(seed);
  const order = files.map((f) => ({ f, k: rng() })).sort((a, b) => a.k - b.k).map((e) => e.f);
  const paths: string[] = [];
  const images: RgbImage[] = [];
  for (const file of order) {
    if (images.length === count) break;
    try {
      images.push(await loadSquare(file, size));
      paths.push(file);
    } catch (err) {
      if (!(err instanceof NstError)) throw err;
      warn(`skipping ${file}: ${err.message}`);
    }
  }
  if (images.length < count) throw new NstError(`photo folder '${dir}' has only ${images.length} readable photos (${count} wanted)`);
  return { paths, images };
}

function clampUnit(image: RgbImage): RgbImage {
  return { ...image, data: image.data.map((x) => Math.min(1, Math.max(0, x))) };
}

/** An image scaled so its shorter side is `size`, then centre-cropped to size×size. */
export async function loadSquare(file: string, size: number, maxPixels?: number): Promise<RgbImage> {
  const { width, height } = await imageSize(file);
  const image = await loadImage(file, width <= height ? { width: size, maxPixels } : { height: size, maxPixels });
  const left = Math.floor((image.width - size) / 2);
  const top = Math.floor((image.height - size) / 2);
  const plane = image.width * image.height;
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      const from = c * plane + (top + y) * image.width + left;
      out.set(image.data.subarray(from, from + size), c * size * size + y * size);
    }
  }
  return { width: size, height: size, data: out };
}

export async function runFitStyle(o: ResolvedFitOptions, hooks: FitRunHooks = {}): Promise<FitResult> {
  const started = Date.now();
  const runtime = configureThread({ threads: o.threads, device: o.device });
  const device = runtime.device;
  const precision = resolvePrecision(o.precision, device);
  const warn = (message: string) => hooks.onProgress?.({ type: 'warning', message });
  // Read every input first, so bad files fail before any compute.
  const paintingHash = fileSha256(o.styleImage);
  const paintingSize = await imageSize(o.styleImage).catch((err: Error) => {
    throw err instanceof NstError ? err : new NstError(`cannot read style image ${o.styleImage}: ${err.message}`);
  });
  // The painting without the sheet it was photographed on (one line says what was cropped).
  const paintingAt = async (maxSide: number) => (await loadPainting(o.styleImage, { maxSide, maxPixels: o.maxPixels, keepBorder: o.keepPaintingBorder })).image;
  const { image: thumbnail, border } = await loadPainting(o.styleImage, { maxSide: 128, maxPixels: o.maxPixels, keepBorder: o.keepPaintingBorder });
  if (border) warn(describeBorder(border, o.styleImage));
  const start = o.initStyle ? styleVectorFrom(o.initStyle, o.modelDir).vector : new Float32Array(STYLE_VECTOR_LENGTH);
  const maxSize = Math.max(...o.stages.map((s) => s.size));
  const photos = await loadTrainingPhotos(o.photos, o.photoCount, maxSize, o.seed, warn);

  const transformer = loadArbitraryTransformer(o.modelDir, device, precision);
  const vgg = Vgg19.load({ modelDir: o.modelDir, device, upTo: deepestLayer([...o.contentLayers, ...o.styleLayers, ...(o.swdWeight > 0 ? o.swdLayers : [])]), precision });
  const settings: FitLossSettings = {
    contentWeight: o.contentWeight,
    styleWeight: o.styleWeight,
    tvWeight: o.tvWeight,
    contentLayers: o.contentLayers,
    styleLayers: o.styleLayers,
    styleLayerWeights: o.styleLayerWeights,
    structureWeight: o.structureWeight,
    vectorPrior: { radius: o.vectorRadius, weight: o.vectorPriorWeight },
  };
  // The first stages run once per branch scale of the linear structure term, when a stage follows
  // them and the last of them has the term off (so the branches' losses compare); short recipes
  // (one or two stages: tests, quick fits) run one branch.
  const branchStages = o.branchStages;
  const branching = branchStages > 0 && branchStages < o.stages.length && o.stages[branchStages - 1].structureScale === 0 && o.structureWeight > 0;
  const branchScales = branching && o.branchStructureScales.length > 1 ? o.branchStructureScales : [1];
  let total = o.stages.reduce((a, s, i) => a + s.evaluations * (i < branchStages ? branchScales.length : 1), 0);
  const result: FitResult = { name: o.name, output: '', vector: [], stages: [], photos: photos.paths, evaluations: 0, seconds: 0, cancelled: false, precision, threads: runtime.threads, branch: 1, branchLosses: [], closeUp: null, finishChoice: null };
  const lastStage = o.stages[o.stages.length - 1];
  let closeUp = o.closeUpPhoto && o.closeUpEvaluations > 0 ? await loadSquare(o.closeUpPhoto, lastStage.size) : null;
  if (closeUp && o.closeUpColours === 'painting') closeUp = clampUnit(matchColourStatistics(closeUp, await paintingAt(lastStage.size)));

  /**
   * Runs one stage from `from` (structureScale: the linear term's multiplier in it); `extra`: a
   * photo added to the training photos, with its own hinge level (the close-up guard's stage).
   */
  const runStage = async (index: number, from: Float32Array, structureScale: number, extra?: { photo: RgbImage; level: number; evaluations: number }) => {
    const stage = o.stages[index];
    const stageStart = Date.now();
    const painting = await paintingAt(stage.size);
    const held: Tensor[] = [];
    try {
      const toTensor = (img: RgbImage) => {
        const t = keep(tidy(() => imageToTensor(img, device)));
        held.push(t);
        return t;
      };
      const stagePhotos = await Promise.all(photos.images.map((img) => (img.width === stage.size ? img : resizeRgb(img, stage.size, stage.size))));
      if (extra) stagePhotos.push(extra.photo);
      const levels = extra ? [...photos.images.map(() => o.structureLevel), extra.level] : undefined;
      const fitted = fitStage(
        transformer,
        vgg,
        { painting: toTensor(painting), photos: stagePhotos.map(toTensor), evaluations: extra?.evaluations ?? stage.evaluations, contentScale: stage.contentScale },
        {
          ...settings,
          structureWeight: o.structureWeight * structureScale,
          structureHinge: { level: o.structureLevel, weight: o.structureHingeWeight * (extra ? 1 : stage.hingeScale), levels },
          distribution: { weight: o.swdWeight * stage.swdScale, level: o.swdLevel, layers: o.swdLayers, directions: o.swdDirections },
        },
        from,
        index,
        {
          isCancelled: hooks.isCancelled,
          onStep: (step) => hooks.onProgress?.({ type: 'fit', ...step, stages: o.stages.length, size: stage.size, done: result.evaluations + step.evaluation, total }),
        },
      );
      result.evaluations += fitted.evaluations;
      return { ...fitted, record: { size: stage.size, evaluations: fitted.evaluations, seconds: (Date.now() - stageStart) / 1000, best: fitted.best } };
    } finally {
      for (const t of held) t.dispose();
    }
  };
  /** Stages [first, end) in turn from `from`, the linear term × `scale`; stops at a cancel. */
  const runStages = async (first: number, end: number, from: Float32Array, scale: number) => {
    let vector = from;
    const records: FitResult['stages'] = [];
    for (let index = first; index < end; index++) {
      const fitted = await runStage(index, vector, scale * o.stages[index].structureScale);
      vector = fitted.vector;
      records.push(fitted.record);
      if (fitted.cancelled) return { vector, records, cancelled: true };
    }
    return { vector, records, cancelled: false };
  };

  let vector = start;
  try {
    let next = 0;
    if (branchScales.length > 1) {
      // The linear term steers the fit away from texture from the flat start, but by how much is a
      // trade: at full weight it sends paintings whose fit keeps the photo anyway (The Scream,
      // Shipwreck) to a worse basin, at 0.3× or none some paintings collapse (Woman with a Hat).
      // Each branch is judged by the same loss (contract + hinge + prior: the linear term is off
      // after the first stage), and the lowest goes on.
      const branches: ({ scale: number } & Awaited<ReturnType<typeof runStages>>)[] = [];
      for (const scale of branchScales) {
        const branch = await runStages(0, branchStages, start, scale);
        branches.push({ scale, ...branch });
        if (branch.cancelled) break;
      }
      const lossOf = (b: (typeof branches)[number]) => b.records[b.records.length - 1].best.total;
      const cancelled = branches.some((b) => b.cancelled);
      const pick = cancelled ? branches[branches.length - 1] : branches.reduce((best, b) => (lossOf(b) < lossOf(best) ? b : best));
      result.branch = pick.scale;
      result.branchLosses = cancelled ? [] : branches.map(lossOf);
      vector = pick.vector;
      result.stages.push(...pick.records);
      result.cancelled = cancelled;
      next = branchStages;
    }
    if (!result.cancelled) {
      const rest = await runStages(next, o.stages.length, vector, 1);
      vector = rest.vector;
      result.stages.push(...rest.records);
      result.cancelled = rest.cancelled;
    }
    if (!result.cancelled && closeUp) {
      // The close-up guard: one more last-size stage with the face among the photos, only when
      // the vector paints it above the level (close-up-guard.ts).
      const face = keep(tidy(() => imageToTensor(closeUp, device)));
      let check: CloseUpCheck;
      try {
        check = checkCloseUp(transformer, vgg, vector, face, o.closeUpRatio, { modelDir: o.modelDir, device });
      } finally {
        face.dispose();
      }
      result.closeUp = check;
      if (check.triggered) {
        total += o.closeUpEvaluations;
        const guarded = await runStage(o.stages.length - 1, vector, 0, { photo: closeUp, level: check.level, evaluations: o.closeUpEvaluations });
        vector = guarded.vector;
        result.stages.push(guarded.record);
        result.cancelled = guarded.cancelled;
      }
    }
    if (!result.cancelled) {
      // The finish `nst fast` paints this style with by default: the plain pass if it keeps a close-up.
      const photo = findFinishCloseUp([o.photos, defaultPhotosDir()]);
      const closeUpImage = photo ? await loadSquare(photo, FINISH_CHECK_SIZE) : null;
      result.finishChoice = chooseFinish(transformer, vgg, vector, closeUpImage, { ratio: o.finishCloseUpRatio, modelDir: o.modelDir, device });
      if (result.finishChoice.skipped) warn(`default finish: ${result.finishChoice.skipped}; using paint scale and palette`);
    }
  } finally {
    transformer.dispose();
    vgg.dispose();
  }
  result.vector = Array.from(vector);
  result.seconds = (Date.now() - started) / 1000;
  if (result.cancelled) return result;
  fs.mkdirSync(path.dirname(path.resolve(o.output)), { recursive: true });
  await writeStyleFile(o.output, {
    name: o.name,
    model: 'magenta-transformer-separable',
    vector: result.vector,
    finish: result.finishChoice?.finish,
    painting: {
      file: path.basename(o.styleImage),
      sha256: paintingHash,
      width: paintingSize.width,
      height: paintingSize.height,
      thumbnail: `data:image/jpeg;base64,${(await encodeImage(thumbnail, 'jpeg', { quality: 80 })).toString('base64')}`,
    },
    settings: {
      stages: o.stages,
      contentWeight: o.contentWeight,
      styleWeight: o.styleWeight,
      tvWeight: o.tvWeight,
      contentLayers: o.contentLayers,
      styleLayers: o.styleLayers,
      styleLayerWeights: o.styleLayerWeights,
      structureWeight: o.structureWeight,
      structureLevel: o.structureLevel,
      structureHingeWeight: o.structureHingeWeight,
      branchStructureScales: o.branchStructureScales,
      branchStages: o.branchStages,
      branch: result.branch,
      branchLosses: result.branchLosses,
      vectorRadius: o.vectorRadius,
      vectorPriorWeight: o.vectorPriorWeight,
      swdWeight: o.swdWeight,
      swdLevel: o.swdLevel,
      swdLayers: o.swdLayers,
      swdDirections: o.swdDirections,
      closeUpPhoto: o.closeUpPhoto ? path.relative(o.photos, o.closeUpPhoto) : null,
      closeUpColours: o.closeUpColours,
      closeUpRatio: o.closeUpRatio,
      closeUpEvaluations: o.closeUpEvaluations,
      closeUp: result.closeUp,
      finishCloseUpRatio: o.finishCloseUpRatio,
      finishChoice: result.finishChoice,
      keepPaintingBorder: o.keepPaintingBorder,
      photos: photos.paths.map((p) => path.relative(o.photos, p)),
      photoFolder: path.resolve(o.photos),
      initStyle: o.initStyle ?? null,
      seed: o.seed,
      precision,
      evaluations: result.evaluations,
      seconds: result.seconds,
      losses: result.stages.map((s) => ({ size: s.size, ...s.best })),
    },
    created: new Date().toISOString(),
  });
  result.output = o.output;
  return result;
}
