/**
 * Validation of uploaded images. The type is decided by the bytes (magic numbers), never by the
 * file name or the client's Content-Type; the size in pixels is read from the header and checked
 * against the limit before anything is decoded (decompression bombs); then the image is decoded
 * once, small, so a truncated or corrupt file is refused now rather than failing the job later.
 */
import * as fs from 'node:fs';
import sharp from 'sharp';
import { HttpError } from './http-error';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

export const FORMAT_EXTENSION: Record<ImageFormat, string> = {
  jpeg: '.jpg',
  png: '.png',
  webp: '.webp',
  gif: '.gif',
  tiff: '.tif',
  avif: '.avif',
};

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
  if (starts([0x66, 0x74, 0x79, 0x70], 4)) {
    const brand = buf.subarray(8, 12).toString('latin1');
    if (brand === 'avif' || brand === 'avis') return 'avif';
  }
  return null;
}

export interface CheckedImage {
  format: ImageFormat;
  /** File size. */
  bytes: number;
  extension: string;
  /** Displayed size (EXIF orientation applied). */
  width: number;
  height: number;
}

/** Checks an image file; throws HttpError 415 (not an image), 413 (too many pixels) or 400 (corrupt). */
export async function checkImage(file: string, label: string, maxPixels: number): Promise<CheckedImage> {
  const { head, bytes } = await readHead(file, 32);
  if (bytes === 0) throw new HttpError(400, `the ${label} image is empty`);
  const format = sniffImageFormat(head);
  if (!format) throw new HttpError(415, `the ${label} file is not a supported image (JPEG, PNG, WebP, GIF, TIFF or AVIF)`);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch {
    throw new HttpError(400, `the ${label} image cannot be read (corrupt ${format.toUpperCase()} header)`);
  }
  if (!meta.format || !SHARP_FORMATS[format].includes(meta.format)) {
    throw new HttpError(415, `the ${label} file is not a supported image (its bytes are not a valid ${format.toUpperCase()})`);
  }
  if (!meta.width || !meta.height) throw new HttpError(400, `the ${label} image has no size`);
  const swap = (meta.orientation ?? 1) >= 5;
  const width = swap ? meta.height : meta.width;
  const height = swap ? meta.width : meta.height;
  const pages = meta.pages && meta.pages > 1 ? meta.pages : 1;
  if (width * height > maxPixels || width * height * pages > 4 * maxPixels) {
    throw new HttpError(413, `the ${label} image is ${width}x${height} (${width * height} pixels), over the server's limit of ${maxPixels} pixels`);
  }
  try {
    // Decode every pixel once (shrunk on load where the format allows): truncation shows up here.
    await sharp(file, { limitInputPixels: maxPixels, failOn: 'truncated' }).resize(64, 64, { fit: 'inside' }).raw().toBuffer();
  } catch (err) {
    const msg = String((err as Error)?.message ?? err).split('\n')[0];
    throw new HttpError(400, `the ${label} image is truncated or corrupt (${msg})`);
  }
  return { format, bytes, extension: FORMAT_EXTENSION[format], width, height };
}

async function readHead(file: string, length: number): Promise<{ head: Buffer; bytes: number }> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(length);
    const { bytesRead } = await fh.read(head, 0, length, 0);
    return { head: head.subarray(0, bytesRead), bytes: (await fh.stat()).size };
  } finally {
    await fh.close();
  }
}
