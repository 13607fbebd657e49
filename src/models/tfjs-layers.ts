/**
 * Reader for TensorFlow.js "layers-model" (and graph-model) weights: model.json (topology + weightsManifest) and
 * its binary shards, little-endian float32 in manifest order. Verifies sizes always, and every
 * shard against SHA256SUMS when that file is present, so a damaged download is never used.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../errors';

export interface NamedWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: unknown;
}

interface ModelJson {
  weightsManifest: { paths: string[]; weights: ManifestEntry[] }[];
}

/** Reads every weight listed in `modelJsonPath`, keyed by name (e.g. 'block1_conv1/kernel'). */
export function readLayersModelWeights(
  modelJsonPath: string,
  options: { verifyChecksums?: boolean; skipIntegerWeights?: boolean } = {},
): Map<string, NamedWeight> {
  const dir = path.dirname(modelJsonPath);
  let model: ModelJson;
  try {
    model = JSON.parse(fs.readFileSync(modelJsonPath, 'utf8')) as ModelJson;
  } catch (err) {
    throw new NstError(`cannot read ${modelJsonPath}: ${oneLine(err)}`);
  }
  if (!Array.isArray(model.weightsManifest)) throw new NstError(`${modelJsonPath} has no weightsManifest (not a TF.js layers model)`);
  const sums = options.verifyChecksums === false ? new Map<string, string>() : readChecksums(dir);
  const out = new Map<string, NamedWeight>();
  for (const group of model.weightsManifest) {
    const joined = Buffer.concat(group.paths.map((p) => readShard(dir, p, sums)));
    // Weights are float32 views into one buffer (no second copy: the model is ~80 MB).
    const all = joined.byteOffset % 4 === 0 ? joined : Buffer.from(joined);
    let offset = 0;
    for (const w of group.weights) {
      // Graph models also list int32 constants (paddings, shapes, axes): 4 bytes each, skippable.
      if (options.skipIntegerWeights && w.dtype === 'int32' && !w.quantization) {
        offset += w.shape.reduce((a, b) => a * b, 1) * 4;
        continue;
      }
      if (w.quantization || (w.dtype && w.dtype !== 'float32')) {
        throw new NstError(`${modelJsonPath}: weight ${w.name} is ${w.dtype ?? 'quantized'}; only float32 weights are supported`);
      }
      const count = w.shape.reduce((a, b) => a * b, 1);
      const bytes = count * 4;
      if (offset + bytes > all.length) {
        throw new NstError(`${modelJsonPath}: the weight shards are shorter than the manifest says (file truncated?)`);
      }
      const values = new Float32Array(all.buffer, all.byteOffset + offset, count);
      out.set(w.name, { name: w.name, shape: w.shape, values });
      offset += bytes;
    }
    if (offset !== all.length) throw new NstError(`${modelJsonPath}: the weight shards are longer than the manifest says`);
  }
  return out;
}

function readShard(dir: string, name: string, sums: Map<string, string>): Buffer {
  const file = path.join(dir, name);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new NstError(`cannot read weight shard ${file}: ${oneLine(err)}`);
  }
  const expected = sums.get(name);
  if (expected) {
    const actual = crypto.createHash('sha256').update(buf).digest('hex');
    if (actual !== expected) throw new NstError(`weight shard ${file} is damaged (SHA-256 mismatch with SHA256SUMS); get a fresh copy`);
  }
  return buf;
}

/** Parses a `sha256sum` listing ("<hex>  ./file") into file name -> digest. */
function readChecksums(dir: string): Map<string, string> {
  const file = path.join(dir, 'SHA256SUMS');
  const sums = new Map<string, string>();
  if (!fs.existsSync(file)) return sums;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?(?:\.\/)?(.+)$/.exec(line.trim());
    if (m) sums.set(m[2], m[1]);
  }
  return sums;
}

function oneLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
