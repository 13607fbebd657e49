/**
 * Sample images the page offers (a few classic photos and paintings), looked for like model
 * weights: `--samples-dir` (then only there), $NST_SAMPLES_DIR, ./samples, then the project's data
 * folder `../shared/images`. A samples directory holds `content/` and `style/` with image files.
 * Samples are addressed by id (`content/tubingen.jpg`) and served from the listing only: a client
 * never names a path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { PROJECT_ROOT } from '../models/model-dir';
import { IMAGE_EXTENSIONS } from '../transfer/fast';

export type SampleKind = 'content' | 'style';
export const SAMPLE_KINDS: readonly SampleKind[] = ['content', 'style'];

export interface Sample {
  id: string;
  kind: SampleKind;
  name: string;
  file: string;
}

export function samplesDirCandidates(explicit?: string): string[] {
  if (explicit) return [path.resolve(explicit)];
  const list = [
    process.env.NST_SAMPLES_DIR,
    path.resolve('samples'),
    path.resolve(PROJECT_ROOT, '..', 'shared', 'images'),
    path.resolve('..', 'shared', 'images'),
  ].filter((p): p is string => !!p);
  return [...new Set(list.map((p) => path.resolve(p)))];
}

export class SampleLibrary {
  readonly dir: string | null;
  private readonly samples = new Map<string, Sample>();
  private readonly thumbs = new Map<string, Promise<Buffer>>();

  constructor(explicit?: string) {
    this.dir = samplesDirCandidates(explicit).find((d) => SAMPLE_KINDS.some((k) => isDir(path.join(d, k)))) ?? null;
    if (!this.dir) return;
    for (const kind of SAMPLE_KINDS) {
      let names: string[];
      try {
        names = fs.readdirSync(path.join(this.dir, kind));
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        const file = path.join(this.dir, kind, name);
        if (!IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase()) || !isFile(file)) continue;
        const id = `${kind}/${name}`;
        this.samples.set(id, { id, kind, name: path.basename(name, path.extname(name)).replace(/_/g, ' '), file });
      }
    }
  }

  list(): Sample[] {
    return [...this.samples.values()];
  }

  get(id: string): Sample | undefined {
    return this.samples.get(id);
  }

  /** A JPEG no larger than `side` pixels (cached in memory). */
  thumbnail(sample: Sample, side: number): Promise<Buffer> {
    const key = `${sample.id}@${side}`;
    let t = this.thumbs.get(key);
    if (!t) {
      t = sharp(sample.file).rotate().resize(side, side, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 85 }).toBuffer();
      t.catch(() => this.thumbs.delete(key));
      this.thumbs.set(key, t);
    }
    return t;
  }
}

function isDir(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}
