/**
 * The fitted-style file (`<name>.style.json`, beside the trained styles in `fast-style/`): the 100
 * numbers of a style vector for the arbitrary-style transformer, with what is needed to trust and
 * recognise it: a SHA-256 checksum of the numbers (a corrupted or hand-edited value is refused),
 * the painting's hash (the on-the-fly cache key), a small thumbnail, and the fitting settings.
 * Plain JSON, so a browser can read it as it is.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { NstError } from '../../errors';
import { STYLE_VECTOR_LENGTH } from '../../models/arbitrary-transformer';
import { writeFileAtomic } from '../../util/atomic-write';
import { PAINT_SCALE_MAX } from './paint-scale';

export const STYLE_FILE_EXTENSION = '.style.json';
export const STYLE_FILE_FORMAT = 'nst-style-vector';

export interface StyleFile {
  format: typeof STYLE_FILE_FORMAT;
  version: 1;
  name: string;
  /** The network the vector steers. */
  model: 'magenta-transformer-separable';
  vector: number[];
  /** SHA-256 (hex) of the vector as little-endian float32. */
  checksum: string;
  /**
   * The finish `nst fast` paints it with unless told otherwise, chosen by the fit
   * (finish-choice.ts). Absent in files of before that choice: the fitted styles' default then.
   */
  finish?: { paintScale: number; paletteMatch: number };
  painting: {
    /** File name the painting had (no folders). */
    file: string;
    /** SHA-256 (hex) of the painting file's bytes. */
    sha256: string;
    width: number;
    height: number;
    /** A JPEG thumbnail (longest side 128 px) as a data: URL. */
    thumbnail: string;
  };
  /** How the vector was fitted (stages, weights, layers, photos, evaluations, seconds, final losses). */
  settings: Record<string, unknown>;
  created: string;
}

export function vectorChecksum(vector: ArrayLike<number>): string {
  return crypto.createHash('sha256').update(Buffer.from(Float32Array.from(vector).buffer)).digest('hex');
}

export function fileSha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export function isStyleFile(file: string): boolean {
  return file.endsWith(STYLE_FILE_EXTENSION);
}

/** Reads and checks a style file; anything wrong is a one-line NstError naming the file. */
export function readStyleFile(file: string): StyleFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new NstError(`cannot read style file ${file}: ${code === 'ENOENT' ? 'it does not exist' : String((err as Error).message).split('\n')[0]}`);
  }
  return checkStyleFile(parsed, file);
}

export function checkStyleFile(parsed: unknown, label: string): StyleFile {
  const s = parsed as Partial<StyleFile> | null;
  if (!s || typeof s !== 'object' || s.format !== STYLE_FILE_FORMAT) throw new NstError(`${label} is not a style file (format '${STYLE_FILE_FORMAT}' expected)`);
  if (s.version !== 1) throw new NstError(`${label}: unsupported style file version ${String(s.version)}`);
  if (!Array.isArray(s.vector) || s.vector.length !== STYLE_VECTOR_LENGTH) {
    throw new NstError(`${label}: the style vector has ${Array.isArray(s.vector) ? s.vector.length : 'no'} numbers, expected ${STYLE_VECTOR_LENGTH}`);
  }
  if (!s.vector.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new NstError(`${label}: the style vector has a value that is not a finite number`);
  if (typeof s.checksum !== 'string' || vectorChecksum(s.vector) !== s.checksum) {
    throw new NstError(`${label}: the style vector does not match its checksum (the file is damaged or was edited); fit it again with 'nst styles fit'`);
  }
  if (typeof s.name !== 'string' || !s.painting || typeof s.painting.sha256 !== 'string') throw new NstError(`${label}: the style file lacks its name or painting`);
  if (s.finish !== undefined) {
    const f = s.finish as { paintScale?: unknown; paletteMatch?: unknown } | null;
    const ok = (x: unknown, min: number, max: number, minOpen: boolean) => typeof x === 'number' && Number.isFinite(x) && (minOpen ? x > min : x >= min) && x <= max;
    if (!f || typeof f !== 'object' || !ok(f.paintScale, 0, PAINT_SCALE_MAX, true) || !ok(f.paletteMatch, 0, 1, false)) {
      throw new NstError(`${label}: the style's finish needs a paint scale in (0, ${PAINT_SCALE_MAX}] and a palette match in [0, 1]`);
    }
  }
  return s as StyleFile;
}

/** Writes atomically (temp file + rename): a crash never leaves half a style file. */
export async function writeStyleFile(file: string, style: Omit<StyleFile, 'format' | 'version' | 'checksum'>): Promise<StyleFile> {
  const vector = Array.from(Float32Array.from(style.vector));
  const full: StyleFile = { format: STYLE_FILE_FORMAT, version: 1, ...style, vector, checksum: vectorChecksum(vector) };
  await writeFileAtomic(file, JSON.stringify(full, null, 1) + '\n');
  return full;
}
