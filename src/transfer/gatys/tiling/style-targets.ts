/**
 * The style targets of a tiled stage: Gram matrices of the WHOLE style image at the stage's
 * scale, shared by every tile, so all tiles aim at the same statistics. When the style image is
 * itself too large for one forward pass, its Gram matrices are accumulated over tiles: each tile
 * is run with a halo of context and only its core's feature positions are summed (F Fᵀ), so
 * every position of the whole image is counted exactly once.
 */
import { keep, noGrad, Tensor, tidy } from '../../../engine';
import { Vgg19, VGG19_LAYER_NAMES } from '../../../models';
import { gramMatrix } from '../../../losses/gram';

/** Poolings before a layer: its features are 2^k times smaller than the input. */
export function poolingsBefore(layer: string): number {
  return VGG19_LAYER_NAMES.slice(0, VGG19_LAYER_NAMES.indexOf(layer)).filter((n) => n.startsWith('pool')).length;
}

/** Context around each core when the style image is tiled (a multiple of 16, so cores align with every pooling grid). */
export const STYLE_HALO = 32;

/**
 * Normalised ('mean') Gram matrices of `image` (preprocessed NCHW) at `layers`, computed in
 * pieces of at most `maxSide` px (whole when it fits). The caller owns the returned tensors.
 */
export function wholeImageGrams(net: Vgg19, image: Tensor, layers: string[], maxSide: number): Map<string, Tensor> {
  const [, , height, width] = image.shape;
  if (height <= maxSide && width <= maxSide) {
    return noGrad(() => tidy(() => {
      const f = net.forward(image, layers);
      return new Map(layers.map((l) => [l, keep(gramMatrix(f.get(l)!, 'mean'))]));
    }));
  }
  const core = Math.max(16, Math.floor((maxSide - 2 * STYLE_HALO) / 16) * 16);
  const sums = new Map<string, Tensor>();
  const counts = new Map<string, number>(layers.map((l) => [l, 0]));
  noGrad(() => {
    for (let cy = 0; cy < height; cy += core) {
      for (let cx = 0; cx < width; cx += core) {
        tidy(() => {
          const y0 = Math.max(0, cy - STYLE_HALO);
          const x0 = Math.max(0, cx - STYLE_HALO);
          const y1 = Math.min(height, cy + core + STYLE_HALO);
          const x1 = Math.min(width, cx + core + STYLE_HALO);
          const f = net.forward(image.narrow(2, y0, y1 - y0).narrow(3, x0, x1 - x0), layers);
          for (const l of layers) {
            const s = 2 ** poolingsBefore(l);
            const feat = f.get(l)!;
            const [, c, fh, fw] = feat.shape;
            // Core rows/columns at this layer; the last core ends at the crop's last feature.
            const r0 = (cy - y0) / s;
            const c0 = (cx - x0) / s;
            const r1 = cy + core >= height ? fh : (cy + core - y0) / s;
            const c1 = cx + core >= width ? fw : (cx + core - x0) / s;
            if (r1 <= r0 || c1 <= c0) continue;
            const piece = feat.narrow(2, r0, r1 - r0).narrow(3, c0, c1 - c0).reshape([c, (r1 - r0) * (c1 - c0)]);
            const product = piece.matmul(piece.transpose(0, 1));
            const prev = sums.get(l);
            if (prev) {
              prev.addInPlace(product);
            } else {
              sums.set(l, keep(product.clone()));
            }
            counts.set(l, counts.get(l)! + (r1 - r0) * (c1 - c0));
          }
        });
      }
    }
  });
  const grams = new Map<string, Tensor>();
  for (const l of layers) {
    const sum = sums.get(l)!;
    const c = sum.shape[0];
    grams.set(l, keep(tidy(() => sum.div(c * counts.get(l)!))));
    sum.dispose();
  }
  return grams;
}
