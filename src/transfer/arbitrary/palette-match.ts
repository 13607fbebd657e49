/**
 * The painting's palette on the output: after the forward pass, the output's OkLAB colours are
 * moved part of the way (`amount`, 0–1) toward the painting's OkLAB mean and covariance
 * (src/image/oklab-colour-match.ts). The palette comes from the style file's thumbnail, so a fitted
 * style needs nothing but its file. A blend of styles (and a strength below 1, whose other end is
 * the photo's own vector) takes the mixture of their palettes in the same proportions.
 */
import { ColourMoments, loadImageFromBuffer, RgbImage } from '../../image';
import { matchOklabMoments, oklabMoments } from '../../image/oklab-colour-match';
import { NstError } from '../../errors';
import type { StyleFile } from './style-file';

export function checkPaletteMatch(amount: number): void {
  if (!Number.isFinite(amount) || amount < 0 || amount > 1) throw new NstError(`--palette-match must be from 0 to 1 (got ${amount})`);
}

/** The OkLAB colour moments of a style file's painting (from its thumbnail). */
export async function stylePalette(style: StyleFile): Promise<ColourMoments> {
  const match = /^data:image\/[a-z]+;base64,(.+)$/.exec(style.painting.thumbnail ?? '');
  if (!match) throw new NstError(`style file '${style.name}' has no painting thumbnail to take the palette from (use --palette-match 0)`);
  return oklabMoments(await loadImageFromBuffer(Buffer.from(match[1], 'base64')));
}

/** (1 − amount)·output + amount·(output recoloured to the palette); amount 0 returns the output itself. */
export function matchPalette(output: RgbImage, palette: ColourMoments, amount: number): RgbImage {
  if (amount === 0) return output;
  const matched = matchOklabMoments(output, palette).data;
  const d = output.data;
  return { width: output.width, height: output.height, data: d.map((x, i) => (1 - amount) * x + amount * matched[i]) };
}
