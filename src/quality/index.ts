/**
 * Quality measures that need only VGG19, so every method and every style can be scored the same
 * way: a style distance (sliced-Wasserstein and Gram, output vs painting at relu1_1…relu5_1), a
 * content-structure distance (CFSD at relu3_1, photo vs output) and SSIM of the luminance. A
 * single number can be gamed (pure texture "wins" the Gatys objective), so they come together.
 */
import { Tensor, tidy } from '../engine';
import { Vgg19 } from '../models/vgg19';
import { gramMatrix } from '../losses/gram';
import { cfsd } from './cfsd';
import { atQualitySize, qualityFeatures, QUALITY_CONTENT_LAYER, QUALITY_SIDE, QUALITY_STYLE_LAYERS } from './features';
import { slicedWasserstein } from './sliced-wasserstein';
import { ssimLuminance } from './ssim';

export { cfsd } from './cfsd';
export { slicedWasserstein, fixedDirections, SWD_PROJECTIONS } from './sliced-wasserstein';
export { ssimLuminance, luminance } from './ssim';
export { qualityFeatures, atQualitySize, QUALITY_SIDE, QUALITY_STYLE_LAYERS, QUALITY_CONTENT_LAYER } from './features';

export interface QualityScores {
  /** Mean over relu1_1…relu5_1 of the sliced-Wasserstein distance, output vs painting (lower: more of the painting's style). */
  swd: number;
  swdPerLayer: Record<string, number>;
  /** Mean over the same layers of mean((G_output − G_painting)²), contract-normalised Grams. */
  gram: number;
  /** CFSD photo vs output at relu3_1 (lower: more of the photo's structure kept). */
  cfsd: number;
  /** SSIM of the luminance, photo vs output (higher: closer to the photo). */
  ssim: number;
}

/** Features of a reference image (photo or painting), reusable across many outputs. */
export interface QualityReference {
  features: Map<string, Tensor>;
  /** The image at the measures' size (for SSIM). */
  image: Tensor;
  dispose(): void;
}

const ALL_LAYERS = [...new Set<string>([...QUALITY_STYLE_LAYERS, QUALITY_CONTENT_LAYER])];

/** Features of one RGB [0,1] NCHW image for the measures (the caller disposes the result). */
export function qualityReference(net: Vgg19, rgb: Tensor): QualityReference {
  const features = qualityFeatures(net, rgb, ALL_LAYERS);
  const image = tidy(() => atQualitySize(rgb, QUALITY_SIDE));
  return {
    features,
    image,
    dispose() {
      for (const t of features.values()) t.dispose();
      image.dispose();
    },
  };
}

/**
 * Scores an output against its photo and painting (RGB [0,1] NCHW tensors or prepared
 * references). The output is compared with the photo at the photo's aspect: give it the photo's.
 */
export function measureQuality(net: Vgg19, photo: Tensor | QualityReference, painting: Tensor | QualityReference, output: Tensor): QualityScores {
  const own: QualityReference[] = [];
  const ref = (x: Tensor | QualityReference) => {
    if (!(x instanceof Tensor)) return x;
    const r = qualityReference(net, x);
    own.push(r);
    return r;
  };
  try {
    const p = ref(photo);
    const s = ref(painting);
    const o = qualityReference(net, output);
    own.push(o);
    return tidy(() => {
      const swdPerLayer: Record<string, number> = {};
      let gram = 0;
      for (const l of QUALITY_STYLE_LAYERS) {
        swdPerLayer[l] = slicedWasserstein(o.features.get(l)!, s.features.get(l)!);
        gram += tidy(() => gramMatrix(o.features.get(l)!).sub(gramMatrix(s.features.get(l)!)).square().mean().item());
      }
      const values = Object.values(swdPerLayer);
      const po = p.features.get(QUALITY_CONTENT_LAYER)!;
      const oo = o.features.get(QUALITY_CONTENT_LAYER)!;
      const sameSize = po.shape.join() === oo.shape.join();
      if (!sameSize) throw new Error(`measureQuality: the output's aspect differs from the photo's ([${o.image.shape}] vs [${p.image.shape}])`);
      return {
        swd: values.reduce((a, b) => a + b, 0) / values.length,
        swdPerLayer,
        gram: gram / QUALITY_STYLE_LAYERS.length,
        cfsd: cfsd(po, oo),
        ssim: ssimLuminance(p.image, o.image),
      };
    });
  } finally {
    for (const r of own) r.dispose();
  }
}
