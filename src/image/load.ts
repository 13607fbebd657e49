import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import sharp from 'sharp';
import { NstError } from '../errors';
import { ACCEPTED_IMAGE_FORMATS, decodedAs, IMAGE_HEAD_BYTES, ImageFormat, sniffImageFormat } from './formats';

/** An RGB image as planar CHW floats: three planes R, G, B, each width*height, values in [0,1]. */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
}

export interface LoadOptions {
  /** Resize (down or up, Lanczos3) so the longest side equals this; the aspect ratio is kept. */
  maxSide?: number;
  /** Exact output size when both are given; one alone scales the other side to keep the aspect. Wins over maxSide. */
  width?: number;
  height?: number;
  /** Refuse inputs with more decoded pixels than this (decompression bombs). Infinity disables the check. */
  maxPixels?: number;
  /** Keep only this rectangle of the (EXIF-oriented) image, before any resizing (a painting's paper border off). */
  crop?: { left: number; top: number; width: number; height: number };
}

export const DEFAULT_MAX_PIXELS = 50_000_000;

/**
 * Bytes per pixel a loaded image holds at its peak: sharp's raw RGBA output (8 at 16 bits) and
 * our planar float RGB copy (12), with room for vips's resampling buffers. Past what the machine's
 * memory holds, vips fails with "out of memory", which would read as a corrupt photo.
 */
export const BYTES_PER_LOADED_PIXEL = 24;

/** The most pixels whose loading buffers fit in this machine's memory. */
export function imageMemoryPixels(): number {
  return Math.floor(os.totalmem() / BYTES_PER_LOADED_PIXEL);
}

/** The largest longest side at which a width×height image (resized as maxSide does) has at most `limit` pixels. */
export function largestSideWithin(width: number, height: number, limit: number): number {
  const pixels = (side: number) => {
    const t = targetSize(width, height, { maxSide: side });
    return t.width * t.height;
  };
  // The side from the aspect ratio, then corrected by a step or two for the short side's rounding.
  let side = Math.max(1, Math.floor(Math.sqrt((limit * Math.max(width, height)) / Math.min(width, height))));
  while (side > 1 && pixels(side) > limit) side--;
  while (pixels(side + 1) <= limit) side++;
  return side;
}

/**
 * Refuses to resize a width×height image to a longest side of `side` when the result would have
 * more pixels than --max-pixels allows or than memory holds, naming the largest side that fits.
 * Needs only the image's size, so callers check the size before decoding anything; `option`
 * ('--size') names the setting in the message.
 */
export function checkSideFits(label: string, width: number, height: number, side: number, maxPixels = DEFAULT_MAX_PIXELS, option?: string): void {
  const target = targetSize(width, height, { maxSide: side });
  const bound = pixelBound(maxPixels);
  const pixels = target.width * target.height;
  if (pixels <= bound.limit) return;
  const largest = largestSideWithin(width, height, bound.limit);
  const made = `${target.width}x${target.height} (${pixels} pixels), over ${bound.reason}`;
  throw new NstError(
    option
      ? `${option} ${side} makes ${quotePath(label)} ${made}; the largest ${option} that fits it is ${largest}`
      : `resizing ${quotePath(label)} to a longest side of ${side} makes it ${made}; the largest side that fits is ${largest} (lower --size)`,
  );
}

/** Decodes an image file into sRGB floats, honouring EXIF orientation and flattening alpha onto white. */
export async function loadImage(path: string, options: LoadOptions = {}): Promise<RgbImage> {
  const buf = await readImageFile(path);
  return loadImageFromBuffer(buf, options, path);
}

