/**
 * Does a fitted style keep the photo? The check of issue 24, shared by the bench
 * (bench/fitted-style-quality.ts) and the test: each photo is painted with the fitted vector and
 * scored with src/quality, against two references measured on the same photo:
 * - structure: CFSD(photo, fitted) over the median CFSD of the four pretrained Johnson networks
 *   (target ≤ 1.5: the fitted style may lose at most half again as much structure as they do);
 * - style: SWD(fitted, painting) over SWD(photo, painting) (target ≤ 0.7: the painting shows).
 * The contract objective alone cannot catch a style that paints pure texture (it weights style
 * 20× content, so texture can score better than a network that keeps the photo).
 */
import * as path from 'node:path';
import { keep, noGrad, Tensor, tensor, tidy } from '../../engine';
import { RgbImage } from '../../image';
import { ArbitraryStyleTransformer, STYLE_VECTOR_LENGTH } from '../../models/arbitrary-transformer';
import { findModelFile, PROJECT_ROOT } from '../../models/model-dir';
import { loadStyleModel } from '../../models/style-model-format';
import { Vgg19 } from '../../models/vgg19';
import { measureQuality, qualityReference, QualityReference } from '../../quality';
import { ColourMoments } from '../../image';
import { imageToTensor, tensorToImage } from '../image-tensor';
import { paintAtScale } from './paint-scale';
import { FITTED_STYLISE_DEFAULTS } from './selection';
import { finishPalette, StyliseFinish } from './stylize';
import { JOHNSON_STYLES, median } from './close-up-guard';
import { loadSquare } from './run-fit';

export const SHARED_DATA_DIR = path.resolve(PROJECT_ROOT, '..', 'shared');

/** The four pretrained Johnson styles (the paintings the fit recipe was tuned on). */
export { JOHNSON_STYLES };

export interface NamedImage {
  name: string;
  /** Path relative to the data folder ../shared. */
  file: string;
  kind: string;
}

/** Paintings the fit recipe was not tuned on (none of the four Johnson styles' paintings). */
export const HELD_OUT_PAINTINGS: NamedImage[] = [
  { name: 'composition_vii', file: 'images/style/composition_vii.jpg', kind: 'abstract' },
  { name: 'seated_nude', file: 'images/style/seated_nude.jpg', kind: 'figurative (cubist)' },
  { name: 'woman_with_hat', file: 'images/style/woman_with_hat_matisse.jpg', kind: 'figurative (fauvist)' },
  { name: 'candy', file: 'images/style/candy.jpg', kind: 'flat colour' },
  { name: 'mosaic', file: 'images/style/mosaic.jpg', kind: 'mosaic' },
  { name: 'starry_night', file: 'images/style/starry_night.jpg', kind: 'strokes' },
  { name: 'comic', file: 'datasets/photos/images/set14__comic.jpg', kind: 'drawing (illustration)' },
  { name: 'clip_art', file: 'datasets/photos/images/set14__ppt3.jpg', kind: 'flat-colour drawing' },
  // Composition VII chose the structure weight; this abstract one was never looked at while tuning.
  { name: 'analog_pattern', file: 'datasets/photos/images/debian_lomiri__analogpattern_by_Peter_Nerlich.jpg', kind: 'abstract (colour field)' },
];

/** Photos of the check: a close-up animal, architecture, a landscape, a street. */
export const QUALITY_PHOTOS: NamedImage[] = [
  { name: 'cat', file: 'datasets/photos/images/debian_skimage__chelsea.jpg', kind: 'animal close-up' },
  { name: 'tubingen', file: 'images/content/tubingen.jpg', kind: 'architecture' },
  { name: 'golden_gate', file: 'images/content/golden_gate.jpg', kind: 'landscape' },
  { name: 'streetcar', file: 'datasets/photos/images/imagenet_sample__n04335435_streetcar.jpg', kind: 'street' },
];

/** Targets of issue 24. */
export const CFSD_RATIO_TARGET = 1.5;
export const SWD_RATIO_TARGET = 0.7;

