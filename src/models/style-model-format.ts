/**
 * The saved format of feed-forward style models (trained networks and training checkpoints).
 * Full description: docs/model-format.md. In short, one file laid out as safetensors
 * (https://github.com/huggingface/safetensors), so any safetensors reader, a browser included,
 * can read it:
 *
 *   bytes 0..7      N, the header length, little-endian uint64
 *   bytes 8..8+N    the header: UTF-8 JSON, padded with spaces so the data starts 8-byte aligned
 *                   { "<tensor>": { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] }, …,
 *                     "__metadata__": { "format": "nst-style-model", "version": "2",
 *                                       "sha256": "<hex SHA-256 of the tensor data>",
 *                                       "nst": "<the metadata below, as a JSON string>" } }
 *   the rest        the tensors' values, little-endian float32, at data_offsets (relative to the
 *                   end of the header), in header order, with no gaps
 *
 * Tensors: the network's parameters under the names of transformer-net.ts (`conv_in.weight`,
 * `res1.conv2.norm.scale`, …) in TensorFlow layouts (conv kernels [kh, kw, in, out]); a training
 * checkpoint adds Adam's moments as `adam.m/<param>` and `adam.v/<param>`.
 *
 * Metadata (StyleModelMetadata): the architecture (which fixes every parameter's shape), the
 * style, the training settings, the losses, and, in a checkpoint, the optimiser state.
 *
 * Every load verifies the checksum, so corrupted weights (finite values that would load and
 * paint garbage) are refused. Version 1 files, written before the checksum existed, load without
 * it; `resealStyleModel` gives one a checksum.
 *
 * Files are written atomically (src/util/atomic-write.ts): to a temporary file in the same
 * directory, fsync'd, then renamed.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../errors';
import { writeFileAtomicSync } from '../util/atomic-write';
import { isDeeplearnCheckpoint, loadDeeplearnTransformer } from './deeplearn-checkpoint';
import {
  architectureOf,
  StoredWeight,
  TransformerArchitecture,
  TransformerNet,
  TRANSFORMER_VARIANTS,
  TransformerVariant,
} from './transformer-net';

export const STYLE_MODEL_FORMAT = 'nst-style-model';
/** 2: `__metadata__.sha256` (the tensor data's checksum) is required. 1: no checksum. */
export const STYLE_MODEL_VERSION = 2;
/** The file extension we use for saved models and checkpoints. */
export const STYLE_MODEL_EXTENSION = '.safetensors';

export interface LossValues {
  content: number;
  style: number;
  tv: number;
  total: number;
}

export interface StyleModelMetadata {
  format: typeof STYLE_MODEL_FORMAT;
  version: number;
  architecture: TransformerArchitecture;
  /** The style: a short name (e.g. 'wave'), and the painting it was trained on. */
  style: { name: string; image?: string; size?: number };
  /** Training settings (see TrainOptions); absent for converted pretrained networks. */
  training?: Record<string, unknown>;
  /** Progress when the file was written. */
  progress?: { iteration: number; iterations: number; epoch: number; seconds: number };
  losses?: {
    /** Mean training losses over the last printed window. */
    train?: LossValues;
    /** Validation losses on held-out photos, one entry per checkpoint. */
    validation?: ({ iteration: number } & LossValues)[];
    /** Training losses sampled during the run. */
    history?: ({ iteration: number } & LossValues)[];
  };
  /** Present in training checkpoints only. */
  optimizer?: { name: 'adam'; step: number; learningRate: number; beta1: number; beta2: number; epsilon: number };
  created: string;
  software: string;
}

export interface StyleModelFile {
  metadata: StyleModelMetadata;
  tensors: Map<string, StoredWeight>;
}

