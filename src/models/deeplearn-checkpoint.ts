/**
 * Reader for deeplearn.js checkpoints, the format of the pretrained ml5.js style networks in
 * `<model-dir>/fast-style/<name>/`: `manifest.json` maps each variable name to
 * `{ "filename": ..., "shape": [...] }`, and each file holds the variable's values as raw
 * little-endian float32. The variables `Variable`, `Variable_1`, … `Variable_47` are, in order,
 * for each layer of the 'johnson-ml5' network (see transformer-net.ts): weight, norm shift,
 * norm scale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../errors';
import { layerSpecs, StoredWeight, TransformerNet } from './transformer-net';

interface ManifestEntry {
  filename: string;
  shape: number[];
}

/** Whether `dir` looks like a deeplearn.js checkpoint (a directory with manifest.json). */
export function isDeeplearnCheckpoint(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'manifest.json')) && fs.statSync(dir).isDirectory();
}

/** Reads every variable of the checkpoint in `dir`; sizes are checked against the manifest. */
export function readDeeplearnCheckpoint(dir: string): Map<string, StoredWeight> {
  const manifestFile = path.join(dir, 'manifest.json');
  let manifest: Record<string, ManifestEntry>;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : firstLine(err);
    throw new NstError(`cannot read checkpoint manifest ${manifestFile}: ${reason}`);
  }
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw new NstError(`${manifestFile} is not a deeplearn.js checkpoint manifest (expected an object of variables)`);
  }
  const out = new Map<string, StoredWeight>();
  for (const [name, entry] of Object.entries(manifest)) {
    const shape = entry?.shape;
    if (!entry || typeof entry.filename !== 'string' || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new NstError(`${manifestFile}: variable ${name} needs a filename and an integer shape`);
    }
    const file = path.resolve(dir, entry.filename);
    if (path.relative(path.resolve(dir), file).startsWith('..')) throw new NstError(`${manifestFile}: variable ${name} points outside the checkpoint`);
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch (err) {
      throw new NstError(`cannot read variable ${name} of checkpoint ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : firstLine(err)}`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (buf.length !== count * 4) {
      throw new NstError(`${dir}: variable ${name} has ${buf.length} bytes, expected ${count * 4} for shape [${shape.join(',')}] (truncated file?)`);
    }
    const values = new Float32Array(count);
    Buffer.from(values.buffer).set(buf);
    out.set(name, { shape, values });
  }
  return out;
}

/** Name of the deeplearn.js variable that holds one of our parameters ('conv_in.weight' → 'Variable'). */
export function deeplearnVariableName(param: string): string {
  const specs = layerSpecs('johnson-ml5');
  const layer = specs.findIndex((l) => param.startsWith(`${l.name}.`));
  if (layer < 0) throw new Error(`unknown parameter ${param}`);
  const offset = param.endsWith('.weight') ? 0 : param.endsWith('.norm.shift') ? 1 : 2;
  const index = 3 * layer + offset;
  return index === 0 ? 'Variable' : `Variable_${index}`;
}

/** Loads a pretrained ml5.js network as a 'johnson-ml5' TransformerNet. */
export function loadDeeplearnTransformer(dir: string, device = 'cpu'): TransformerNet {
  const weights = readDeeplearnCheckpoint(dir);
  return TransformerNet.fromWeights('johnson-ml5', weights, { device, source: dir, rename: deeplearnVariableName });
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
