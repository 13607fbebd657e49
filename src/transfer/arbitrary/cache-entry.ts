/**
 * Vectors fitted on the fly are cached by the painting's hash (`style-cache/<sha256>.style.json`,
 * shared by `nst fast --style-image` and the server's fits). An entry fitted by an older recipe
 * is fitted again: before issue 24 the recipe had no structure term, and its vectors paint
 * paintings it was not tuned on as pure texture.
 */
import { FIT_DEFAULTS } from './options';
import type { StyleFile } from './style-file';

/** True when the cached style was fitted with the current recipe's structure term. */
export function isCurrentRecipe(style: StyleFile): boolean {
  const settings = style.settings as { structureWeight?: unknown } | undefined;
  return settings?.structureWeight === FIT_DEFAULTS.structureWeight;
}
