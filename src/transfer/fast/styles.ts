/**
 * The styles `nst fast --style NAME` knows: every `fast-style/` folder of the model directories
 * (see models/model-dir.ts: --model-dir, NST_MODEL_DIR, ./models, ../shared/models) holds
 *   <name>/manifest.json       a pretrained deeplearn.js (ml5.js) network, and
 *   <name>.safetensors         a network trained with `nst train` (checkpoints, *.ckpt.safetensors,
 *                              are not listed), and
 *   <name>.style.json          a style vector fitted with `nst styles fit` (the arbitrary-style
 *                              transformer paints with it).
 * The first directory that has a name wins.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../../errors';
import { modelDirCandidates } from '../../models/model-dir';
import { readStyleModelMetadata, STYLE_MODEL_EXTENSION } from '../../models/style-model-format';
import { readStyleFile, STYLE_FILE_EXTENSION } from '../arbitrary/style-file';

export const STYLES_SUBDIR = 'fast-style';
export const CHECKPOINT_SUFFIX = `.ckpt${STYLE_MODEL_EXTENSION}`;

export interface StyleEntry {
  name: string;
  kind: 'pretrained' | 'trained' | 'fitted';
  /** The model file or checkpoint folder. */
  path: string;
  /** Where it comes from, in words. */
  description: string;
}

export function listStyles(modelDir?: string): StyleEntry[] {
  const dirs = (modelDir ? [path.resolve(modelDir)] : modelDirCandidates()).map((d) => path.join(d, STYLES_SUBDIR));
  const found = new Map<string, StyleEntry>();
  for (const dir of dirs) {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && fs.existsSync(path.join(full, 'manifest.json'))) {
        if (!found.has(e.name)) {
          found.set(e.name, { name: e.name, kind: 'pretrained', path: full, description: 'pretrained (ml5.js / deeplearn.js checkpoint)' });
        }
      } else if (e.isFile() && e.name.endsWith(STYLE_FILE_EXTENSION)) {
        const name = e.name.slice(0, -STYLE_FILE_EXTENSION.length);
        if (!found.has(name)) found.set(name, { name, kind: 'fitted', path: full, description: describeFitted(full) });
      } else if (e.isFile() && e.name.endsWith(STYLE_MODEL_EXTENSION) && !e.name.endsWith(CHECKPOINT_SUFFIX)) {
        const name = e.name.slice(0, -STYLE_MODEL_EXTENSION.length);
        if (found.has(name)) continue;
        found.set(name, { name, kind: 'trained', path: full, description: describeTrained(full) });
      }
    }
  }
  return [...found.values()];
}

function describeFitted(file: string): string {
  try {
    const s = readStyleFile(file);
    return `fitted style vector, painting ${s.painting.file}, ${s.created.slice(0, 10)}`;
  } catch (err) {
    return `unreadable: ${(err as Error).message}`;
  }
}

function describeTrained(file: string): string {
  try {
    const m = readStyleModelMetadata(file);
    const parts = ['trained with nst train'];
    if (m.style?.image) parts.push(`style ${m.style.image}`);
    if (m.progress) parts.push(`${m.progress.iteration} iterations`);
    if (m.created) parts.push(m.created.slice(0, 10));
    return parts.join(', ');
  } catch (err) {
    return `unreadable: ${(err as Error).message}`;
  }
}

/** The model path of a style name; a one-line error listing the known styles otherwise. */
export function resolveStyle(name: string, modelDir?: string): StyleEntry {
  const styles = listStyles(modelDir);
  const hit = styles.find((s) => s.name === name);
  if (hit) return hit;
  const known = styles.map((s) => s.name).join(', ') || 'none found';
  throw new NstError(`unknown style '${name}' (available: ${known}; see 'nst styles', or pass a model file with --model)`);
}
