/**
 * Importing a Keras VGG19 weights file (.h5, HDF5) into the project's format.
 *
 * The reference file is Keras's ImageNet VGG19 without the classifier,
 * vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 (KERAS_VGG19_NOTOP): the Keras port of the
 * original Caffe weights, the same values as ../shared/models/vgg19, expecting Caffe preprocessing.
 * Its layout (Keras 1 era): one group per layer, `block1_conv1/block1_conv1_W_1:0` (kernel,
 * [3,3,in,out]) and `block1_conv1/block1_conv1_b_1:0` (bias), listed in the group's `weight_names`
 * attribute. Files saved by later Keras versions are read too: `block1_conv1/block1_conv1/kernel:0`
 * (Keras 2), a whole model's `model_weights/…`, and `layers/block1_conv1/vars/0` (Keras 3). The
 * classifier layers of a "with top" file are ignored.
 *
 * HDF5 is read with h5wasm (the HDF5 C library compiled to WebAssembly).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../errors';
import {
  ConvWeights,
  digestFile,
  FileDigest,
  installVgg19,
  InstallResult,
  ModelSource,
  oneLine,
  VGG19_CONVS,
} from './model-registry';
import { Preprocessing } from './preprocess';

/** Keras's own VGG19 "notop" file: where keras.applications downloads it, its size and its MD5 pin. */
export const KERAS_VGG19_NOTOP = {
  file: 'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5',
  url: 'https://storage.googleapis.com/tensorflow/keras-applications/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5',
  bytes: 80134624,
  /** keras.applications.vgg19 pins this MD5 (file_hash='253f8cb5…') for WEIGHTS_PATH_NO_TOP. */
  md5: '253f8cb515780f3b799900260a226db6',
  /**
   * A SHA-256 of the file from an authoritative source. Keras publishes only the MD5 above; no
   * SHA-256 could be confirmed without downloading the file, so none is pinned (see docs/models.md):
   * the download is checked against the size and the MD5, and its SHA-256 is recorded.
   */
  sha256: undefined as string | undefined,
} as const;

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

// Minimal typing of the parts of h5wasm used here.
interface H5Attribute {
  value: unknown;
}
interface H5Node {
  attrs: Record<string, H5Attribute>;
}
interface H5Group extends H5Node {
  keys(): string[];
  get(name: string): H5Group | H5Dataset | null | undefined;
}
interface H5Dataset extends H5Node {
  shape: number[] | null;
  dtype: unknown;
  value: unknown;
}
interface H5File extends H5Group {
  close(): void;
}
interface H5Wasm {
  ready: Promise<{ activate_throwing_error_handler(): number }>;
  File: new (file: string, mode: string) => H5File;
  Group: abstract new (...args: never[]) => H5Group;
  Dataset: abstract new (...args: never[]) => H5Dataset;
}

let h5wasmModule: Promise<H5Wasm> | undefined;

/** h5wasm (an ES module) loaded once, with HDF5's error printing turned into thrown errors. */
export function loadH5wasm(): Promise<H5Wasm> {
  if (!h5wasmModule) {
    // A real dynamic import: TypeScript's CommonJS output would turn import() into require().
    const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<H5Wasm>;
    h5wasmModule = dynamicImport('h5wasm/node').then(async (h5) => {
      const module = await h5.ready;
      module.activate_throwing_error_handler();
      return h5;
    });
  }
  return h5wasmModule;
}

