/**
 * Vectors fitted on the fly are cached by the painting's hash (`style-cache/<sha256>.style.json`,
 * shared by `nst fast --style-image` and the server's fits). An entry fitted by an older recipe
 * is fitted again: before issue 24 the recipe had no structure term (its vectors paint paintings
 * it was not tuned on as pure texture), and the first structure term was a linear trade that cost
 * the famous paintings their objective (now a hinge above a level, from the second stage on).
 */
import { FIT_DEFAULTS } from './options';
import type { StyleFile } from './style-file';

/**
 * True when the cached style was fitted with the current recipe's structure term (weight and level)
 * and, as every cached fit is, on the painting without its paper border (a style fitted with
 * `--keep-painting-border` is not the cache's, whatever file it was written to).
 */
export function isCurrentRecipe(style: StyleFile): boolean {
  const settings = style.settings as { structureWeight?: unknown; structureLevel?: unknown; keepPaintingBorder?: unknown } | undefined;
  return settings?.structureWeight === FIT_DEFAULTS.structureWeight && settings?.structureLevel === FIT_DEFAULTS.structureLevel && settings?.keepPaintingBorder !== true;
}
