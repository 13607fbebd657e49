/**
 * The style and content losses a GatysObjective can use at each of its layers besides the Gram
 * matrix and the MSE: each builds its target from the style's (or photo's) features once and then
 * scores the output's features at that layer. Losses that compare sampled feature vectors (REMD,
 * self-similarity) read at most SAMPLED_POSITIONS positions of the output per evaluation, new ones
 * each time (all of them when the layer has no more).
 */
import { cat, keep, noGrad, Tensor, tidy } from '../engine';
import { momentLoss, featureMoments } from './moments';
import { featureRows, remdLoss } from './remd';
import { flatIndices, Random, samplePositions } from './sampling';
import { selfSimilarityLoss } from './self-similarity';
import { randomDirections, swdColumnsLoss, swdLoss } from './swd';
import { w2Loss, w2TargetFromRows } from './w2';

export const STYLE_LOSSES = ['gram', 'w2', 'swd', 'remd'] as const;
/** gram: Gatys; w2: Wasserstein-2 of Gaussian fits; swd: sliced Wasserstein; remd: STROTSS's relaxed EMD + moments. */
export type StyleLossName = (typeof STYLE_LOSSES)[number];
export const CONTENT_LOSSES = ['mse', 'self-similarity'] as const;
/** mse: Gatys; self-similarity: STROTSS's (the photo's structure, not its feature values). */
export type ContentLossName = (typeof CONTENT_LOSSES)[number];

/**
 * How much larger a loss must be weighted to pull as hard as the default one at the same
 * --style-weight / --content-weight: the ratio of the Gram (MSE) term to this term, both with
 * weight 1 at the photo (style) or at a Gatys result (content), on Tübingen × Starry Night at
 * 256 px with the gatys preset (layer sums: gram 1.4e6, w2 7.9e5, swd 4.1e5, remd 5.6; content
 * mse 4.3e5, self-similarity 0.15). A starting point for a run's defaults, not a law.
 */
export const LOSS_WEIGHT_SCALES: { style: Record<StyleLossName, number>; content: Record<ContentLossName, number> } = {
  style: { gram: 1, w2: 2, swd: 3, remd: 2.5e5 },
  content: { mse: 1, 'self-similarity': 3e6 },
};

/** Output positions compared per evaluation by REMD and self-similarity. */
export const SAMPLED_POSITIONS = 1024;
/** Style feature vectors kept per layer by REMD. */
export const STYLE_ROWS = 2048;

/** A loss at one layer whose target was computed once. */
export interface LayerTarget {
  /** weight · the loss of these features (1 × C × H × W) against the target. */
  loss(features: Tensor, weight: number): Tensor;
  dispose(): void;
}

/** Rows at up to `count` random positions of 1 × C × H × W features (every row when there are no more). */
function sampledRows(features: Tensor, count: number, random: Random): Tensor {
  const [, , h, w] = features.shape;
  const rows = featureRows(features);
  if (h * w <= count) return rows;
  return rows.indexSelect(0, flatIndices(samplePositions(h, w, count, random, Math.max(h, w)), w));
}

/**
 * The styles' feature vectors pooled into one set, each style contributing in proportion to its
 * weight (a mixture of their distributions): at most maxRows rows, or as many as the largest style.
 */
function pooledRows(styles: { features: Tensor; weight: number }[], random: Random, maxRows = Infinity): Tensor {
  const counts = styles.map((s) => s.features.shape[2] * s.features.shape[3]);
  const total = Math.min(maxRows, Math.max(...counts));
  const weightSum = styles.reduce((a, s) => a + s.weight, 0);
  const parts = styles.map((s) => sampledRows(s.features, styles.length === 1 ? total : Math.max(1, Math.round((total * s.weight) / weightSum)), random));
  return parts.length === 1 ? parts[0] : cat(parts, 0);
}

/**
 * The target of a style loss other than 'gram' at one layer, from the styles' features there
 * (several styles: their features pooled by weight). Kept until dispose().
 */
