/**
 * The feed-forward styles (pretrained and trained with `nst train`) for the page: their list, and
 * each one's weights as one safetensors file in the project's style-model format
 * (docs/model-format.md), which the page's TF.js network reads. Trained models are sent as they
 * are; pretrained deeplearn.js checkpoints are converted in memory (parameters renamed, bytes
 * unchanged) and cached.
 */
import * as fs from 'node:fs';
import { readDeeplearnCheckpoint, deeplearnVariableName } from '../models/deeplearn-checkpoint';
import { architectureOf, parameterShapes } from '../models/transformer-net';
import { encodeStyleModel, STYLE_MODEL_FORMAT, STYLE_MODEL_VERSION } from '../models/style-model-format';
import { listStyles, StyleEntry } from '../transfer/fast';

export interface StyleInfo {
  name: string;
  kind: StyleEntry['kind'];
  description: string;
  /** The model file or folder (not shown to clients). */
  path: string;
}

export class StyleLibrary {
  private readonly cache = new Map<string, Buffer>();

  constructor(private readonly modelDir?: string) {}

  list(): StyleInfo[] {
    try {
      return listStyles(this.modelDir).map(({ name, kind, description, path }) => ({ name, kind, description, path }));
    } catch {
      return [];
    }
  }

  find(name: string): StyleEntry | undefined {
    try {
      return listStyles(this.modelDir).find((s) => s.name === name);
    } catch {
      return undefined;
    }
  }

  /** The style's weights as safetensors bytes (throws NstError for an unreadable model). */
  weights(entry: StyleEntry): Buffer {
    if (entry.kind === 'trained') return fs.readFileSync(entry.path);
    const hit = this.cache.get(entry.path);
    if (hit) return hit;
    const variables = readDeeplearnCheckpoint(entry.path);
    const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
    for (const { name } of parameterShapes('johnson-ml5')) {
      const v = variables.get(deeplearnVariableName(name));
      if (v) tensors.set(name, v);
    }
    const metadata = {
      format: STYLE_MODEL_FORMAT,
      version: STYLE_MODEL_VERSION,
      architecture: architectureOf('johnson-ml5'),
      style: { name: entry.name },
      created: new Date(0).toISOString(),
      software: 'nst serve (converted from a deeplearn.js checkpoint)',
    };
    const bytes = encodeStyleModel(metadata, tensors);
    if (this.cache.size > 16) this.cache.clear();
    this.cache.set(entry.path, bytes);
    return bytes;
  }
}