/** A model or checkpoint as safetensors bytes (header, metadata, tensors in the map's order). */
export function encodeStyleModel(metadata: object, tensors: Map<string, StoredWeight>): Buffer {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.values.length !== count) throw new Error(`tensor ${name}: ${t.values.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  const data = Buffer.concat([...tensors.values()].map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength)));
  header.__metadata__ = { format: STYLE_MODEL_FORMAT, version: String(STYLE_MODEL_VERSION), sha256: sha256(data), nst: JSON.stringify(metadata) };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json, data]);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes a model or checkpoint atomically. Tensors are written in the map's order. */
export function writeStyleModel(file: string, metadata: StyleModelMetadata, tensors: Map<string, StoredWeight>): void {
  writeModelFile(file, encodeStyleModel(metadata, tensors));
}

/** Reads a model or checkpoint; every problem is a one-line NstError naming the file. */
export function readStyleModel(file: string): StyleModelFile {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : firstLine(err);
    throw new NstError(`cannot read style model ${file}: ${reason}`);
  }
  const bad = (why: string) => new NstError(`${file} is not a valid style model: ${why}`);
  if (buf.length < 8) throw bad('the file is too short');
  const n = buf.readBigUInt64LE(0);
  if (n > BigInt(buf.length - 8) || n < 2n) throw bad('the header length is out of range (truncated or not a safetensors file)');
  const dataStart = 8 + Number(n);
  let header: Record<string, any>;
  try {
    header = JSON.parse(buf.subarray(8, dataStart).toString('utf8'));
  } catch {
    throw bad('the header is not JSON (not a safetensors file)');
  }
  const meta = header?.__metadata__;
  if (!meta || meta.format !== STYLE_MODEL_FORMAT || typeof meta.nst !== 'string') {
    throw bad(`the header lacks __metadata__.format = '${STYLE_MODEL_FORMAT}'`);
  }
  if (Number(meta.version) > STYLE_MODEL_VERSION) throw bad(`format version ${meta.version} is newer than this program supports (${STYLE_MODEL_VERSION})`);
  let metadata: StyleModelMetadata;
  try {
    metadata = JSON.parse(meta.nst);
  } catch {
    throw bad('the metadata is not JSON');
  }
  const dataLength = buf.length - dataStart;
  const tensors = new Map<string, StoredWeight>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const shape = entry?.shape;
    const offsets = entry?.data_offsets;
    if (entry?.dtype !== 'F32') throw bad(`tensor ${name} has dtype ${entry?.dtype}; only F32 is supported`);
    if (!Array.isArray(shape) || !shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0)) throw bad(`tensor ${name} has no valid shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o: unknown) => Number.isInteger(o))) throw bad(`tensor ${name} has no valid data_offsets`);
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (begin < 0 || end > dataLength || end - begin !== 4 * count) {
      throw bad(`tensor ${name} [${shape.join(',')}] does not fit its data_offsets (truncated file?)`);
    }
    const values = new Float32Array(count);
    Buffer.from(values.buffer).set(buf.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { shape, values });
  }
  // Structure first (a truncated file says so), then the values themselves.
  if (meta.sha256 !== undefined || Number(meta.version) >= 2) {
    if (typeof meta.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(meta.sha256)) throw bad('the header lacks a valid __metadata__.sha256 checksum');
    const actual = sha256(buf.subarray(dataStart));
    if (actual !== meta.sha256) throw bad(`checksum mismatch: the weights are corrupted (SHA-256 ${actual.slice(0, 12)}…, expected ${meta.sha256.slice(0, 12)}…)`);
  }
  return { metadata, tensors };
}

/**
 * Gives a file written before checksums (format version 1) a checksum, in place (atomically):
 * the same tensors and metadata, written as the current version. Returns false when the file has
 * one already. Only for files known to be intact: the values are taken as they are.
 */
export function resealStyleModel(file: string): boolean {
  const { metadata, tensors } = readStyleModel(file);
  const header = readHeader(file);
  if (header.sha256 !== undefined) return false;
  writeStyleModel(file, { ...metadata, version: STYLE_MODEL_VERSION }, tensors);
  return true;
}

function readHeader(file: string): Record<string, unknown> {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  return JSON.parse(buf.subarray(8, 8 + n).toString('utf8')).__metadata__;
}

