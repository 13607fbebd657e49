/**
 * Loading a style painting: as loadImage, but without the sheet of paper it was photographed on
 * (./painting-border.ts). The border is found on a copy of at most DETECT_SIDE px, then cut from
 * the file at full resolution before any resizing, so the painting keeps every pixel it has.
 */
import { imageSize, loadImage, LoadOptions, RgbImage } from './load';
import { detectPaintingBorder, PaintingBorder } from './painting-border';

const DETECT_SIDE = 512;

export interface PaintingLoadOptions extends LoadOptions {
  /** Keep a paper border (--keep-painting-border). */
  keepBorder?: boolean;
}

/** The painting and the border cut from it (px of the file, per side), or null when none was. */
export async function loadPainting(file: string, options: PaintingLoadOptions = {}): Promise<{ image: RgbImage; border: PaintingBorder | null }> {
  const { keepBorder, ...load } = options;
  if (keepBorder) return { image: await loadImage(file, load), border: null };
  const { width, height } = await imageSize(file);
  const scale = Math.min(1, DETECT_SIDE / Math.max(width, height));
  const preview = await loadImage(file, { maxSide: Math.max(1, Math.round(scale * Math.max(width, height))), maxPixels: load.maxPixels });
  const found = detectPaintingBorder(preview);
  if (!found) return { image: await loadImage(file, load), border: null };
  // To the file's pixels: the band grows a pixel rather than leave a line of paper.
  const sx = width / preview.width;
  const sy = height / preview.height;
  const border: PaintingBorder = {
    top: Math.ceil(found.top * sy),
    bottom: Math.ceil(found.bottom * sy),
    left: Math.ceil(found.left * sx),
    right: Math.ceil(found.right * sx),
  };
  const crop = { left: border.left, top: border.top, width: width - border.left - border.right, height: height - border.top - border.bottom };
  return { image: await loadImage(file, { ...load, crop }), border };
}
