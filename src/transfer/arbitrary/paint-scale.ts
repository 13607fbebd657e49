/**
 * Painting a photo at a larger size than it has, then resizing the result back: the arbitrary-style
 * network's strokes have a fixed size in pixels, so at 1.5× they come out two thirds as large
 * relative to the photo, and the photo's forms (a cat's eyes, a tram's windows) survive them. The
 * style vector is unchanged; only the scale at which it paints. Measured on issue 24's check
 * (docs/fitted-styles-quality.md, "Painting at a larger scale").
 */
import { resize, Tensor, tidy } from '../../engine';
import { NstError } from '../../errors';

/** Photos are painted at most this long side (px) when scaled up: no more than a photo that large costs today. */
export const PAINT_SCALE_MAX_SIDE = 2048;

/** The largest --paint-scale accepted. */
export const PAINT_SCALE_MAX = 4;

export function checkPaintScale(scale: number): void {
  if (!Number.isFinite(scale) || scale <= 0 || scale > PAINT_SCALE_MAX) throw new NstError(`--paint-scale must be above 0 and at most ${PAINT_SCALE_MAX} (got ${scale})`);
}

/**
 * The painting size of a width × height photo at `scale`: scaled up no further than a long side
 * of PAINT_SCALE_MAX_SIDE (a photo already that large is painted at its size), down as asked.
 */
export function paintedSize(width: number, height: number, scale: number): { width: number; height: number } {
  const longest = Math.max(width, height);
  const s = scale > 1 ? Math.max(1, Math.min(scale, PAINT_SCALE_MAX_SIDE / longest)) : scale;
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/**
 * `stylise(x)` on the photo resized to its painted size (bilinear), the result resized back to
 * the photo's size (area averaging), clamped to [0,1]. At scale 1, exactly `stylise(x)`.
 */
export function paintAtScale(x: Tensor, scale: number, stylise: (x: Tensor) => Tensor): Tensor {
  const [, , height, width] = x.shape;
  const size = paintedSize(width, height, scale);
  if (size.width === width && size.height === height) return stylise(x);
  return tidy(() => resize(stylise(resize(x, size.height, size.width, 'bilinear')), height, width, 'area').clamp(0, 1));
}
