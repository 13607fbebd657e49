/**
 * What the default mode ('--padding reflect') does to a pretrained ml5 network's output after the
 * network itself (issue 28): removes the dots it invents on dark flat areas, the pattern of its
 * 4-px upsampling grid where the photo is flat, and, for the styles that weave a regular texture
 * of their own over flat areas (wreck), that weave. `--padding exact` skips all of it.
 */
import type { RgbImage } from '../../image';
import { DOT_RULE, removeInventedDots } from './invented-dots';
import { removeLatticePattern } from './lattice-notch';
import { FLAT_MASK_RULE, photoDeviation, photoFlatMask } from './local-filters';
import { suppressWeave } from './weave-suppression';

/**
 * Pretrained styles whose network weaves a periodic texture the painting does not have. Measured
 * per style (docs/frames-and-grids.md): for wreck, suppressing it leaves the distance to the
 * painting as it was; for The Scream (painted in stripes) it takes the output far from it.
 */
export const WOVEN_STYLES: readonly string[] = ['wreck'];

export interface Cleanup {
  image: RgbImage;
  /** Pixels of invented dots replaced. */
  dotPixels: number;
  /** Root mean square of the grid pattern removed (levels of 0–255, over the picture). */
  latticeRms: number;
  /** Windows whose weave was flattened (0 for the other styles). */
  weaveWindows: number;
}

/** Cleans `output` (the network's, same size as `photo`) in place. `style`: the pretrained style's name. */
export async function cleanPretrainedOutput(output: RgbImage, photo: RgbImage, style: string): Promise<Cleanup> {
  // The dot rule and the flat mask read the same measure of the photo: computed once.
  const deviation = photoDeviation(photo, FLAT_MASK_RULE.photoRadius);
  const dotRule = { ...DOT_RULE, photoRadius: FLAT_MASK_RULE.photoRadius };
  const { image, dotPixels } = await removeInventedDots(output, photo, dotRule, deviation);
  const flat = photoFlatMask(photo, FLAT_MASK_RULE, deviation);
  const { removedRms } = removeLatticePattern(image, flat);
  const weaveWindows = WOVEN_STYLES.includes(style) ? suppressWeave(image, flat).windows : 0;
  return { image, dotPixels, latticeRms: removedRms, weaveWindows };
}
