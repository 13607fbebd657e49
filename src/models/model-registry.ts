/**
 * Installed models: their metadata, their checksums, installing a converted VGG19, and the listing
 * behind `nst models list`.
 *
 * An installed VGG19 is a folder `<model-dir>/vgg19/` in TensorFlow.js layers format (what
 * Vgg19.load reads) plus two files of ours:
 *   nst-model.json   where the weights come from and which preprocessing they expect (ModelMetadata);
 *   SHA256SUMS       the SHA-256 of every other file (`sha256sum` format), checked on every load.
 * A folder without nst-model.json (such as ../shared/models/vgg19) is the Keras port of the Caffe
 * weights and expects Caffe preprocessing.
 *
 * Installing is atomic: the files are written and checked in a hidden folder beside the target,
 * then renamed into place, so a failure or an interruption never leaves a half-written model.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../errors';
import { modelDirSearchOrder } from './model-dir';
import { describePreprocessing, Preprocessing, PREPROCESSINGS } from './preprocess';
import { readLayersModelWeights } from './tfjs-layers';
import { readStyleModelMetadata } from './style-model-format';

export const MODEL_METADATA_FILE = 'nst-model.json';
export const CHECKSUMS_FILE = 'SHA256SUMS';
export const MODEL_METADATA_FORMAT = 'nst-model';
export const MODEL_METADATA_VERSION = 1;
/** Shard size of the weight files we write (TensorFlow.js's default). */
const SHARD_BYTES = 4 * 1024 * 1024;

/** Channels of VGG19's 16 convolutions (configuration E of the paper), block by block. */
const VGG19_BLOCKS = [
  [64, 64],
  [128, 128],
  [256, 256, 256, 256],
  [512, 512, 512, 512],
  [512, 512, 512, 512],
];

/** One convolution of VGG19: its Keras name, its index in torchvision's `features`, its channels. */
export interface Vgg19Conv {
  keras: string;
  torchIndex: number;
  channels: number;
}

/** The 16 convolutions in forward order (torchvision indices 0, 2, 5, 7, 10, … 34). */
export const VGG19_CONVS: readonly Vgg19Conv[] = (() => {
  const out: Vgg19Conv[] = [];
  let index = 0;
  VGG19_BLOCKS.forEach((block, b) => {
    block.forEach((channels, i) => {
      out.push({ keras: `block${b + 1}_conv${i + 1}`, torchIndex: index, channels });
      index += 2; // conv, relu
    });
    index += 1; // pool
  });
  return out;
})();

/** Where a model's weights come from. */
export interface ModelSource {
  /** 'keras-h5' (a Keras .h5 weights file), 'torch-pth' (a PyTorch state dict). */
  kind: 'keras-h5' | 'torch-pth';
  /** File name of the source (no directory). */
  file: string;
  /** Where it was downloaded from, for `nst models fetch`. */
  url?: string;
  bytes: number;
  sha256: string;
  md5?: string;
  /** The container format, e.g. 'HDF5', 'torch.save zip', 'torch.save legacy'. */
  format?: string;
  /** What the file was recognised as, and how (e.g. 'Keras applications VGG19 notop: MD5 matches Keras's pin'). */
  identified?: string;
  /** The digest that was checked against a pinned value, if any (e.g. 'md5+size (Keras pin)', 'sha256 (--sha256)'). */
  pinned?: string;
}

/** Contents of nst-model.json. */
export interface ModelMetadata {
  format: typeof MODEL_METADATA_FORMAT;
  version: number;
  model: 'vgg19';
  preprocessing: Preprocessing;
  /** preprocessing in words. */
  input: string;
  source: ModelSource;
  weights: {
    layers: number;
    parameters: number;
    /** Output channels of each convolution (the standard VGG19 has 64, 64, 128, … 512). */
    channels: number[];
    /** SHA-256 of all weight values in manifest order (the shards concatenated). */
    sha256: string;
  };
  /** ISO time of the conversion. */
  created: string;
  createdBy: string;
}