/** Whether `file` has the HDF5 signature (at offset 0, or after a user block of 512, 1024, … bytes). */
export function isHdf5File(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(8);
    for (let offset = 0; offset + 8 <= size; offset = offset === 0 ? 512 : offset * 2) {
      if (fs.readSync(fd, buf, 0, 8, offset) === 8 && buf.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/** The last 'minor:' reason of an HDF5 error stack, e.g. 'Not an HDF5 file', 'Truncated file'. */
function hdf5Reason(err: unknown): string {
  const text = String((err as Error)?.message ?? err);
  const minors = [...text.matchAll(/minor:\s*(.+)/g)].map((m) => m[1].trim());
  const detail = [...text.matchAll(/\): (.+)/g)].map((m) => m[1].trim());
  return minors.length ? `${minors[minors.length - 1]}${detail.length ? `: ${detail[detail.length - 1]}` : ''}` : oneLine(err);
}

/** Reads the 16 convolutions of a Keras VGG19 weights file (kernels HWIO, exactly as stored). */
export async function readKerasVgg19(file: string): Promise<{ convs: ConvWeights[]; notes: string[] }> {
  try {
    if (!fs.statSync(file).isFile()) throw new NstError(`${file} is not a file`);
  } catch (err) {
    if (err instanceof NstError) throw err;
    throw new NstError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : oneLine(err)}`);
  }
  if (!isHdf5File(file)) throw new NstError(`${file} is not an HDF5 file (no HDF5 signature); expected a Keras .h5 weights file`);
  const h5 = await loadH5wasm();
  let f: H5File;
  try {
    f = new h5.File(file, 'r');
  } catch (err) {
    throw new NstError(`cannot read ${file} as HDF5 (${hdf5Reason(err)}); the file is truncated or damaged`);
  }
  try {
    const isGroup = (x: unknown): x is H5Group => x instanceof h5.Group;
    const isDataset = (x: unknown): x is H5Dataset => x instanceof h5.Dataset;
    const get = (g: H5Group, name: string): H5Group | H5Dataset | null => {
      try {
        return g.get(name) ?? null;
      } catch (err) {
        throw new NstError(`cannot read ${name} in ${file} (${hdf5Reason(err)}); the file is truncated or damaged`);
      }
    };
    let root: H5Group = f;
    const mw = get(f, 'model_weights');
    if (isGroup(mw)) root = mw; // a whole saved model: its weights are under model_weights/
    const convs: ConvWeights[] = [];
    const notes: string[] = [];
    for (const conv of VGG19_CONVS) {
      const group = [get(root, conv.keras), isGroup(get(root, 'layers')) ? get(root, `layers/${conv.keras}`) : null].find(isGroup);
      if (!group) {
        const layers = root.keys().filter((k) => !k.startsWith('_'));
        const hint = layers.some((k) => /^block\d_conv\d$/.test(k)) ? 'incomplete VGG19 weights' : `layers: ${layers.slice(0, 6).join(', ') || 'none'}`;
        throw new NstError(`${file} lacks layer ${conv.keras} (${hint}); expected Keras VGG19 weights`);
      }
      const datasets = layerDatasets(group, get, isGroup, isDataset);
      const kernel = datasets.find((d) => d.shape?.length === 4);
      const bias = datasets.find((d) => d.shape?.length === 1);
      if (!kernel || !bias) throw new NstError(`${file}: layer ${conv.keras} has no 4-D kernel and 1-D bias (not a convolution)`);
      const shape = kernel.shape!;
      if (shape[0] !== 3 && shape[2] === 3 && shape[3] === 3) {
        throw new NstError(`${file}: ${conv.keras} has channels-first (Theano) kernels [${shape}]; use the tf_dim_ordering_tf_kernels file`);
      }
      const kernelValues = toFloat32(kernel, `${conv.keras} kernel`, file, notes);
      const biasValues = toFloat32(bias, `${conv.keras} bias`, file, notes);
      convs.push({ keras: conv.keras, kernel: kernelValues, kernelShape: [...shape], bias: biasValues });
    }
    if (isGroup(get(root, 'fc1')) || isGroup(get(root, 'predictions'))) notes.push('the classifier layers (fc1, fc2, predictions) were ignored');
    return { convs, notes: [...new Set(notes)] };
  } finally {
    f.close();
  }
}

/** The datasets of a layer group: those named by its weight_names attribute, else all below it. */
function layerDatasets(
  group: H5Group,
  get: (g: H5Group, name: string) => H5Group | H5Dataset | null,
  isGroup: (x: unknown) => x is H5Group,
  isDataset: (x: unknown) => x is H5Dataset,
): H5Dataset[] {
  const names = group.attrs?.weight_names?.value;
  const list = Array.isArray(names) ? names.map(String) : typeof names === 'string' ? [names] : [];
  const named = list.map((n) => get(group, n)).filter(isDataset);
  if (named.length) return named;
  const out: H5Dataset[] = [];
  const walk = (g: H5Group, depth: number) => {
    for (const key of g.keys()) {
      const child = get(g, key);
      if (isDataset(child)) out.push(child);
      else if (isGroup(child) && depth < 4) walk(child, depth + 1);
    }
  };
  walk(group, 0);
  return out;
}

function toFloat32(d: H5Dataset, what: string, file: string, notes: string[]): Float32Array {
  let value: unknown;
  try {
    value = d.value;
  } catch (err) {
    throw new NstError(`cannot read ${what} of ${file} (${hdf5Reason(err)}); the file is truncated or damaged`);
  }
  const count = (d.shape ?? []).reduce((a, b) => a * b, 1);
  if (value instanceof Float32Array && value.length === count) return new Float32Array(value);
  if (value instanceof Float64Array && value.length === count) {
    notes.push('float64 weights were rounded to float32');
    return Float32Array.from(value);
  }
  throw new NstError(`${file}: ${what} is not a float32 array of ${count} values (dtype ${JSON.stringify(d.dtype)})`);
}

export interface ImportOptions {
  /** The model directory to install into. */
  modelDir: string;
  force?: boolean;
  /** The preprocessing the weights expect; Keras VGG19 weights always expect Caffe's. */
  preprocessing?: Preprocessing;
  /** Known facts about the source (a download's URL and checked digest). */
  source?: Partial<ModelSource>;
  /** The file's digest, if already computed. */
  digest?: FileDigest;
}

/** Converts a Keras VGG19 .h5 into `<modelDir>/vgg19/` (TF.js layers + nst-model.json + SHA256SUMS). */
export async function importKerasH5(file: string, options: ImportOptions): Promise<InstallResult & { notes: string[] }> {
  if (options.preprocessing && options.preprocessing !== 'caffe') {
    throw new NstError(`Keras VGG19 weights expect Caffe preprocessing (BGR, 0–255, mean), not ${options.preprocessing}`);
  }
  const { convs, notes } = await readKerasVgg19(file);
  const digest = options.digest ?? digestFile(file);
  const official = digest.bytes === KERAS_VGG19_NOTOP.bytes && digest.md5 === KERAS_VGG19_NOTOP.md5;
  const source: ModelSource = {
    kind: 'keras-h5',
    file: path.basename(file),
    bytes: digest.bytes,
    sha256: digest.sha256,
    md5: digest.md5,
    format: 'HDF5',
    identified: official
      ? "Keras applications VGG19 notop (Keras port of the Caffe weights): size and MD5 match Keras's pin"
      : 'Keras VGG19 weights (not the Keras applications file: its MD5 differs from the pin)',
    ...options.source,
  };
  const result = installVgg19(options.modelDir, convs, { preprocessing: 'caffe', source }, { force: options.force });
  return { ...result, notes };
}
