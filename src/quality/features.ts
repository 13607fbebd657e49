/**
 * The VGG19 features every quality measure reads: fp32 (so scores do not depend on a CPU's bf16
 * kernels), images resized so their longest side is `side` (scores compare across output sizes,
 * and the self-similarity matrices stay small).
 */
import { noGrad, resize, Tensor, tidy, keep } from '../engine';
import { Vgg19 } from '../models/vgg19';

/** Longest side the measures see (relu3_1 is then at most 64 × 64 positions). */
export const QUALITY_SIDE = 256;

/** The style layers of the sliced-Wasserstein and Gram distances. */
export const QUALITY_STYLE_LAYERS = ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'] as const;
/** The layer of the content-structure distance (CFSD, as StyleID uses it). */
export const QUALITY_CONTENT_LAYER = 'relu3_1';

/** RGB [0,1] NCHW resized so its longest side is `side` (never enlarged by more than that). */
export function atQualitySize(rgb: Tensor, side = QUALITY_SIDE): Tensor {
  const [, , h, w] = rgb.shape;
  const scale = side / Math.max(h, w);
  const nh = Math.max(16, Math.round(h * scale));
  const nw = Math.max(16, Math.round(w * scale));
  return nh === h && nw === w ? rgb.clone() : resize(rgb, nh, nw, 'bilinear');
}

/** fp32 features of an RGB [0,1] image at the quality size; kept (the caller disposes them). */
export function qualityFeatures(net: Vgg19, rgb: Tensor, layers: readonly string[], side = QUALITY_SIDE): Map<string, Tensor> {
  return noGrad(() =>
    tidy(() => {
      const x = net.preprocess(atQualitySize(rgb, side));
      const f = net.forward(x, [...layers]);
      const out = new Map<string, Tensor>();
      for (const l of layers) out.set(l, keep(f.get(l)!.cast('float32')));
      return out;
    }),
  );
}
