import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import sharp from 'sharp';
import { NstError } from '../errors';
import { assertRgbImage } from './convert';
import { quotePath, type RgbImage } from './load';
import { writeFileAtomic } from '../util/atomic-write';

export type OutputFormat = 'jpeg' | 'png' | 'webp' | 'tiff' | 'avif';

const FORMAT_BY_EXTENSION: Readonly<Record<string, OutputFormat>> = {
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.png': 'png',
  '.webp': 'webp',
  '.tif': 'tiff',
  '.tiff': 'tiff',
  '.avif': 'avif',
};

export const OUTPUT_EXTENSIONS: readonly string[] = Object.keys(FORMAT_BY_EXTENSION);

export interface SaveOptions {
  /** 1-100 for JPEG, WebP and AVIF; PNG and TIFF are lossless and ignore it. */
  quality?: number;
}

/** Output format for a path, from its extension (case-insensitive); NstError when unknown. */
export function outputFormatFor(path: string): OutputFormat {
  const ext = nodePath.extname(path).toLowerCase();
  const format = FORMAT_BY_EXTENSION[ext];
  if (!format) {
    const what = ext ? `unknown extension '${ext}'` : 'no file extension';
    throw new NstError(`cannot write ${quotePath(path)}: ${what} (use one of ${OUTPUT_EXTENSIONS.join(', ')})`);
  }
  return format;
}

/**
 * Synchronous pre-flight check, to fail before a long run rather than after it: the extension is
 * known, the directory exists and is writable, and the target is not a directory.
 */
export function checkOutputPath(path: string): void {
  outputFormatFor(path);
  const dir = nodePath.dirname(nodePath.resolve(path));
  let dirStat: fs.Stats;
  try {
    dirStat = fs.statSync(dir);
  } catch (err) {
    throw cannotWrite(path, err, dir);
  }
  if (!dirStat.isDirectory()) throw new NstError(`cannot write ${quotePath(path)}: ${quotePath(dir)} is not a directory`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw cannotWrite(path, err, dir);
  }
  const target = fs.statSync(path, { throwIfNoEntry: false });
  if (target?.isDirectory()) throw new NstError(`cannot write ${quotePath(path)}: it is a directory`);
}

/** Encodes an image in memory (previews, HTTP responses). */
export async function encodeImage(
  image: RgbImage,
  format: 'png' | 'jpeg' | 'webp',
  options: SaveOptions = {},
): Promise<Buffer> {
  return encode(image, format, options.quality);
}

/**
 * Writes an image, format from the extension. Atomic: the bytes go to a temp file in the same
 * directory which is then renamed over the target, so readers never see a half-written image.
 */
export async function saveImage(image: RgbImage, path: string, options: SaveOptions = {}): Promise<void> {
  const format = outputFormatFor(path);
  const bytes = await encode(image, format, options.quality);
  const dir = nodePath.dirname(nodePath.resolve(path));
  try {
    await writeFileAtomic(path, bytes);
  } catch (err) {
    throw cannotWrite(path, err, dir);
  }
}

// ---------------------------------------------------------------------------------------------

function checkQuality(quality: number | undefined): void {
  if (quality !== undefined && !(Number.isInteger(quality) && quality >= 1 && quality <= 100)) {
    throw new NstError(`quality must be an integer from 1 to 100, got ${String(quality)}`);
  }
}

async function encode(image: RgbImage, format: OutputFormat, quality: number | undefined): Promise<Buffer> {
  checkQuality(quality);
  const pipeline = sharp(toInterleavedBytes(image), { raw: { width: image.width, height: image.height, channels: 3 } });
  switch (format) {
    case 'jpeg':
      // 4:4:4 keeps the fine colour detail that stylised images are full of.
      return pipeline.jpeg({ quality: quality ?? 92, chromaSubsampling: '4:4:4' }).toBuffer();
    case 'png':
      return pipeline.png().toBuffer();
    case 'webp':
      return pipeline.webp({ quality: quality ?? 90 }).toBuffer();
    case 'tiff':
      // sharp's TIFF default is JPEG compression; keep TIFF lossless.
      return pipeline.tiff({ compression: 'lzw' }).toBuffer();
    case 'avif':
      return pipeline.avif({ quality: quality ?? 60 }).toBuffer();
  }
}

/** Planar floats to interleaved 8-bit RGB, clamped to [0,1] and rounded (NaN becomes 0). */
function toInterleavedBytes(image: RgbImage): Buffer {
  assertRgbImage(image);
  const n = image.width * image.height;
  const out = Buffer.allocUnsafe(3 * n);
  const d = image.data;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const v = d[c * n + i];
      out[3 * i + c] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
    }
  }
  return out;
}

function cannotWrite(path: string, err: unknown, dir: string): NstError {
  const e = err as NodeJS.ErrnoException;
  let reason: string;
  switch (e?.code) {
    case 'ENOENT':
      reason = `directory ${quotePath(dir)} does not exist`;
      break;
    case 'ENOTDIR':
      reason = 'a parent path is not a directory';
      break;
    case 'EACCES':
    case 'EPERM':
      reason = 'permission denied';
      break;
    case 'EISDIR':
      reason = 'it is a directory';
      break;
    case 'ENOSPC':
      reason = 'no space left on device';
      break;
    case 'EROFS':
      reason = 'read-only file system';
      break;
    default:
      reason = (e instanceof Error ? e.message : String(err)).split(/\r?\n/)[0].trim() || 'unknown error';
  }
  return new NstError(`cannot write ${quotePath(path)}: ${reason}`);
}
