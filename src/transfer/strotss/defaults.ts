/**
 * STROTSS's recipe (Kolkin, Salavon & Shakhnarovich, CVPR 2019, nkolkin13/STROTSS) on our VGG19:
 * its weights, its hypercolumn layers and its coarse-to-fine schedule, for the run loop.
 */

export interface StrotssSchedule {
  /** Longest side of the first stage (STROTSS: 64 px). */
  startSide: number;
  /** Ratio between the sides of consecutive stages (STROTSS: 2). */
  factor: number;
  /** Optimiser steps per stage (STROTSS: 250 RMSprop steps; L-BFGS needs fewer). */
  iterationsPerStage: number;
}

export const strotssDefaults = {
  /**
   * α, the content weight at 64 px divided by 16 (STROTSS's command-line value, 1 by default): the
   * stage at side s uses strotssContentWeight(s, α) = 16·α·64/s, halved at every doubling.
   */
  contentWeight: 1,
  /** Weight of the moment term (mean and covariance of the hypercolumns). */
  momentWeight: 1,
  /**
   * VGG19 layers of the hypercolumn (after the RGB pixel). STROTSS read nine VGG16 layers
   * (relu1_1, relu1_2, relu2_1, relu2_2, relu3_1, relu3_2, relu3_3, relu4_3, relu5_3). Measured
   * with src/quality at 256 px (stages 64/128/256, 30 L-BFGS evaluations each, 1 thread, seed 7),
   * the five relu*_1 layers (1,475 values per hypercolumn) against VGG19's nine analogues
   * (relu1_1, relu1_2, relu2_1, relu2_2, relu3_1, relu3_2, relu3_4, relu4_4, relu5_4; 2,179):
   *
   *   pair                          layers   SWD ↓    CFSD ↓   SSIM
   *   Tübingen × Starry Night       five     63.1     0.0103   0.471
   *                                 nine     95.5     0.0066   0.480
   *   Golden Gate × The Scream      five     61.8     0.0079   0.453
   *                                 nine     60.4     0.0055   0.543
   *
   * The nine keep more of the photo (lower CFSD) and paint less of the style on the first pair;
   * the five are a third cheaper per evaluation. Five it is; pass the nine for a lighter touch.
   */
  layers: ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'] as readonly string[],
  /** Output positions whose hypercolumns are compared per evaluation (STROTSS: 32² = 1024). */
  samples: 1024,
  /** Hypercolumns of the painting kept per stage (STROTSS: 5 × 1000). */
  styleSamples: 2048,
  /** The sampling grid has at most gridSide² candidates (STROTSS: 128²). */
  gridSide: 128,
  /**
   * New positions every this many evaluations (STROTSS: every step). Every 5 was tried for
   * L-BFGS's sake (a fixed function within its line searches): SWD 68.5 / 72.7 instead of
   * 61.8 / 63.1 on the two pairs below, and more failed line searches.
   */
  resampleEvery: 1,
  /**
   * Weight of the smoothness term (mean squared neighbour difference of the RGB image). 2 was
   * tried against the fine grain of pixel-space optimisation: SWD 140 instead of 62 (Tübingen).
   * Likewise a colour REMD weighted 10× STROTSS's: SWD 72 / 79 instead of 62 / 63.
   */
  tvWeight: 0,
  schedule: { startSide: 64, factor: 2, iterationsPerStage: 100 } as StrotssSchedule,
};

/** The content weight STROTSS uses at a stage of longest side `side`: 16·α at 64 px, halved per doubling. */
export function strotssContentWeight(side: number, alpha: number = strotssDefaults.contentWeight): number {
  return (16 * alpha * 64) / side;
}

/** The stage sides of STROTSS's schedule up to `size` (64, 128, …, size). */
export function strotssStageSides(size: number, schedule: StrotssSchedule = strotssDefaults.schedule): number[] {
  const sides: number[] = [];
  for (let s = schedule.startSide; s < size; s *= schedule.factor) sides.push(Math.round(s));
  sides.push(size);
  return sides;
}
