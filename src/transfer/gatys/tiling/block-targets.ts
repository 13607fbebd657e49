/**
 * Tiles as block-coordinate descent on the WHOLE image's objective (one unmasked style target).
 *
 * The whole image's style term is ‖G − A‖², G its Gram matrix and A the style's. G is (nearly) the
 * share-weighted sum of the tiles' Gram matrices, G = G_rest + s·G_tile, s the tile's share of the
 * image. Restricted to one tile's pixels and divided by s (so the content term, a mean over the
 * tile, keeps its weight), the whole objective is
 *   content_tile + (style weight · s) · ‖G_tile − T‖² + (TV weight / s) · TV_tile,
 *   T = G_tile(now) + (A − G) / s.
 * So each tile keeps its own statistics where the whole image already matches the painting and
 * fixes only the whole image's deficit, instead of every tile aiming at A on its own (which every
 * tile misses the same way, so the whole image misses it too). G is measured on the whole image at
 * the start of each pass and updated after each tile by s·(G_tile(after) − G_tile(before)).
 */
import { keep, noGrad, resize, tensor, Tensor, tidy } from '../../../engine';
import { gramMatrix } from '../../../losses/gram';
import { Vgg19 } from '../../../models';
import type { TileRect } from '../../tiling/grid';
import { wholeImageGrams } from './style-targets';

/** What scales a tile's objective (see the module comment). */
export interface TileWeighting {
  targets: Map<string, Tensor>;
  styleScale: number;
  tvScale: number;
}

export class BlockCoordinateTargets {
  private constructor(
    private readonly net: Vgg19,
    private readonly layers: string[],
    /** The painting's Gram matrices (not owned). */
    private readonly goal: Map<string, Tensor>,
    /** The whole image's current Gram matrices (owned). */
    private readonly current: Map<string, Tensor>,
  ) {}

  /** Measures the whole image (in pieces of at most maxSide px, as the style targets are). */
  static measure(net: Vgg19, image: Tensor, layers: string[], goal: Map<string, Tensor>, maxSide: number): BlockCoordinateTargets {
    return new BlockCoordinateTargets(net, layers, goal, wholeImageGrams(net, image, layers, maxSide));
  }

  /** The tile's Gram matrices over its valid pixels (what its objective measures). Caller owns them. */
  tileGrams(crop: Tensor, valid: Float32Array): Map<string, Tensor> {
    const [, , h, w] = crop.shape;
    return noGrad(() =>
      tidy(() => {
        const mask = tensor(valid, [1, 1, h, w], crop.device);
        const features = this.net.forward(crop, this.layers);
        return new Map(this.layers.map((l) => {
          const f = features.get(l)!;
          return [l, keep(gramMatrix(f, 'mean', resize(mask, f.shape[2], f.shape[3], 'bilinear')))];
        }));
      }),
    );
  }

  /** Targets and weight scales for a tile whose Gram matrices are `before` and whose share of the image is `share`. */
  weighting(before: Map<string, Tensor>, share: number): TileWeighting {
    const targets = noGrad(() =>
      tidy(() => new Map(this.layers.map((l) => [l, keep(before.get(l)!.add(this.goal.get(l)!.sub(this.current.get(l)!).div(share)))]))),
    );
    return { targets, styleScale: share, tvScale: 1 / share };
  }

  /** After a tile is blended back: G += share · (after − before). */
  update(before: Map<string, Tensor>, after: Map<string, Tensor>, share: number): void {
    noGrad(() => tidy(() => {
      for (const l of this.layers) this.current.get(l)!.addInPlace(after.get(l)!.sub(before.get(l)!).mul(share));
    }));
  }

  /** mean((G − A)²) per layer: the whole image's unweighted style loss as it stands. */
  styleLosses(): Map<string, number> {
    return new Map(this.layers.map((l) => [l, noGrad(() => tidy(() => this.current.get(l)!.sub(this.goal.get(l)!).square().mean().item()))]));
  }

  dispose(): void {
    for (const t of this.current.values()) t.dispose();
  }
}

/** A tile's share of the image: the sum of its blend weights over the image's pixel count. */
export function tileShare(weights: Float32Array, rect: TileRect, width: number, height: number): number {
  let sum = 0;
  for (let i = 0; i < rect.width * rect.height; i++) sum += weights[i];
  return Math.max(sum / (width * height), 1e-6);
}
