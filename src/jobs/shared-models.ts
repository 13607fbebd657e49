/**
 * Model files a job makes that every process needs afterwards (a painting fitted as a style): the
 * process that made it puts it in the shared storage under `models/<its path in the model
 * folder>`; the API server and every worker copy what they lack into their own model folder, so
 * each of them lists the style and paints with it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { installModelDir } from '../models/model-dir';
import type { Storage } from '../storage';
import { writeFileAtomic } from '../util/atomic-write';

const PREFIX = 'models/';

/** What to share of a file inside the model folder `modelDir` (default: the install's); none for a file elsewhere. */
export function sharedModelFiles(file: string, modelDir?: string): { key: string; file: string }[] {
  const rel = path.relative(installModelDir(modelDir), file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return [];
  return [{ key: PREFIX + rel.split(path.sep).join('/'), file }];
}

/** Puts model files of this process in the storage; returns their keys. */
export async function pushSharedModels(storage: Storage, files: { key: string; file: string }[]): Promise<string[]> {
  for (const f of files) await storage.put(f.key, await fs.promises.readFile(f.file));
  return files.map((f) => f.key);
}

/** Copies the shared model files this model folder lacks from the storage; returns the keys copied. */
export async function pullSharedModels(storage: Storage, modelDir?: string): Promise<string[]> {
  const root = installModelDir(modelDir);
  const copied: string[] = [];
  for (const key of await storage.list(PREFIX)) {
    const parts = key.slice(PREFIX.length).split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..')) continue;
    const file = path.join(root, ...parts);
    if (fs.existsSync(file)) continue;
    const bytes = await storage.get(key);
    if (!bytes) continue; // removed meanwhile
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, bytes);
    copied.push(key);
  }
  return copied;
}
