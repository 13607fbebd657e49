/**
 * The image formats the toolkit accepts, one rule for the CLI and the server: photos in JPEG, PNG,
 * WebP, GIF, TIFF or AVIF, recognised by their bytes (magic numbers), never by the file name or a
 * Content-Type. Anything else sharp could open is refused, SVG above all: librsvg renders it by
 * fetching what it links to (files, URLs), and a vector drawing is not a photo.
 */

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

/** For messages: "not an image in a supported format (…)". */
export const ACCEPTED_IMAGE_FORMATS = 'JPEG, PNG, WebP, GIF, TIFF or AVIF';

/** Bytes of the file's head that sniffImageFormat needs. */
export const IMAGE_HEAD_BYTES = 32;

export const FORMAT_EXTENSION: Record<ImageFormat, string> = {
  jpeg: '.jpg',
  png: '.png',
  webp: '.webp',
  gif: '.gif',
  tiff: '.tif',
  avif: '.avif',
};

/** sharp's metadata().format names of each format. */
const SHARP_FORMATS: Record<ImageFormat, string[]> = {
  jpeg: ['jpeg'],
  png: ['png'],
  webp: ['webp'],
  gif: ['gif'],
  tiff: ['tiff'],
  avif: ['heif', 'avif'],
};

/** The image format the bytes start with, or null. */
export function sniffImageFormat(buf: Buffer): ImageFormat | null {
  const starts = (sig: number[], at = 0) => buf.length >= at + sig.length && sig.every((b, i) => buf[at + i] === b);
  if (starts([0xff, 0xd8, 0xff])) return 'jpeg';
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  if (starts([0x47, 0x49, 0x46, 0x38, 0x37, 0x61]) || starts([0x47, 0x49, 0x46, 0x38, 0x39, 0x61])) return 'gif';
  if (starts([0x49, 0x49, 0x2a, 0x00]) || starts([0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (starts([0x66, 0x74, 0x79, 0x70], 4) && buf.length >= 16) {
    // The ftyp box: its size, 'ftyp', the major brand, a minor version, then compatible brands.
    // AVIF as the major brand, or among the compatible ones (a 'mif1' file that is AVIF).
    const end = Math.min(buf.readUInt32BE(0), buf.length);
    const brands = [buf.subarray(8, 12).toString('latin1')];
    for (let at = 16; at + 4 <= end; at += 4) brands.push(buf.subarray(at, at + 4).toString('latin1'));
    if (brands.some((b) => b === 'avif' || b === 'avis')) return 'avif';
  }
  return null;
}

/** Whether sharp read the bytes as the format they were sniffed as (a forged magic number is not). */
export function decodedAs(format: ImageFormat, sharpFormat: string | undefined): boolean {
  return sharpFormat !== undefined && SHARP_FORMATS[format].includes(sharpFormat);
}