/** One converted convolution, ready to be written: Keras name, kernel HWIO [3,3,in,out], bias [out]. */
export interface ConvWeights {
  keras: string;
  kernel: Float32Array;
  kernelShape: number[];
  bias: Float32Array;
}

// ---------------------------------------------------------------------------------------------
// Digests and checksum files

export interface FileDigest {
  bytes: number;
  sha256: string;
  md5: string;
}

/** SHA-256 and MD5 of a file, read in 4 MiB pieces. */
export function digestFile(file: string): FileDigest {
  const sha = crypto.createHash('sha256');
  const md5 = crypto.createHash('md5');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  let bytes = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      sha.update(buf.subarray(0, n));
      md5.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { bytes, sha256: sha.digest('hex'), md5: md5.digest('hex') };
}

/** Parses a `sha256sum` listing ("<hex>  ./file") in `dir` into file name -> digest (empty if none). */
export function readChecksums(dir: string): Map<string, string> {
  const sums = new Map<string, string>();
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, CHECKSUMS_FILE), 'utf8');
  } catch {
    return sums;
  }
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(?:\.\/)?(.+)$/.exec(line.trim());
    if (m) sums.set(m[2], m[1].toLowerCase());
  }
  return sums;
}

export interface ChecksumStatus {
  /** ok: every listed file matches; damaged: a file differs; incomplete: a listed file is missing; none: no SHA256SUMS. */
  status: 'ok' | 'damaged' | 'incomplete' | 'none';
  detail: string;
  files: number;
}

/** Checks every file listed in `dir`/SHA256SUMS. */
export function verifyChecksums(dir: string): ChecksumStatus {
  const sums = readChecksums(dir);
  if (sums.size === 0) return { status: 'none', detail: 'no SHA256SUMS', files: 0 };
  for (const [name, expected] of sums) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) return { status: 'incomplete', detail: `${name} is missing`, files: sums.size };
    if (digestFile(file).sha256 !== expected) return { status: 'damaged', detail: `${name} does not match SHA256SUMS`, files: sums.size };
  }
  return { status: 'ok', detail: `${sums.size} files match SHA256SUMS`, files: sums.size };
}

// ---------------------------------------------------------------------------------------------
// Reading an installed VGG19's metadata

export interface Vgg19Info {
  preprocessing: Preprocessing;
  metadata?: ModelMetadata;
}

/**
 * What Vgg19.load needs besides the weights: the preprocessing the weights expect, from
 * nst-model.json (Caffe when there is none). model.json and nst-model.json are checked against
 * SHA256SUMS when it lists them (the weight shards are checked by readLayersModelWeights).
 */
export function readVgg19Info(modelJson: string): Vgg19Info {
  const dir = path.dirname(modelJson);
  const sums = readChecksums(dir);
  for (const name of [path.basename(modelJson), MODEL_METADATA_FILE]) {
    const expected = sums.get(name);
    const file = path.join(dir, name);
    if (!expected) continue;
    if (!fs.existsSync(file)) throw new NstError(`${file} is missing (listed in ${CHECKSUMS_FILE}); reinstall the model`);
    if (digestFile(file).sha256 !== expected) {
      throw new NstError(`${file} is damaged (SHA-256 mismatch with ${CHECKSUMS_FILE}); reinstall the model`);
    }
  }
  const metaFile = path.join(dir, MODEL_METADATA_FILE);
  if (!fs.existsSync(metaFile)) return { preprocessing: 'caffe' };
  const metadata = readModelMetadata(metaFile);
  return { preprocessing: metadata.preprocessing, metadata };
}

