/**
 * The training photos: a folder searched recursively for image files, scanned once (header only)
 * for sizes, split into training and held-out validation photos, and sampled as random square
 * crops at native resolution (plus random horizontal flips). Unreadable files are skipped with a
 * warning; an empty set and crops larger than every photo are one-line errors.
 *
 * The sample sequence depends only on the seed: sample k of the run is photo perm_e[k mod n] of
 * epoch e = ⌊k / n⌋, with crop position and flip drawn from a generator seeded by (seed, k), so a
 * resumed run continues exactly where the checkpoint left off.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../../errors';
import { imageSize, loadImage } from '../../image';
import { IMAGE_EXTENSIONS, isImageFile } from './image-files';
import { seededRandom } from '../../util/random';

export interface DatasetImage {
  path: string;
  width: number;
  height: number;
}

export interface DatasetScan {
  train: DatasetImage[];
  validation: DatasetImage[];
  /** Image files found. */
  found: number;
  /** Files that could not be read. */
  unreadable: number;
  /** Photos smaller than the crop in width or height. */
  tooSmall: number;
}

const MAX_DEPTH = 8;
const MAX_WARNINGS = 10;

/** Image files under dir (recursively, hidden entries skipped), sorted. */
export function listImageFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (err) {
      if (depth === 0) throw new NstError(`cannot read dataset folder '${dir}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(d, e.name);
      if (e.isDirectory() && depth < MAX_DEPTH) walk(full, depth + 1);
      else if ((e.isFile() || e.isSymbolicLink()) && isImageFile(e.name)) out.push(full);
    }
  };
  walk(dir, 0);
  return out.sort();
}

export async function scanDataset(
  dir: string,
  options: { cropSize: number; validationImages: number; seed: number; warn: (message: string) => void },
): Promise<DatasetScan> {
  const files = listImageFiles(dir);
  if (files.length === 0) throw new NstError(`dataset folder '${dir}' has no images (looked for ${IMAGE_EXTENSIONS.join(', ')})`);
  const sizes: (DatasetImage | null)[] = new Array(files.length).fill(null);
  let unreadable = 0;
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      try {
        const s = await imageSize(files[i]);
        sizes[i] = { path: files[i], width: s.width, height: s.height };
      } catch (err) {
        unreadable++;
        if (unreadable <= MAX_WARNINGS) options.warn(`skipping unreadable image: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (unreadable > MAX_WARNINGS) options.warn(`skipped ${unreadable} unreadable images in all`);
  const readable = sizes.filter((s): s is DatasetImage => s !== null);
  if (readable.length === 0) throw new NstError(`dataset folder '${dir}' has no readable images (${files.length} files could not be read)`);
  const crop = options.cropSize;
  const usable = readable.filter((s) => s.width >= crop && s.height >= crop);
  if (usable.length === 0) {
    const largest = readable.reduce((a, b) => (Math.min(b.width, b.height) > Math.min(a.width, a.height) ? b : a));
    throw new NstError(
      `--image-size ${crop} is larger than every photo in '${dir}' (the largest is ${largest.width}x${largest.height}); use a smaller --image-size`,
    );
  }
  const tooSmall = readable.length - usable.length;
  if (tooSmall > 0) options.warn(`skipping ${tooSmall} photos smaller than the ${crop}x${crop} crops`);
  const nVal = Math.min(options.validationImages, Math.floor(usable.length / 5));
  const order = permutation(usable.length, mix(options.seed, 0x5eed));
  const validation = order.slice(0, nVal).map((i) => usable[i]).sort((a, b) => a.path.localeCompare(b.path));
  const held = new Set(validation);
  const train = usable.filter((s) => !held.has(s));
  return { train, validation, found: files.length, unreadable, tooSmall };
}

/** Random crops of the training photos; see the file comment for the sequence. */
export class CropSampler {
  private readonly bad = new Set<number>();
  private permCache: { epoch: number; perm: number[] } | null = null;

  constructor(
    private readonly images: DatasetImage[],
    readonly cropSize: number,
    private readonly seed: number,
    private readonly warn: (message: string) => void,
  ) {}

  get size(): number {
    return this.images.length;
  }

  /** Samples k … k+count−1 as one planar batch [count, 3, S, S] in [0,1]. */
  async batch(firstSample: number, count: number): Promise<Float32Array> {
    const s = this.cropSize;
    const plane = 3 * s * s;
    const out = new Float32Array(count * plane);
    const crops = await Promise.all(Array.from({ length: count }, (_, j) => this.sample(firstSample + j)));
    crops.forEach((c, j) => out.set(c, j * plane));
    return out;
  }

  /** The epoch a sample falls in. */
  epochOf(sample: number): number {
    return Math.floor(sample / this.images.length);
  }

  private async sample(k: number): Promise<Float32Array> {
    const n = this.images.length;
    const perm = this.permutation(this.epochOf(k));
    const rng = generator(mix(this.seed, k + 1));
    for (let attempt = 0; attempt < n; attempt++) {
      const index = perm[(k + attempt) % n];
      if (this.bad.has(index)) continue;
      const info = this.images[index];
      try {
        const image = await loadImage(info.path);
        return cropAndFlip(image, this.cropSize, rng);
      } catch (err) {
        if (!(err instanceof NstError)) throw err;
        this.bad.add(index);
        this.warn(`skipping unreadable image: ${err.message}`);
      }
    }
    throw new NstError('none of the training photos could be read');
  }

  private permutation(epoch: number): number[] {
    if (this.permCache?.epoch !== epoch) this.permCache = { epoch, perm: permutation(this.images.length, mix(this.seed, 1_000_003 * (epoch + 1))) };
    return this.permCache.perm;
  }
}

/** A centred square crop (validation photos: the same crop every time). */
export async function centreCrop(info: DatasetImage, size: number): Promise<Float32Array> {
  const image = await loadImage(info.path);
  return crop(image, size, Math.floor((image.width - size) / 2), Math.floor((image.height - size) / 2), false);
}

function cropAndFlip(image: { width: number; height: number; data: Float32Array }, size: number, rng: () => number): Float32Array {
  if (image.width < size || image.height < size) throw new NstError(`a photo is smaller than the ${size}-px crop (it changed since the scan?)`);
  const left = Math.floor(rng() * (image.width - size + 1));
  const top = Math.floor(rng() * (image.height - size + 1));
  return crop(image, size, left, top, rng() < 0.5);
}

function crop(image: { width: number; height: number; data: Float32Array }, size: number, left: number, top: number, flip: boolean): Float32Array {
  const { width, height, data } = image;
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      const src = c * width * height + (top + y) * width + left;
      const dst = c * size * size + y * size;
      if (!flip) out.set(data.subarray(src, src + size), dst);
      else for (let x = 0; x < size; x++) out[dst + x] = data[src + size - 1 - x];
    }
  }
  return out;
}

/** A seeded permutation of 0…n−1 (Fisher–Yates). */
export function permutation(n: number, seed: number): number[] {
  const rng = generator(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** A seeded generator of floats in [0, 1) (mulberry32). */
export const generator = seededRandom;

/** Combines two integers into a 32-bit seed. */
function mix(a: number, b: number): number {
  let h = Math.imul((a >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b >>> 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}
