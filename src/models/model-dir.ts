/**
 * Where model weights are looked for, in order: an explicit directory (`--model-dir`), the
 * NST_MODEL_DIR environment variable, ./models in the working directory, then the project's shared
 * data folder `../shared/models` next to the repository root (and next to the working directory).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../errors';

/** The repository root (this file is dist/src/models/model-dir.js once compiled). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Candidate model directories, most specific first. */
export function modelDirCandidates(explicit?: string): string[] {
  const list = [
    explicit,
    process.env.NST_MODEL_DIR,
    path.resolve('models'),
    path.join(PROJECT_ROOT, 'models'),
    path.resolve(PROJECT_ROOT, '..', 'shared', 'models'),
    path.resolve('..', 'shared', 'models'),
  ].filter((p): p is string => !!p);
  return [...new Set(list.map((p) => path.resolve(p)))];
}

/**
 * The first candidate that holds `relative` (e.g. 'vgg19/model.json'). An explicit directory is
 * authoritative: if it lacks the file, that is an error rather than a silent fallback.
 */
export function findModelFile(relative: string, explicit?: string, howToGet = ''): string {
  const candidates = explicit ? [path.resolve(explicit)] : modelDirCandidates();
  for (const dir of candidates) {
    const file = path.join(dir, relative);
    if (fs.existsSync(file)) return file;
  }
  throw new NstError(
    `cannot find ${relative} (looked in ${candidates.join(', ')}); set --model-dir or NST_MODEL_DIR` +
      (howToGet ? `; ${howToGet}` : ''),
  );
}