/** Reads and validates nst-model.json. */
export function readModelMetadata(file: string): ModelMetadata {
  let meta: ModelMetadata;
  try {
    meta = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelMetadata;
  } catch (err) {
    throw new NstError(`cannot read ${file}: ${oneLine(err)}`);
  }
  if (!meta || meta.format !== MODEL_METADATA_FORMAT) throw new NstError(`${file} is not an nst model metadata file`);
  if (meta.version > MODEL_METADATA_VERSION) {
    throw new NstError(`${file} has version ${meta.version}; this nst reads version ${MODEL_METADATA_VERSION}: upgrade nst`);
  }
  if (!PREPROCESSINGS.includes(meta.preprocessing)) {
    throw new NstError(`${file}: unknown preprocessing '${String(meta.preprocessing)}' (expected ${PREPROCESSINGS.join(' or ')})`);
  }
  return meta;
}

// ---------------------------------------------------------------------------------------------
// Installing

/**
 * Checks that a converted network has VGG19's layout: the 16 convolutions in order, 3×3 kernels,
 * 3 input channels, each layer's input the previous layer's output, biases of the output size.
 * Channel counts may differ from the standard 64…512 (the tests use reduced ones).
 */
export function checkVgg19Layout(convs: ConvWeights[], source: string): void {
  if (convs.length !== VGG19_CONVS.length) {
    throw new NstError(`${source} has ${convs.length} convolutions, VGG19 has ${VGG19_CONVS.length}`);
  }
  let inChannels = 3;
  convs.forEach((c, i) => {
    const want = VGG19_CONVS[i].keras;
    if (c.keras !== want) throw new NstError(`${source}: convolution ${i + 1} is ${c.keras}, expected ${want}`);
    const [kh, kw, cin, cout] = c.kernelShape;
    if (c.kernelShape.length !== 4 || kh !== 3 || kw !== 3 || cin !== inChannels || !(cout > 0)) {
      throw new NstError(`${source}: ${want} has kernel shape [${c.kernelShape}], expected [3,3,${inChannels},out] (not a VGG19?)`);
    }
    if (c.kernel.length !== 9 * cin * cout) throw new NstError(`${source}: ${want} kernel has ${c.kernel.length} values, its shape says ${9 * cin * cout}`);
    if (c.bias.length !== cout) throw new NstError(`${source}: ${want} has ${c.bias.length} biases for ${cout} output channels`);
    for (const arr of [c.kernel, c.bias]) {
      for (let k = 0; k < arr.length; k++) {
        if (!Number.isFinite(arr[k])) throw new NstError(`${source}: ${want} holds a non-finite value (damaged file?)`);
      }
    }
    inChannels = cout;
  });
}

/** A one-line error for a file-system failure while writing into `dir`. */
export function writeError(err: unknown, dir: string): NstError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    const why = code === 'EROFS' ? 'read-only file system' : 'permission denied';
    return new NstError(`cannot write to the model directory ${dir} (${why}); choose another with --model-dir or NST_MODEL_DIR`);
  }
  if (code === 'ENOSPC') return new NstError(`no space left on the device of ${dir}`);
  if (code === 'ENOTDIR' || code === 'EEXIST') return new NstError(`cannot use ${dir} as a model directory: a file is in the way`);
  return new NstError(`cannot write to the model directory ${dir}: ${oneLine(err)}`);
}