/** Same as loadImage for bytes already in memory (uploads); `label` names the image in error messages. */
export async function loadImageFromBuffer(buf: Buffer, options: LoadOptions = {}, label = 'image'): Promise<RgbImage> {
  const maxPixels = checkOptions(options);
  if (buf.length === 0) throw cannotRead(label, 'the file is empty');
  const format = acceptedFormat(buf, label);
  const limitInputPixels = Number.isFinite(maxPixels) ? maxPixels : false;

  // The header read is cheap and unlimited so the size check below can say how big the image is;
  // limitInputPixels on the decode is the backstop (e.g. headers that lie).
  const meta = await sharp(buf, { limitInputPixels: false }).metadata().catch((err) => {
    throw decodeError(label, err, maxPixels);
  });
  checkDecodedAs(format, meta, label);
  const oriented = orientedSize(meta, label);
  if (oriented.width * oriented.height > maxPixels) throw tooManyPixels(label, oriented.width, oriented.height, maxPixels);
  const { width, height } = options.crop ?? oriented;

  // 16-bit sources keep their precision; everything else (palette, grey, CMYK, float...) goes via 8-bit sRGB.
  const wide = meta.depth === 'ushort';
  let pipeline = sharp(buf, { limitInputPixels, failOn: 'error' }).rotate();
  // Called after rotate(), sharp extracts from the oriented image.
  if (options.crop) pipeline = pipeline.extract(options.crop);
  const target = targetSize(width, height, options);
  checkTargetFits(label, width, height, target, options, maxPixels);
  if (target.width !== width || target.height !== height) {
    pipeline = pipeline.resize(target.width, target.height, { fit: 'fill', kernel: 'lanczos3' });
  }
  pipeline = pipeline
    .toColourspace(wide ? 'rgb16' : 'srgb')
    .ensureAlpha()
    .raw(wide ? { depth: 'ushort' } : undefined);

  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true }).catch((err) => {
    throw decodeError(label, err, maxPixels);
  });
  const samples = wide ? toUint16(data) : data;
  return flattenToPlanar(samples, info.width, info.height, info.channels, wide ? 65535 : 255);
}

/** Displayed size of an image file (after EXIF orientation), without decoding its pixels. */
export async function imageSize(path: string): Promise<{ width: number; height: number }> {
  await statImageFile(path);
  const format = acceptedFormat(await readHead(path), path);
  const meta = await sharp(path, { limitInputPixels: false }).metadata().catch((err) => {
    throw decodeError(path, err, Infinity);
  });
  checkDecodedAs(format, meta, path);
  return orientedSize(meta, path);
}

// ---------------------------------------------------------------------------------------------

async function statImageFile(path: string): Promise<number> {
  let size: number;
  try {
    const st = await fsp.stat(path);
    if (st.isDirectory()) throw cannotRead(path, 'it is a directory');
    size = st.size;
  } catch (err) {
    if (err instanceof NstError) throw err;
    throw cannotRead(path, fsReason(err));
  }
  if (size === 0) throw cannotRead(path, 'the file is empty');
  return size;
}

async function readImageFile(path: string): Promise<Buffer> {
  await statImageFile(path);
  try {
    // Reading the bytes ourselves sidesteps sharp's file cache (stale results when a file is rewritten).
    return await fsp.readFile(path);
  } catch (err) {
    throw cannotRead(path, fsReason(err));
  }
}

async function readHead(path: string): Promise<Buffer> {
  try {
    const fh = await fsp.open(path, 'r');
    try {
      const head = Buffer.alloc(IMAGE_HEAD_BYTES);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      return head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw cannotRead(path, fsReason(err));
  }
}

/** The one rule of formats (see formats.ts), by the bytes: SVG and the like are refused here. */
function acceptedFormat(head: Buffer, label: string): ImageFormat {
  const format = sniffImageFormat(head);
  if (!format) throw cannotRead(label, NOT_ACCEPTED);
  return format;
}

function checkDecodedAs(format: ImageFormat, meta: sharp.Metadata, label: string): void {
  if (!decodedAs(format, meta.format)) throw cannotRead(label, `its bytes are not a valid ${format.toUpperCase()}`);
}

function checkOptions(o: LoadOptions): number {
  const positiveInt = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
      throw new NstError(`${name} must be a positive integer, got ${String(v)}`);
    }
  };
  positiveInt('maxSide', o.maxSide);
  positiveInt('width', o.width);
  positiveInt('height', o.height);
  const maxPixels = o.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) throw new NstError(`max pixels must be a positive number, got ${String(o.maxPixels)}`);
  return maxPixels;
}

function orientedSize(meta: sharp.Metadata, label: string): { width: number; height: number } {
  if (!meta.width || !meta.height) throw cannotRead(label, 'the image has no size');
  // EXIF orientations 5-8 are transposed: displayed width is the stored height.
  const swap = (meta.orientation ?? 1) >= 5;
  return swap ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
}

