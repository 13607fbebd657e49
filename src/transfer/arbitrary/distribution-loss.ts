/**
 * A style term that compares whole feature distributions, not their second moments: the
 * sliced-Wasserstein distance (src/losses/swd.ts) of the output's VGG19 features to the
 * painting's, at a few layers, as a ratio to the unstyled photo's distance (what the quality
 * check's style measure reports). The contract's Gram loss can be matched fairly well by a pale
 * wash near a painting's mean colour; a painting of white paper, a few saturated blocks and black
 * type has a distribution that a wash does not (docs/fitted-styles-quality.md).
 *
 * Cheap by construction: few directions per layer, and features average-pooled to at most
 * MAX_SIDE positions a side (the sorts grow with the positions). The directions are fixed, from a
 * seed of their own (not the check's, DIRECTION_SEED ≠ src/quality's 1234, so the fit cannot fit
 * the measure's own projections): with 32 directions drawn from libtorch's generator, two runs
 * from the same vector saw ratios of 0.68 and 0.83 — fits must not depend on the process.
 */
import { avgPool2d, keep, noGrad, tensor, Tensor, tidy } from '../../engine';
import { swdLoss } from '../../losses/swd';
import { layerStride, Vgg19 } from '../../models/vgg19';
import { fixedDirections } from '../../quality/sliced-wasserstein';

const MAX_SIDE = 64;
const DIRECTION_SEED = 24;

interface LayerTarget {
  directions: Tensor;
  sorted: Tensor;
  pool: number;
}

/** The pooling factor that brings an h × w map to at most MAX_SIDE a side. */
function poolFor(h: number, w: number): number {
  return Math.max(1, Math.ceil(Math.max(h, w) / MAX_SIDE));
}

/** The painting's sorted projections per layer, and the distance of a photo's features to them. */
export class DistributionTarget {
  private constructor(
    private readonly layers: string[],
    private readonly targets: LayerTarget[],
  ) {}

  /**
   * From an RGB [0,1] painting; `outputSize` (h, w of the images to be scored) fixes the pooling
   * per layer, the same for painting and output (layerStride: VGG halves the size at each pooling).
   */
  static ofPainting(vgg: Vgg19, painting: Tensor, layers: string[], directions: number, outputSize: [number, number]): DistributionTarget {
    const targets = noGrad(() =>
      tidy(() => {
        const features = vgg.forward(vgg.preprocess(painting), layers);
        return layers.map((l) => {
          const stride = layerStride(l);
          const pool = poolFor(Math.floor(outputSize[0] / stride), Math.floor(outputSize[1] / stride));
          const f = features.get(l)!.cast('float32');
          const c = f.shape[1];
          const d = keep(tensor(fixedDirections(c, directions, DIRECTION_SEED), [directions, c], f.device));
          const pooled = pool > 1 ? avgPool2d(f, pool) : f;
          const sorted = keep(d.matmul(pooled.reshape([c, pooled.shape[2] * pooled.shape[3]])).sortAlong(1));
          return { directions: d, sorted, pool };
        });
      }),
    );
    return new DistributionTarget(layers, targets);
  }

  /** Mean over layers of the sliced 2-Wasserstein distance (sqrt of the mean squared quantile gap); features of RGB→VGG. */
  distance(features: Map<string, Tensor>): Tensor {
    let sum: Tensor | null = null;
    this.layers.forEach((l, i) => {
      const f = features.get(l)!.cast('float32');
      const { directions, sorted, pool } = this.targets[i];
      const d = swdLoss(pool > 1 ? avgPool2d(f, pool) : f, directions, sorted).add(1e-12).sqrt();
      sum = sum ? sum.add(d) : d;
    });
    return sum!.div(this.layers.length);
  }

  /** The distance of an image (RGB [0,1]), without gradients: the unstyled photo's reference. */
  imageDistance(vgg: Vgg19, image: Tensor): number {
    return noGrad(() => tidy(() => this.distance(vgg.forward(vgg.preprocess(image), this.layers)).item()));
  }

  dispose(): void {
    for (const t of this.targets) {
      t.directions.dispose();
      t.sorted.dispose();
    }
  }
}
