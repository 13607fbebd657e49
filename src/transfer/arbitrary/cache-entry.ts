/**
 * Vectors fitted on the fly are cached by the painting's hash (`style-cache/<sha256>.style.json`,
 * shared by `nst fast --style-image` and the server's fits). An entry fitted by an older recipe
 * is fitted again: before issue 24 the recipe had no structure term (its vectors paint paintings
 * it was not tuned on as pure texture), the first structure term was a linear trade that cost
 * the famous paintings their objective (now a hinge above a level, from the second stage on), and
 * the first stages now run in branches (the linear term at 1×, 0.3× and off), the best going on
 * (fits of before that record no `branchStructureScales`), and the fit now chooses the style's
 * default finish (fits of before that record no `finishCloseUpRatio`).
 */
import { FIT_DEFAULTS } from './options';
import type { StyleFile } from './style-file';

/** The settings a cached fit must record (as run-fit.ts writes them) to be the current recipe's. */
export function currentRecipeSettings(): { structureWeight: number; structureLevel: number; branchStructureScales: number[]; branchStages: number; finishCloseUpRatio: number } {
  const d = FIT_DEFAULTS;
  return { structureWeight: d.structureWeight, structureLevel: d.structureLevel, branchStructureScales: [...d.branchStructureScales], branchStages: d.branchStages, finishCloseUpRatio: d.finishCloseUpRatio };
}

/**
 * True when the cached style was fitted with the current recipe (its structure term, level and
 * branching) and, as every cached fit is, on the painting without its paper border (a style fitted
 * with `--keep-painting-border` is not the cache's, whatever file it was written to).
 */
export function isCurrentRecipe(style: StyleFile): boolean {
  const settings = style.settings as Record<string, unknown> | undefined;
  if (!settings || settings.keepPaintingBorder === true) return false;
  return Object.entries(currentRecipeSettings()).every(([key, value]) => JSON.stringify(settings[key]) === JSON.stringify(value));
}
