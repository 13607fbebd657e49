/**
 * Refuses an output size whose image could not be held (over --max-pixels or the machine's memory)
 * before a command starts: the loader would refuse it too, but only when it loads that stage,
 * after the model loaded and the coarse stages ran, and without naming the option.
 */
import * as fs from 'node:fs';
import { checkSideFits, imageSize } from '../image';

/** Throws one line naming `option` and the largest value that fits when `file` at `side` px is too large. */
export async function checkOutputSide(file: string | undefined, side: number | undefined, maxPixels: number | undefined, option: string): Promise<void> {
  // A bad size or an unreadable file is left to the command's own validation and its message.
  if (!file || side === undefined || !(Number.isInteger(side) && side > 0)) return;
  if (maxPixels !== undefined && !(Number.isInteger(maxPixels) && maxPixels > 0)) return;
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return;
  const size = await imageSize(file).catch(() => null);
  if (size) checkSideFits(file, size.width, size.height, side, maxPixels, option);
}