/** The pixel limit of a loaded image: --max-pixels, or what memory holds if that is lower. */
function pixelBound(maxPixels: number): { limit: number; reason: string } {
  const memory = imageMemoryPixels();
  if (maxPixels <= memory) return { limit: maxPixels, reason: `the limit of ${maxPixels} pixels (--max-pixels)` };
  return { limit: memory, reason: `the ${memory} pixels whose buffers fit in this machine's ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB of memory` };
}

/** The resized image must fit too: an upscale (a large --size) can exceed what the input did. */
function checkTargetFits(label: string, width: number, height: number, target: { width: number; height: number }, options: LoadOptions, maxPixels: number): void {
  if (options.maxSide !== undefined && options.width === undefined && options.height === undefined) {
    checkSideFits(label, width, height, options.maxSide, maxPixels);
    return;
  }
  const bound = pixelBound(maxPixels);
  const pixels = target.width * target.height;
  if (pixels > bound.limit) throw new NstError(`image ${quotePath(label)} at ${target.width}x${target.height} (${pixels} pixels) is over ${bound.reason}`);
}

function targetSize(width: number, height: number, o: LoadOptions): { width: number; height: number } {
  const scaled = (n: number, f: number) => Math.max(1, Math.round(n * f));
  if (o.width !== undefined && o.height !== undefined) return { width: o.width, height: o.height };
  if (o.width !== undefined) return { width: o.width, height: scaled(height, o.width / width) };
  if (o.height !== undefined) return { width: scaled(width, o.height / height), height: o.height };
  if (o.maxSide !== undefined) {
    // Compute the short side ourselves so the long side is exactly maxSide (no rounding drift).
    return width >= height
      ? { width: o.maxSide, height: scaled(height, o.maxSide / width) }
      : { width: scaled(width, o.maxSide / height), height: o.maxSide };
  }
  return { width, height };
}

function toUint16(buf: Buffer): Uint16Array {
  // Buffers from a pool may sit at an odd offset; copy when the view would be misaligned.
  if (buf.byteOffset % 2 === 0) return new Uint16Array(buf.buffer, buf.byteOffset, buf.length / 2);
  return new Uint16Array(Uint8Array.from(buf).buffer);
}

/** Interleaved samples (grey, grey+alpha, RGB or RGBA) to planar RGB in [0,1], alpha composited onto white. */
function flattenToPlanar(
  src: Uint8Array | Uint16Array,
  width: number,
  height: number,
  channels: number,
  max: number,
): RgbImage {
  const n = width * height;
  const out = new Float32Array(3 * n);
  const colour = channels >= 3 ? 3 : 1;
  const hasAlpha = channels === 2 || channels === 4;
  for (let i = 0; i < n; i++) {
    const p = i * channels;
    const a = hasAlpha ? src[p + colour] / max : 1;
    for (let c = 0; c < 3; c++) {
      const v = src[p + (colour === 3 ? c : 0)] / max;
      out[c * n + i] = v * a + (1 - a);
    }
  }
  return { width, height, data: out };
}

// --- errors: always one line ------------------------------------------------------------------

/** Quotes a path for a one-line message, escaping control characters (a newline in a file name). */
export function quotePath(p: string): string {
  return `'${p.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}

const NOT_ACCEPTED = `not an image in a supported format (${ACCEPTED_IMAGE_FORMATS})`;

function firstLine(s: string): string {
  return s.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? 'unknown error';
}

function cannotRead(label: string, reason: string): NstError {
  return new NstError(`cannot read image ${quotePath(label)}: ${reason}`);
}

function tooManyPixels(label: string, width: number, height: number, max: number): NstError {
  return new NstError(
    `image ${quotePath(label)} is ${width}x${height} (${width * height} pixels), over the limit of ${max}; raise it with --max-pixels`,
  );
}

function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a parent path is not a directory';
    default:
      return firstLine(err instanceof Error ? err.message : String(err));
  }
}

function decodeError(label: string, err: unknown, maxPixels: number): NstError {
  const msg = firstLine(err instanceof Error ? err.message : String(err));
  if (/unsupported image format/i.test(msg)) return cannotRead(label, NOT_ACCEPTED);
  if (/pixel limit/i.test(msg)) {
    return new NstError(`image ${quotePath(label)} has more than ${maxPixels} pixels; raise the limit with --max-pixels`);
  }
  if (/input file is missing/i.test(msg)) return cannotRead(label, 'no such file');
  return cannotRead(label, `the image is truncated or corrupt (${msg})`);
}
