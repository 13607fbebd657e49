/**
 * Where model weights are looked for, in order: an explicit directory (`--model-dir`), the
 * NST_MODEL_DIR environment variable, ./models in the working directory and models/ in the
 * repository, the project's shared data folder `../shared/models` next to the repository root (and
 * next to the working directory), and last the user's model directory under their cache directory
 * (`$XDG_CACHE_HOME/nst/models`, by default `~/.cache/nst/models`), where `nst models fetch` and
 * `nst models import` install weights unless told otherwise.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NstError } from '../errors';

/** The repository root (this file is dist/src/models/model-dir.js once compiled). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

/** One directory of the search order, and why it is there. */
export interface ModelDirCandidate {
  dir: string;
  origin: string;
}

/**
 * The user's own model directory: `$NST_CACHE_DIR/models` if set, else
 * `$XDG_CACHE_HOME/nst/models`, else `~/.cache/nst/models` (`%LOCALAPPDATA%\nst\models` on Windows).
 */
export function userModelDir(): string {
  if (process.env.NST_CACHE_DIR) return path.resolve(process.env.NST_CACHE_DIR, 'models');
  if (process.env.XDG_CACHE_HOME) return path.resolve(process.env.XDG_CACHE_HOME, 'nst', 'models');
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) return path.resolve(process.env.LOCALAPPDATA, 'nst', 'models');
  return path.join(os.homedir(), '.cache', 'nst', 'models');
}

/** The search order with the reason for each directory, most specific first, without duplicates. */
export function modelDirSearchOrder(explicit?: string): ModelDirCandidate[] {
  if (explicit) return [{ dir: path.resolve(explicit), origin: '--model-dir' }];
  const list: ModelDirCandidate[] = [];
  const add = (dir: string | undefined, origin: string) => {
    if (!dir) return;
    const abs = path.resolve(dir);
    if (!list.some((c) => c.dir === abs)) list.push({ dir: abs, origin });
  };
  add(process.env.NST_MODEL_DIR, '$NST_MODEL_DIR');
  add('models', './models');
  add(path.join(PROJECT_ROOT, 'models'), 'repository models/');
  add(path.resolve(PROJECT_ROOT, '..', 'shared', 'models'), 'project data ../shared/models');
  add(path.resolve('..', 'shared', 'models'), '../shared/models');
  add(userModelDir(), 'user cache');
  return list;
}

/** Candidate model directories, most specific first (an explicit one first, then the search order). */
export function modelDirCandidates(explicit?: string): string[] {
  const dirs = modelDirSearchOrder().map((c) => c.dir);
  return explicit ? [...new Set([path.resolve(explicit), ...dirs])] : dirs;
}

/**
 * The directory that `nst models fetch` and `nst models import` write to: `--model-dir`, else
 * $NST_MODEL_DIR, else the user's model directory.
 */
export function installModelDir(explicit?: string): string {
  return path.resolve(explicit || process.env.NST_MODEL_DIR || userModelDir());
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