/** Reads only the metadata of a model file (its header), without the weights. */
export function readStyleModelMetadata(file: string): StyleModelMetadata {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new NstError(`cannot read style model ${file}: ${firstLine(err)}`);
  }
  try {
    const prefix = Buffer.alloc(8);
    const size = fs.fstatSync(fd).size;
    if (fs.readSync(fd, prefix, 0, 8, 0) !== 8) throw new NstError(`${file} is not a valid style model: the file is too short`);
    const n = prefix.readBigUInt64LE(0);
    if (n > BigInt(size - 8) || n < 2n) throw new NstError(`${file} is not a valid style model: the header length is out of range`);
    const header = Buffer.alloc(Number(n));
    fs.readSync(fd, header, 0, header.length, 8);
    let meta: any;
    try {
      meta = JSON.parse(header.toString('utf8')).__metadata__;
    } catch {
      throw new NstError(`${file} is not a valid style model: the header is not JSON`);
    }
    if (meta?.format !== STYLE_MODEL_FORMAT || typeof meta.nst !== 'string') {
      throw new NstError(`${file} is not a valid style model: the header lacks __metadata__.format = '${STYLE_MODEL_FORMAT}'`);
    }
    try {
      return JSON.parse(meta.nst) as StyleModelMetadata;
    } catch {
      throw new NstError(`${file} is not a valid style model: the metadata is not JSON`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Checks the metadata's architecture against the variants this program knows. */
export function checkArchitecture(file: string, architecture: unknown): TransformerVariant {
  const a = architecture as Partial<TransformerArchitecture> | undefined;
  const variant = a?.variant as TransformerVariant;
  if (!a || !TRANSFORMER_VARIANTS.includes(variant)) {
    throw new NstError(`${file}: unknown architecture '${a?.variant}' (expected ${TRANSFORMER_VARIANTS.join(' or ')})`);
  }
  const expected = architectureOf(variant);
  for (const key of Object.keys(expected) as (keyof TransformerArchitecture)[]) {
    if (JSON.stringify(a[key]) !== JSON.stringify(expected[key])) {
      throw new NstError(`${file}: architecture ${variant} with ${key} = ${JSON.stringify(a[key])} is not supported (expected ${JSON.stringify(expected[key])})`);
    }
  }
  return variant;
}

export interface LoadedStyleModel {
  net: TransformerNet;
  /** Metadata of our format; for a deeplearn.js checkpoint, a description made up from its folder. */
  metadata: StyleModelMetadata;
  kind: 'nst' | 'deeplearn';
  source: string;
}

/**
 * Loads a style network from a model file of our format (a checkpoint works too) or from a
 * deeplearn.js checkpoint folder (the pretrained ml5.js networks).
 */
export function loadStyleModel(source: string, device = 'cpu'): LoadedStyleModel {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch {
    throw new NstError(`style model ${source} does not exist`);
  }
  if (stat.isDirectory()) {
    if (!isDeeplearnCheckpoint(source)) {
      throw new NstError(`${source} is a folder without manifest.json (expected a ${STYLE_MODEL_EXTENSION} model file or a deeplearn.js checkpoint folder)`);
    }
    const net = loadDeeplearnTransformer(source, device);
    const metadata: StyleModelMetadata = {
      format: STYLE_MODEL_FORMAT,
      version: STYLE_MODEL_VERSION,
      architecture: net.architecture,
      style: { name: path.basename(path.resolve(source)) },
      created: fs.statSync(path.join(source, 'manifest.json')).mtime.toISOString(),
      software: 'ml5.js / deeplearn.js checkpoint',
    };
    return { net, metadata, kind: 'deeplearn', source };
  }
  const { metadata, tensors } = readStyleModel(source);
  const variant = checkArchitecture(source, metadata.architecture);
  const net = TransformerNet.fromWeights(variant, tensors, { device, source });
  return { net, metadata, kind: 'nst', source };
}

/** Writes the parts of a file atomically (src/util/atomic-write.ts); failures are one-line NstErrors. */
function writeModelFile(file: string, bytes: Buffer): void {
  try {
    writeFileAtomicSync(file, bytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'the folder does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : firstLine(err);
    throw new NstError(`cannot write ${file}: ${reason}`);
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