/** Creates `dir` if needed and checks that files can be created in it (one-line error otherwise). */
export function ensureWritableDir(dir: string): void {
  const probe = path.join(dir, `.nst-write-test-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(probe, '');
    fs.unlinkSync(probe);
  } catch (err) {
    throw writeError(err, dir);
  }
}

export interface InstallOptions {
  /** Replace an installed model. */
  force?: boolean;
}

export interface InstallResult {
  dir: string;
  files: string[];
  bytes: number;
  metadata: ModelMetadata;
}

/** The model folder of `name` in `modelDir`, and whether a model is installed there. */
export function installedModelPath(modelDir: string, name = 'vgg19'): { dir: string; installed: boolean } {
  const dir = path.join(modelDir, name);
  return { dir, installed: fs.existsSync(path.join(dir, 'model.json')) };
}

/** Throws unless `modelDir` can take a VGG19 (writable; no model there, or `force`). */
export function checkCanInstall(modelDir: string, options: InstallOptions = {}): void {
  const { dir, installed } = installedModelPath(modelDir);
  if (installed && !options.force) throw new NstError(`${dir} already holds a VGG19; pass --force to replace it`);
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new NstError(`cannot install into ${dir}: a file is in the way`);
  ensureWritableDir(modelDir);
}

/**
 * Writes a VGG19 into `<modelDir>/vgg19/` in TF.js layers format with nst-model.json and
 * SHA256SUMS, atomically (see the file comment). Values are stored exactly as given.
 */
export function installVgg19(
  modelDir: string,
  convs: ConvWeights[],
  metadata: Omit<ModelMetadata, 'format' | 'version' | 'model' | 'weights' | 'created' | 'createdBy' | 'input'>,
  options: InstallOptions = {},
): InstallResult {
  checkVgg19Layout(convs, metadata.source.file);
  checkCanInstall(modelDir, options);
  const target = path.join(modelDir, 'vgg19');
  const tag = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const tmp = path.join(modelDir, `.vgg19.partial-${tag}`);
  const old = path.join(modelDir, `.vgg19.old-${tag}`);

  // All values in manifest order: kernel then bias of each convolution.
  const manifestWeights: { name: string; shape: number[]; dtype: 'float32' }[] = [];
  const parts: Buffer[] = [];
  let parameters = 0;
  for (const c of convs) {
    manifestWeights.push({ name: `${c.keras}/kernel`, shape: c.kernelShape, dtype: 'float32' });
    manifestWeights.push({ name: `${c.keras}/bias`, shape: [c.bias.length], dtype: 'float32' });
    parts.push(float32Bytes(c.kernel), float32Bytes(c.bias));
    parameters += c.kernel.length + c.bias.length;
  }
  const all = Buffer.concat(parts);
  const shardCount = Math.max(1, Math.ceil(all.length / SHARD_BYTES));
  const shardNames = Array.from({ length: shardCount }, (_, i) => `group1-shard${i + 1}of${shardCount}.bin`);
  const fullMeta: ModelMetadata = {
    format: MODEL_METADATA_FORMAT,
    version: MODEL_METADATA_VERSION,
    model: 'vgg19',
    preprocessing: metadata.preprocessing,
    input: describePreprocessing(metadata.preprocessing),
    source: metadata.source,
    weights: {
      layers: convs.length,
      parameters,
      channels: convs.map((c) => c.kernelShape[3]),
      sha256: crypto.createHash('sha256').update(all).digest('hex'),
    },
    created: new Date().toISOString(),
    createdBy: `nst ${packageVersion()}`,
  };
  const modelJson = {
    format: 'layers-model',
    generatedBy: `nst ${packageVersion()}`,
    convertedBy: `nst models (${metadata.source.kind} ${metadata.source.file})`,
    modelTopology: kerasTopology(convs),
    weightsManifest: [{ paths: shardNames, weights: manifestWeights }],
  };

  let movedOld = false;
  try {
    fs.mkdirSync(tmp);
    const written: [string, Buffer][] = shardNames.map((name, i) => [name, all.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES)]);
    written.push(['model.json', Buffer.from(JSON.stringify(modelJson))]);
    written.push([MODEL_METADATA_FILE, Buffer.from(JSON.stringify(fullMeta, null, 1) + '\n')]);
    const sums: string[] = [];
    for (const [name, data] of written) {
      writeFileSynced(path.join(tmp, name), data);
      sums.push(`${crypto.createHash('sha256').update(data).digest('hex')}  ./${name}`);
    }
    writeFileSynced(path.join(tmp, CHECKSUMS_FILE), Buffer.from(sums.join('\n') + '\n'));
    // Read back what was written, through the loader's own reader, before it goes live.
    const back = readLayersModelWeights(path.join(tmp, 'model.json'));
    if (back.size !== manifestWeights.length) throw new Error('the written model reads back incomplete');
    readVgg19Info(path.join(tmp, 'model.json'));

    if (fs.existsSync(target)) {
      if (!options.force) throw new NstError(`${target} already holds a model; pass --force to replace it`);
      fs.renameSync(target, old);
      movedOld = true;
    }
    fs.renameSync(tmp, target);
    syncDir(modelDir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (movedOld && !fs.existsSync(target)) fs.renameSync(old, target);
    if (err instanceof NstError) throw err;
    if ((err as NodeJS.ErrnoException)?.code) throw writeError(err, modelDir);
    throw err;
  }
  if (movedOld) fs.rmSync(old, { recursive: true, force: true });
  const files = [...shardNames, 'model.json', MODEL_METADATA_FILE, CHECKSUMS_FILE];
  const bytes = files.reduce((n, f) => n + fs.statSync(path.join(target, f)).size, 0);
  return { dir: target, files, bytes, metadata: fullMeta };
}

function float32Bytes(values: Float32Array): Buffer {
  // Little-endian float32, as TF.js stores them (every platform Node runs on is little-endian).
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

function writeFileSynced(file: string, data: Buffer): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Not every platform can fsync a directory; the rename itself is atomic.
  }
}

/** A Keras functional-model topology of VGG19 "notop" with the given channels (for TF.js readers). */
function kerasTopology(convs: ConvWeights[]): unknown {
  const layers: unknown[] = [
    { class_name: 'InputLayer', name: 'input_1', inbound_nodes: [], config: { batch_input_shape: [null, null, null, 3], dtype: 'float32', sparse: false, name: 'input_1' } },
  ];
  let previous = 'input_1';
  let block = 1;
  for (const c of convs) {
    const b = Number(/^block(\d+)_/.exec(c.keras)?.[1]);
    if (b !== block) {
      const pool = `block${block}_pool`;
      layers.push(poolLayer(pool, previous));
      previous = pool;
      block = b;
    }
    layers.push({
      class_name: 'Conv2D',
      name: c.keras,
      inbound_nodes: [[[previous, 0, 0, {}]]],
      config: {
        name: c.keras, trainable: false, dtype: 'float32', filters: c.kernelShape[3], kernel_size: [3, 3], strides: [1, 1],
        padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'relu', use_bias: true,
      },
    });
    previous = c.keras;
  }
  const last = `block${block}_pool`;
  layers.push(poolLayer(last, previous));
  return {
    class_name: 'Model',
    config: { name: 'vgg19', layers, input_layers: [['input_1', 0, 0]], output_layers: [[last, 0, 0]] },
    keras_version: '2.2.4',
    backend: 'tensorflow',
  };
}

function poolLayer(name: string, input: string): unknown {
  return {
    class_name: 'MaxPooling2D',
    name,
    inbound_nodes: [[[input, 0, 0, {}]]],
    config: { name, trainable: false, dtype: 'float32', pool_size: [2, 2], strides: [2, 2], padding: 'valid', data_format: 'channels_last' },
  };
}

let version: string | undefined;
function packageVersion(): string {
  if (version) return version;
  try {
    version = String(require('../../../package.json').version);
  } catch {
    version = 'unknown';
  }
  return version;
}

// ---------------------------------------------------------------------------------------------
// Listing

export interface InstalledModel {
  /** 'vgg19' or 'fast-style/<name>'. */
  name: string;
  kind: 'vgg19' | 'style';
  path: string;
  /** The model directory it is in, and why that directory is searched. */
  modelDir: string;
  origin: string;
  /** Whether it is the one a command would use (the first in the search order). */
  inUse: boolean;
  bytes: number;
  checksums: ChecksumStatus;
  /** For VGG19: the input convention of its weights. */
  preprocessing?: Preprocessing;
  provenance: string;
}

export interface ModelListing {
  searchOrder: { dir: string; origin: string; exists: boolean }[];
  models: InstalledModel[];
}

/** Everything installed in the model directories (only `explicit` when given). */
export function listInstalledModels(explicit?: string, options: { verify?: boolean } = {}): ModelListing {
  const verify = options.verify ?? true;
  const order = modelDirSearchOrder(explicit);
  const models: InstalledModel[] = [];
  const seen = new Set<string>();
  for (const { dir, origin } of order) {
    const vgg = path.join(dir, 'vgg19');
    if (fs.existsSync(path.join(vgg, 'model.json'))) {
      models.push({
        name: 'vgg19',
        kind: 'vgg19',
        path: vgg,
        modelDir: dir,
        origin,
        inUse: !seen.has('vgg19'),
        bytes: folderBytes(vgg),
        checksums: verify ? verifyChecksums(vgg) : { status: 'none', detail: 'not verified', files: 0 },
        ...describeVgg19(vgg),
      });
      seen.add('vgg19');
    }
    const stylesDir = path.join(dir, 'fast-style');
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(stylesDir, { withFileTypes: true });
    } catch {
      // no styles here
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(stylesDir, e.name);
      let styleName: string;
      let provenance: string;
      let checksums: ChecksumStatus;
      if (e.isDirectory() && fs.existsSync(path.join(full, 'manifest.json'))) {
        styleName = e.name;
        provenance = 'pretrained deeplearn.js checkpoint (ml5.js)';
        checksums = verify ? verifyChecksums(full) : { status: 'none', detail: 'not verified', files: 0 };
      } else if (e.isFile() && e.name.endsWith('.safetensors') && !e.name.endsWith('.ckpt.safetensors')) {
        styleName = e.name.slice(0, -'.safetensors'.length);
        provenance = describeStyleFile(full);
        checksums = { status: 'none', detail: 'no checksum recorded', files: 0 };
      } else {
        continue;
      }
      const name = `fast-style/${styleName}`;
      models.push({
        name,
        kind: 'style',
        path: full,
        modelDir: dir,
        origin,
        inUse: !seen.has(name),
        bytes: e.isDirectory() ? folderBytes(full) : fs.statSync(full).size,
        checksums,
        provenance,
      });
      seen.add(name);
    }
  }
  return { searchOrder: order.map((c) => ({ ...c, exists: fs.existsSync(c.dir) })), models };
}

function describeVgg19(dir: string): { preprocessing?: Preprocessing; provenance: string } {
  const metaFile = path.join(dir, MODEL_METADATA_FILE);
  if (fs.existsSync(metaFile)) {
    try {
      const m = readModelMetadata(metaFile);
      const s = m.source;
      const what = [s.identified ?? `${s.kind} ${s.file}`, s.url ? `from ${s.url}` : `from ${s.file}`, `source sha256 ${s.sha256.slice(0, 12)}…`];
      if (m.weights.channels.some((c, i) => c !== VGG19_CONVS[i]?.channels)) what.push(`reduced channels ${m.weights.channels.join(',')}`);
      return { preprocessing: m.preprocessing, provenance: `${what.join(', ')}; converted ${m.created.slice(0, 10)} by ${m.createdBy}` };
    } catch (err) {
      return { provenance: `unreadable ${MODEL_METADATA_FILE}: ${oneLine(err)}` };
    }
  }
  let provenance = 'TF.js layers model without nst metadata (Caffe preprocessing assumed)';
  try {
    const model = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { generatedBy?: string; convertedBy?: string };
    const parts = [model.generatedBy && `generated by ${model.generatedBy}`, model.convertedBy && `converted: ${model.convertedBy}`].filter(Boolean);
    if (parts.length) provenance = parts.join('; ');
  } catch {
    // described as above
  }
  if (fs.existsSync(path.join(dir, 'provenance.json'))) provenance += '; per-layer provenance in provenance.json';
  return { preprocessing: 'caffe', provenance };
}

function describeStyleFile(file: string): string {
  try {
    const m = readStyleModelMetadata(file);
    return `nst style model${m.style?.name ? ` '${m.style.name}'` : ''}${m.training ? ', trained with nst train' : ''}`;
  } catch (err) {
    return `unreadable: ${oneLine(err)}`;
  }
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile()) total += fs.statSync(path.join(dir, e.name)).size;
  }
  return total;
}

export function oneLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