export function layerStyleTarget(kind: Exclude<StyleLossName, 'gram'>, styles: { features: Tensor; weight: number }[], random: Random, options: { directions?: number; positions?: number } = {}): LayerTarget {
  return noGrad(() =>
    tidy(() => {
      if (kind === 'w2') {
        const target = w2TargetFromRows(pooledRows(styles, random));
        const kept = [keep(target.mean), keep(target.cov), keep(target.covSqrt)];
        return { loss: (f: Tensor, weight: number) => w2Loss(f, target, weight), dispose: () => kept.forEach((t) => t.dispose()) };
      }
      if (kind === 'swd') {
        // positions: an output with more is compared at a random subset of that many, drawn at
        // its first evaluation and kept (a fixed function for L-BFGS; a new objective, a new
        // subset), against the painting's positions: the sorts are most of the loss's time.
        // Unlike 2 × 2 means, a subset has no blind spot: a pattern that alternates pixel by pixel
        // changes the sampled features. The painting's rows: every one up to 4 × that many (all of
        // them at 512 px), a random subset above, so its sorted projections stay bounded at large sizes.
        const rows = pooledRows(styles, random, options.positions === undefined ? Infinity : 4 * options.positions);
        const c = rows.shape[1];
        // As many directions as channels, as Heitz et al. use them, unless told otherwise.
        const directions = keep(randomDirections(c, options.directions ?? c, rows.device));
        const sorted = keep(directions.matmul(rows.transpose(0, 1)).sortAlong(1));
        let subset: { h: number; w: number; indices: number[] } | null = null;
        const loss = (f: Tensor, weight: number): Tensor => {
          const [, , h, w] = f.shape;
          const max = options.positions ?? Infinity;
          if (h * w <= max) return swdLoss(f, directions, sorted, weight);
          if (!subset || subset.h !== h || subset.w !== w) subset = { h, w, indices: flatIndices(samplePositions(h, w, max, random, Math.max(h, w)), w).sort((a, b) => a - b) };
          // Selected in the features' own layout ([C, H·W]) and in memory order (the sorts ignore the
          // order), then cast: no transposed copy of the whole map.
          const columns = f.reshape([f.shape[1], h * w]).indexSelect(1, subset.indices);
          return swdColumnsLoss(columns.dtype === 'float32' ? columns : columns.cast('float32'), directions, sorted, weight);
        };
        return { loss, dispose: () => [directions, sorted].forEach((t) => t.dispose()) };
      }
      // remd: REMD (cosine) + the moment term, on features divided by the style's mean magnitude so
      // the moment term weighs alike at every layer and with either input convention.
      const raw = pooledRows(styles, random, STYLE_ROWS);
      const scale = 1 / Math.max(raw.abs().mean().item(), 1e-8);
      const rows = keep(raw.mul(scale));
      const moments = featureMoments(rows);
      const kept = [rows, keep(moments.mean), keep(moments.cov)];
      return {
        loss: (f: Tensor, weight: number) => {
          const out = sampledRows(f, SAMPLED_POSITIONS, random).mul(scale);
          return remdLoss(out, rows).add(momentLoss(out, moments)).mul(weight);
        },
        dispose: () => kept.forEach((t) => t.dispose()),
      };
    }),
  );
}

export interface SelfSimilarityOptions {
  /** Positions compared (default SAMPLED_POSITIONS); a layer with no more is compared whole. */
  positions?: number;
  /**
   * 'evaluation' (default, STROTSS's): new positions at every evaluation. 'objective': drawn once
   * and kept, so the loss is a fixed function of the image (as L-BFGS's line search assumes).
   */
  resample?: 'evaluation' | 'objective';
}

/** The self-similarity content loss at one layer, against the photo's features there (kept). */
export function selfSimilarityTarget(photoFeatures: Tensor, random: Random, options: SelfSimilarityOptions = {}): LayerTarget {
  const count = options.positions ?? SAMPLED_POSITIONS;
  const [, , ph, pw] = photoFeatures.shape;
  const photo = keep(noGrad(() => featureRows(photoFeatures).clone()));
  const pick = (h: number, w: number) => flatIndices(samplePositions(h, w, count, random, Math.max(h, w)), w);
  const fixed = options.resample === 'objective' && ph * pw > count ? pick(ph, pw) : null;
  const photoPicked = fixed ? keep(noGrad(() => photo.indexSelect(0, fixed))) : null;
  return {
    loss: (f: Tensor, weight: number) => {
      const [, , h, w] = f.shape;
      const out = featureRows(f);
      if (h * w <= count) return selfSimilarityLoss(out, photo).mul(weight);
      if (fixed && photoPicked) return selfSimilarityLoss(out.indexSelect(0, fixed), photoPicked).mul(weight);
      const picked = pick(h, w);
      return selfSimilarityLoss(out.indexSelect(0, picked), photo.indexSelect(0, picked)).mul(weight);
    },
    dispose: () => {
      photo.dispose();
      photoPicked?.dispose();
    },
  };
}