/** A photo prepared once: its square crop, its quality features, and the Johnson references. */
export interface PreparedPhoto {
  name: string;
  image: RgbImage;
  tensor: Tensor;
  reference: QualityReference;
  /** CFSD of each Johnson network's output, and their median. */
  johnsonCfsd: Record<string, number>;
  johnsonMedianCfsd: number;
  /** One Johnson output (the first style), for contact sheets. */
  johnsonSample: { style: string; image: RgbImage };
  dispose(): void;
}

export interface PairScore {
  painting: string;
  photo: string;
  cfsd: number;
  johnsonMedianCfsd: number;
  cfsdRatio: number;
  swd: number;
  unstyledSwd: number;
  swdRatio: number;
  ssim: number;
  pass: boolean;
}

/** The photo as a size×size centre crop, scored under the four Johnson networks. */
export async function preparePhoto(vgg: Vgg19, photo: NamedImage, size: number, modelDir?: string): Promise<PreparedPhoto> {
  const image = await loadSquare(path.resolve(SHARED_DATA_DIR, photo.file), size);
  const x = keep(tidy(() => imageToTensor(image)));
  const reference = qualityReference(vgg, x);
  const johnsonCfsd: Record<string, number> = {};
  let johnsonSample: PreparedPhoto['johnsonSample'] | undefined;
  for (const style of JOHNSON_STYLES) {
    const dir = findModelFile(`fast-style/${style}/manifest.json`, modelDir).replace(/[\\/]manifest\.json$/, '');
    const model = loadStyleModel(dir, 'cpu');
    try {
      const y = noGrad(() => model.net.stylise(x));
      try {
        johnsonCfsd[style] = measureQuality(vgg, reference, reference, y).cfsd;
        johnsonSample ??= { style, image: tensorToImage(y) };
      } finally {
        y.dispose();
      }
    } finally {
      model.net.dispose();
    }
  }
  return {
    name: photo.name,
    image,
    tensor: x,
    reference,
    johnsonCfsd,
    johnsonMedianCfsd: median(Object.values(johnsonCfsd)),
    johnsonSample: johnsonSample!,
    dispose() {
      x.dispose();
      reference.dispose();
    },
  };
}

/**
 * Paints the prepared photo with a style vector as `nst fast` does (by default the fitted styles'
 * finish: paint scale and palette, FITTED_STYLISE_DEFAULTS; the palette is the painting's, from its
 * style file) and scores it against the issue's targets.
 */
export function scoreFittedStyle(
  vgg: Vgg19,
  net: ArbitraryStyleTransformer,
  vector: Float32Array,
  photo: PreparedPhoto,
  painting: { name: string; reference: QualityReference; palette?: ColourMoments },
  finish: Omit<StyliseFinish, 'palette'> = FITTED_STYLISE_DEFAULTS,
): { score: PairScore; output: RgbImage } {
  const v = tensor(vector, [STYLE_VECTOR_LENGTH]);
  let output: RgbImage;
  try {
    const y = noGrad(() => paintAtScale(photo.tensor, finish.paintScale, (x) => net.stylise(x, v)));
    try {
      output = finishPalette(tensorToImage(y), { ...finish, palette: painting.palette });
    } finally {
      y.dispose();
    }
  } finally {
    v.dispose();
  }
  const y = tidy(() => imageToTensor(output));
  try {
    const fitted = measureQuality(vgg, photo.reference, painting.reference, y);
    const unstyledSwd = measureQuality(vgg, photo.reference, painting.reference, photo.tensor).swd;
    const cfsdRatio = fitted.cfsd / photo.johnsonMedianCfsd;
    const swdRatio = fitted.swd / unstyledSwd;
    return {
      score: {
        painting: painting.name,
        photo: photo.name,
        cfsd: round(fitted.cfsd),
        johnsonMedianCfsd: round(photo.johnsonMedianCfsd),
        cfsdRatio: round(cfsdRatio),
        swd: round(fitted.swd),
        unstyledSwd: round(unstyledSwd),
        swdRatio: round(swdRatio),
        ssim: round(fitted.ssim),
        pass: cfsdRatio <= CFSD_RATIO_TARGET && swdRatio <= SWD_RATIO_TARGET,
      },
      output,
    };
  } finally {
    y.dispose();
  }
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
