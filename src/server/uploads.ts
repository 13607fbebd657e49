/**
 * Validation of uploaded images. The type is decided by the bytes (magic numbers), never by the
 * file name or the client's Content-Type; the size in pixels is read from the header and checked
 * against the limit before anything is decoded (decompression bombs); then the image is decoded
 * once, small, so a truncated or corrupt file is refused now rather than failing the job later.
 */
import * as fs from 'node:fs';
import sharp from 'sharp';
import { ACCEPTED_IMAGE_FORMATS, decodedAs, FORMAT_EXTENSION, IMAGE_HEAD_BYTES, ImageFormat, sniffImageFormat } from '../image/formats';
import { HttpError } from '../jobs/http-error';

// The accepted formats and their sniffing are the CLI's too (one rule, src/image/formats.ts).
export { FORMAT_EXTENSION, sniffImageFormat } from '../image/formats';
export type { ImageFormat } from '../image/formats';

export interface CheckedImage {
  format: ImageFormat;
  /** File size. */
  bytes: number;
  extension: string;
  /** Displayed size (EXIF orientation applied). */
  width: number;
  height: number;
}

/**
 * Checks an image file; throws HttpError 415 (not an image), 413 (too many pixels) or 400 (corrupt).
 * `label` names it as the user knows it: "photo", "painting".
 */
export async function checkImage(file: string, label: string, maxPixels: number): Promise<CheckedImage> {
  const { head, bytes } = await readHead(file, IMAGE_HEAD_BYTES);
  if (bytes === 0) throw new HttpError(400, `the ${label} is empty`);
  const format = sniffImageFormat(head);
  if (!format) throw new HttpError(415, `the ${label} file is not a supported image (${ACCEPTED_IMAGE_FORMATS})`);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch {
    throw new HttpError(400, `the ${label} cannot be read (corrupt ${format.toUpperCase()} header)`);
  }
  if (!decodedAs(format, meta.format)) {
    throw new HttpError(415, `the ${label} file is not a supported image (its bytes are not a valid ${format.toUpperCase()})`);
  }
  if (!meta.width || !meta.height) throw new HttpError(400, `the ${label} has no size`);
  const swap = (meta.orientation ?? 1) >= 5;
  const width = swap ? meta.height : meta.width;
  const height = swap ? meta.width : meta.height;
  const pages = meta.pages && meta.pages > 1 ? meta.pages : 1;
  if (width * height > maxPixels || width * height * pages > 4 * maxPixels) {
    throw new HttpError(413, `the ${label} is ${width}x${height} (${width * height} pixels), over the server's limit of ${maxPixels} pixels`);
  }
  try {
    // Decode every pixel once (shrunk on load where the format allows): truncation shows up here.
    await sharp(file, { limitInputPixels: maxPixels, failOn: 'truncated' }).resize(64, 64, { fit: 'inside' }).raw().toBuffer();
  } catch (err) {
    const msg = String((err as Error)?.message ?? err).split('\n')[0];
    throw new HttpError(400, `the ${label} is truncated or corrupt (${msg})`);
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
