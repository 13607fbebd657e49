/**
 * Importing a PyTorch VGG19 state dict (.pth) into the project's format.
 *
 * Two files are known (KNOWN_TORCH_VGG19): torchvision's ImageNet VGG19 (vgg19-dcbb9e9d.pth, trained
 * in PyTorch, expects torchvision preprocessing) and neural-style-pt's vgg19-d01eb7cb.pth (the
 * original Caffe weights converted, expects Caffe preprocessing). Both name the convolutions
 * `features.<i>.weight` [out,in,3,3] and `features.<i>.bias` with i = 0, 2, 5, 7, 10, … 34.
 * A file is recognised by the SHA-256 prefix in its torch.hub name; any other VGG19 state dict is
 * read too when the user says which preprocessing it expects.
 *
 * Reading: a .pth is what torch.save wrote, in one of two formats, both read here in TypeScript:
 *  - zip (PyTorch >= 1.6): `<archive>/data.pkl` (a pickle) and one entry `<archive>/data/<key>`
 *    per storage;
 *  - legacy (PyTorch < 1.6, which is how both files above were published): five pickles in a row
 *    (magic number, protocol version, system info, the object, the storage keys), then each
 *    storage as an int64 element count and its raw bytes.
 * In both, tensors are pickled as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)
 * with the storage a persistent id ('storage', torch.FloatStorage, key, location, numel).
 * libtorch's own reader (torch::pickle_load) is not used: in libtorch 1.13 it cannot read a state
 * dict (it turns collections.OrderedDict into None) and it has no reader for the legacy format.
 * Only the pickle opcodes and globals that torch.save produces are understood; nothing is executed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { NstError } from '../errors';
import { ConvWeights, digestFile, FileDigest, installVgg19, InstallResult, ModelSource, oneLine, VGG19_CONVS } from './model-registry';
import { Preprocessing } from './preprocess';

/** The published PyTorch VGG19 files this importer recognises. */
export const KNOWN_TORCH_VGG19 = [
  {
    hashPrefix: 'dcbb9e9d',
    file: 'vgg19-dcbb9e9d.pth',
    preprocessing: 'torchvision' as Preprocessing,
    what: "torchvision's ImageNet VGG19 (IMAGENET1K_V1)",
    url: 'https://download.pytorch.org/models/vgg19-dcbb9e9d.pth',
    /** torch.hub downloads it as published, so a different SHA-256 means a damaged file. */
    strictName: true,
  },
  {
    hashPrefix: 'd01eb7cb',
    file: 'vgg19-d01eb7cb.pth',
    preprocessing: 'caffe' as Preprocessing,
    what: "neural-style-pt's VGG19 (the original Caffe weights converted to PyTorch)",
    url: 'https://web.eecs.umich.edu/~justincj/models/vgg19-d01eb7cb.pth',
    /** neural-style-pt's download script renames keys and re-saves it, so the local SHA-256 differs. */
    strictName: false,
  },
] as const;

// ---------------------------------------------------------------------------------------------
// Pickle values

class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

class PyTuple {
  constructor(readonly items: unknown[]) {}
}

class PyDict {
  readonly map = new Map<unknown, unknown>();
}

/** An object of a class we do not model (its constructor and arguments, and BUILD's state). */
class PyObject {
  state: unknown = undefined;
  constructor(readonly cls: unknown, readonly args: unknown) {}
}

type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const STORAGE_TYPES: Record<string, [DType, number]> = {
  FloatStorage: ['float32', 4],
  DoubleStorage: ['float64', 8],
  HalfStorage: ['float16', 2],
  BFloat16Storage: ['bfloat16', 2],
  LongStorage: ['int64', 8],
  IntStorage: ['int32', 4],
  ShortStorage: ['int16', 2],
  CharStorage: ['int8', 1],
  ByteStorage: ['uint8', 1],
  BoolStorage: ['bool', 1],
  UntypedStorage: ['uint8', 1],
};

/** A storage referenced by the pickle; where its bytes are is filled in by the container reader. */
interface Storage {
  key: string;
  dtype: DType;
  itemsize: number;
  numel: number;
  /** Read the storage's bytes (set once the container is read). */
  bytes?: () => Buffer;
}

/** A tensor: a view (offset, shape, stride in elements) of a storage. */
export class TensorRef {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
  get dtype(): DType {
    return this.storage.dtype;
  }
}

class PickleError extends Error {}
class NeedMoreBytes extends Error {}

function num(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  throw new PickleError(`${what} is not an integer`);
}

function intList(v: unknown, what: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items) throw new PickleError(`${what} is not a tuple of integers`);
  return items.map((x) => num(x, what));
}

/** What a REDUCE of `fn` on `args` gives: the torch.save globals we know, an opaque PyObject otherwise. */
function call(fn: unknown, args: unknown): unknown {
  const a = args instanceof PyTuple ? args.items : [];
  if (fn instanceof PyGlobal) {
    switch (fn.qualified) {
      case 'collections.OrderedDict': {
        const d = new PyDict();
        const pairs = a[0];
        if (Array.isArray(pairs)) {
          for (const p of pairs) if (p instanceof PyTuple && p.items.length === 2) d.map.set(p.items[0], p.items[1]);
        }
        return d;
      }
      case 'torch._utils._rebuild_tensor':
      case 'torch._utils._rebuild_tensor_v2': {
        const storage = a[0];
        if (!(storage instanceof StorageView)) throw new PickleError(`${fn.qualified} without a storage`);
        return new TensorRef(storage.storage, storage.offset + num(a[1], 'storage offset'), intList(a[2], 'size'), intList(a[3], 'stride'));
      }
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        return a[0];
    }
  }
  return new PyObject(fn, args);
}

/** A storage, or a legacy view into one (elements from `offset`). */
class StorageView {
  constructor(readonly storage: Storage, readonly offset: number) {}
}

/**
 * Runs the pickle in `buf` from `pos` to its STOP. Persistent ids (storages) go to `persistentLoad`.
 * Throws NeedMoreBytes when the pickle runs past the end of `buf`.
 */
function unpickle(buf: Buffer, pos: number, persistentLoad: (pid: unknown) => unknown): { value: unknown; end: number } {
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const need = (n: number) => {
    if (pos + n > buf.length) throw new NeedMoreBytes();
  };
  const u8 = () => (need(1), buf[pos++]);
  const u16 = () => (need(2), (pos += 2), buf.readUInt16LE(pos - 2));
  const u32 = () => (need(4), (pos += 4), buf.readUInt32LE(pos - 4));
  const i32 = () => (need(4), (pos += 4), buf.readInt32LE(pos - 4));
  const u64 = () => (need(8), (pos += 8), num(buf.readBigUInt64LE(pos - 8), 'length'));
  const bytes = (n: number) => (need(n), (pos += n), buf.subarray(pos - n, pos));
  const line = () => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) throw new NeedMoreBytes();
    const s = buf.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };
  const top = () => {
    if (stack.length === 0) throw new PickleError(`stack underflow at byte ${pos}`);
    return stack[stack.length - 1];
  };
  const pop = () => {
    if (stack.length === 0) throw new PickleError(`stack underflow at byte ${pos}`);
    return stack.pop();
  };
  const popMark = () => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) throw new PickleError('MARK missing');
    stack = prev;
    return items;
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (target instanceof PyDict) for (let i = 0; i + 1 < items.length; i += 2) target.map.set(items[i], items[i + 1]);
  };
  const long = (n: number) => {
    const b = bytes(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: bytes(8); break; // FRAME
      case 0x2e: return { value: pop(), end: pos }; // STOP
      case 0x28: metastack.push(stack); stack = []; break; // MARK
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(long(u8())); break; // LONG1
      case 0x8b: stack.push(long(i32())); break; // LONG4
      case 0x49: { // INT (text)
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : parseInt(s, 10));
        break;
      }
      case 0x4c: stack.push(parseInt(line().replace(/L$/, ''), 10)); break; // LONG (text)
      case 0x47: need(8); stack.push(buf.readDoubleBE(pos)); pos += 8; break; // BINFLOAT
      case 0x58: { const n = u32(); stack.push(bytes(n).toString('utf8')); break; } // BINUNICODE
      case 0x8c: { const n = u8(); stack.push(bytes(n).toString('utf8')); break; } // SHORT_BINUNICODE
      case 0x8d: { const n = u64(); stack.push(bytes(n).toString('utf8')); break; } // BINUNICODE8
      case 0x54: { const n = i32(); stack.push(bytes(n).toString('latin1')); break; } // BINSTRING
      case 0x55: { const n = u8(); stack.push(bytes(n).toString('latin1')); break; } // SHORT_BINSTRING
      case 0x42: { const n = u32(); stack.push(Buffer.from(bytes(n))); break; } // BINBYTES
      case 0x43: { const n = u8(); stack.push(Buffer.from(bytes(n))); break; } // SHORT_BINBYTES
      case 0x8e: { const n = u64(); stack.push(Buffer.from(bytes(n))); break; } // BINBYTES8
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: memo.set(parseInt(line(), 10), top()); break; // PUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
        const i = op === 0x68 ? u8() : op === 0x6a ? u32() : parseInt(line(), 10);
        if (!memo.has(i)) throw new PickleError(`memo ${i} missing`);
        stack.push(memo.get(i));
        break;
      }
      case 0x63: { const module = line(); const name = line(); stack.push(new PyGlobal(module, name)); break; } // GLOBAL
      case 0x93: { const name = pop(); const module = pop(); stack.push(new PyGlobal(String(module), String(name))); break; } // STACK_GLOBAL
      case 0x74: { const items = popMark(); stack.push(new PyTuple(items)); break; } // TUPLE (popMark first: it replaces `stack`)
      case 0x85: stack.push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(new PyTuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(new PyTuple([a, b, c])); break; } // TUPLE3
      case 0x6c: { const items = popMark(); stack.push(items); break; } // LIST
      case 0x64: { const d = new PyDict(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x61: { const v = pop(); const l = top(); if (Array.isArray(l)) l.push(v); break; } // APPEND
      case 0x65: { const items = popMark(); const l = top(); if (Array.isArray(l)) l.push(...items); break; } // APPENDS
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); stack.push(new PyObject(cls, args)); break; } // NEWOBJ
      case 0x92: { pop(); const args = pop(); const cls = pop(); stack.push(new PyObject(cls, args)); break; } // NEWOBJ_EX
      case 0x62: { const state = pop(); const obj = top(); if (obj instanceof PyObject) obj.state = state; break; } // BUILD
      case 0x51: stack.push(persistentLoad(pop())); break; // BINPERSID
      case 0x50: stack.push(persistentLoad(line())); break; // PERSID
      case 0x30: if (stack.length) stack.pop(); else popMark(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      default:
        throw new PickleError(`unsupported pickle opcode 0x${op.toString(16)} at byte ${pos - 1}`);
    }
  }
}

/** Makes the persistent-id loader of torch.save pickles; storages are shared by key. */
function storageLoader(storages: Map<string, Storage>): (pid: unknown) => unknown {
  return (pid) => {
    const items = pid instanceof PyTuple ? pid.items : null;
    if (!items || items[0] !== 'storage' || items.length < 5) throw new PickleError('unknown persistent id (not a torch.save file?)');
    const type = items[1];
    const typeName = type instanceof PyGlobal ? type.name : String(type);
    const known = STORAGE_TYPES[typeName];
    if (!known) throw new PickleError(`unknown storage type ${typeName}`);
    const key = String(items[2]);
    let storage = storages.get(key);
    if (!storage) {
      storage = { key, dtype: known[0], itemsize: known[1], numel: num(items[4], 'storage size') };
      storages.set(key, storage);
    }
    // Legacy files may store a view of a larger storage: (view_key, offset, view_size).
    const view = items[5];
    if (view instanceof PyTuple && view.items.length >= 2) return new StorageView(storage, num(view.items[1], 'view offset'));
    return new StorageView(storage, 0);
  };
}

// ---------------------------------------------------------------------------------------------
// Containers

class FileBytes {
  readonly size: number;
  private constructor(readonly fd: number, readonly file: string) {
    this.size = fs.fstatSync(fd).size;
  }
  static open(file: string): FileBytes {
    try {
      const st = fs.statSync(file);
      if (!st.isFile()) throw new NstError(`${file} is not a file`);
      return new FileBytes(fs.openSync(file, 'r'), file);
    } catch (err) {
      if (err instanceof NstError) throw err;
      throw new NstError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : oneLine(err)}`);
    }
  }
  read(pos: number, length: number): Buffer {
    if (pos < 0 || length < 0 || pos + length > this.size) throw new TruncatedError();
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, buf, done, length - done, pos + done);
      if (n <= 0) throw new TruncatedError();
      done += n;
    }
    return buf;
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

class TruncatedError extends Error {}

/** Runs a pickle starting at `pos` of the file, reading more of the file as the pickle needs it. */
function unpickleAt(src: FileBytes, pos: number, persistentLoad: (pid: unknown) => unknown): { value: unknown; end: number } {
  let length = Math.min(src.size - pos, 1 << 20);
  for (;;) {
    const buf = src.read(pos, length);
    try {
      const r = unpickle(buf, 0, persistentLoad);
      return { value: r.value, end: pos + r.end };
    } catch (err) {
      if (!(err instanceof NeedMoreBytes)) throw err;
      if (pos + length >= src.size) throw new TruncatedError();
      length = Math.min(src.size - pos, length * 4);
    }
  }
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  headerOffset: number;
}

function readZipEntries(src: FileBytes): Map<string, ZipEntry> {
  const tailLength = Math.min(src.size, 65535 + 22);
  const tail = src.read(src.size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new TruncatedError();
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    const locatorPos = src.size - tailLength + eocd - 20;
    const locator = src.read(locatorPos, 20);
    if (locator.readUInt32LE(0) !== 0x07064b50) throw new TruncatedError();
    const z64 = src.read(num(locator.readBigUInt64LE(8), 'zip64 offset'), 56);
    if (z64.readUInt32LE(0) !== 0x06064b50) throw new TruncatedError();
    count = num(z64.readBigUInt64LE(32), 'entries');
    cdSize = num(z64.readBigUInt64LE(40), 'size');
    cdOffset = num(z64.readBigUInt64LE(48), 'offset');
  }
  const cd = src.read(cdOffset, cdSize);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw new TruncatedError();
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    const entry: ZipEntry = {
      name: cd.toString('utf8', p + 46, p + 46 + nameLength),
      method: cd.readUInt16LE(p + 10),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      headerOffset: cd.readUInt32LE(p + 42),
    };
    // Zip64: the fields that overflowed are in extra field 0x0001, in this order.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const next = () => {
          const v = num(cd.readBigUInt64LE(q), 'zip64 field');
          q += 8;
          return v;
        };
        if (entry.size === 0xffffffff) entry.size = next();
        if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
        if (entry.headerOffset === 0xffffffff) entry.headerOffset = next();
      }
      e += 4 + len;
    }
    entries.set(entry.name, entry);
    p = extraEnd + commentLength;
  }
  return entries;
}

function readZipEntry(src: FileBytes, entry: ZipEntry): Buffer {
  const header = src.read(entry.headerOffset, 30);
  if (header.readUInt32LE(0) !== 0x04034b50) throw new TruncatedError();
  const start = entry.headerOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  const data = src.read(start, entry.compressedSize);
  if (entry.method === 0) return data;
  if (entry.method === 8) return zlib.inflateRawSync(data);
  throw new PickleError(`zip entry ${entry.name} uses compression method ${entry.method}`);
}

/** The object torch.save wrote in `file`, with its tensors as TensorRef (values read on demand). */
export interface TorchFile {
  format: 'torch.save zip' | 'torch.save legacy';
  value: unknown;
  close(): void;
}

/** Opens a torch.save file (zip or legacy format). Errors are one-line NstErrors. */
export function openTorchFile(file: string): TorchFile {
  const src = FileBytes.open(file);
  const storages = new Map<string, Storage>();
  const load = storageLoader(storages);
  try {
    const head = src.read(0, Math.min(src.size, 512));
    if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) {
      const entries = readZipEntries(src);
      const pkl = [...entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
      if (!pkl) throw new NstError(`${file} is a zip file but not a torch.save file (no data.pkl)`);
      const prefix = pkl.slice(0, -'data.pkl'.length);
      const order = entries.get(`${prefix}byteorder`);
      if (order && readZipEntry(src, order).toString().trim() !== 'little') throw new NstError(`${file} was saved on a big-endian machine; not supported`);
      const value = unpickle(readZipEntry(src, entries.get(pkl)!), 0, load).value;
      for (const s of storages.values()) {
        const entry = entries.get(`${prefix}data/${s.key}`);
        if (!entry) throw new TruncatedError();
        if (entry.size < s.numel * s.itemsize) throw new TruncatedError();
        s.bytes = () => readZipEntry(src, entry);
      }
      return { format: 'torch.save zip', value, close: () => src.close() };
    }
    if (head.length > 262 && head.toString('latin1', 257, 262) === 'ustar') {
      throw new NstError(`${file} is in the tar format of PyTorch before 0.1.10; re-save it with a newer PyTorch`);
    }
    if (head[0] !== 0x80) throw new NstError(`${file} is not a PyTorch file (neither a torch.save zip nor a pickle)`);
    // Legacy: magic number, protocol version, system info, the object, storage keys, storages.
    let r = unpickleAt(src, 0, load);
    if (typeof r.value !== 'bigint' || r.value !== LEGACY_MAGIC) throw new NstError(`${file} is a pickle but not a torch.save file (no PyTorch magic number)`);
    r = unpickleAt(src, r.end, load);
    if (r.value !== 1001) throw new NstError(`${file} has PyTorch legacy protocol version ${String(r.value)}; only 1001 is supported`);
    r = unpickleAt(src, r.end, load);
    if (r.value instanceof PyDict && r.value.map.get('little_endian') === false) throw new NstError(`${file} was saved on a big-endian machine; not supported`);
    const main = unpickleAt(src, r.end, load);
    const keys = unpickleAt(src, main.end, load);
    if (!Array.isArray(keys.value)) throw new PickleError('storage key list missing');
    let pos = keys.end;
    for (const key of keys.value.map(String)) {
      const s = storages.get(key);
      if (!s) throw new PickleError(`storage ${key} is not used by the object`);
      const count = num(src.read(pos, 8).readBigInt64LE(0), 'storage size');
      if (count !== s.numel) throw new PickleError(`storage ${key} has ${count} elements, the pickle says ${s.numel}`);
      const start = pos + 8;
      const length = count * s.itemsize;
      if (start + length > src.size) throw new TruncatedError();
      s.bytes = () => src.read(start, length);
      pos = start + length;
    }
    return { format: 'torch.save legacy', value: main.value, close: () => src.close() };
  } catch (err) {
    src.close();
    if (err instanceof NstError) throw err;
    if (err instanceof TruncatedError || err instanceof NeedMoreBytes) {
      throw new NstError(`${file} is truncated or damaged (it ends before the data it describes)`);
    }
    if (err instanceof PickleError) throw new NstError(`cannot read ${file} as a PyTorch file: ${err.message}`);
    throw new NstError(`cannot read ${file}: ${oneLine(err)}`);
  }
}

/** The values of a floating-point tensor as float32 (float32 and bfloat16 exactly). */
export function tensorValues(t: TensorRef): Float32Array {
  const s = t.storage;
  if (!s.bytes) throw new PickleError(`storage ${s.key} has no data`);
  const count = t.shape.reduce((a, b) => a * b, 1);
  const raw = s.bytes();
  const at = (i: number): number => {
    const o = i * s.itemsize;
    switch (s.dtype) {
      case 'float32': return raw.readFloatLE(o);
      case 'float64': return raw.readDoubleLE(o);
      case 'bfloat16': {
        const b = Buffer.alloc(4);
        b.writeUInt16LE(raw.readUInt16LE(o), 2);
        return b.readFloatLE(0);
      }
      case 'float16': return halfToFloat(raw.readUInt16LE(o));
      default: throw new PickleError(`tensor of ${s.dtype} is not floating point`);
    }
  };
  // Row-major contiguous float32: one copy of the bytes.
  let contiguous = true;
  for (let d = t.shape.length - 1, expect = 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.stride[d] !== expect) contiguous = false;
    expect *= t.shape[d];
  }
  const last = t.offset + t.shape.reduce((m, n, d) => m + (n - 1) * t.stride[d], 0);
  if (count > 0 && (t.offset < 0 || last >= s.numel || (last + 1) * s.itemsize > raw.length)) throw new TruncatedError();
  if (contiguous && s.dtype === 'float32') {
    const out = new Float32Array(count);
    Buffer.from(out.buffer).set(raw.subarray(t.offset * 4, (t.offset + count) * 4));
    return out;
  }
  const out = new Float32Array(count);
  const index = new Array(t.shape.length).fill(0);
  for (let k = 0; k < count; k++) {
    let e = t.offset;
    for (let d = 0; d < index.length; d++) e += index[d] * t.stride[d];
    out[k] = at(e);
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** The tensors of a state dict, by name; nested dictionaries give dotted names ('state_dict.features.0.weight'). */
export function stateDictTensors(value: unknown): Map<string, TensorRef> {
  const out = new Map<string, TensorRef>();
  const walk = (v: unknown, prefix: string, depth: number) => {
    if (v instanceof TensorRef) {
      if (prefix) out.set(prefix, v);
    } else if (v instanceof PyDict && depth < 8) {
      for (const [k, x] of v.map) {
        if (typeof k === 'string' || typeof k === 'number') walk(x, prefix ? `${prefix}.${k}` : String(k), depth + 1);
      }
    }
  };
  walk(value, '', 0);
  return out;
}

/** One-line description of what a pickled object is, for errors. */
function describeValue(value: unknown): string {
  if (value instanceof PyObject && value.cls instanceof PyGlobal) return `a pickled ${value.cls.qualified} object`;
  if (value instanceof PyObject) return 'a pickled object';
  if (value instanceof PyDict) return 'a dictionary without tensors';
  return `a ${Array.isArray(value) ? 'list' : typeof value}`;
}

/**
 * The 16 convolutions of a VGG19 state dict, kernels converted OIHW → HWIO (exact copies).
 * One-line errors for another network, VGG16, VGG19 with batch norm, or missing layers.
 */
export function vgg19FromStateDict(value: unknown, file: string): ConvWeights[] {
  const tensors = stateDictTensors(value);
  if (tensors.size === 0) {
    const hint = value instanceof PyObject ? '; save model.state_dict() instead of the model' : '';
    throw new NstError(`${file} holds ${describeValue(value)}, not a state dict of tensors${hint}`);
  }
  // Names as torchvision's VGG: features.<i>.weight, possibly under a prefix (module., state_dict., …).
  const byPrefix = new Map<string, Map<number, { weight?: TensorRef; bias?: TensorRef; other: boolean }>>();
  for (const [name, t] of tensors) {
    const m = /^(?:(.*)\.)?features\.(\d+)\.(\w+)$/.exec(name);
    if (!m) continue;
    const prefix = m[1] ?? '';
    const layers = byPrefix.get(prefix) ?? new Map();
    byPrefix.set(prefix, layers);
    const index = Number(m[2]);
    const entry = layers.get(index) ?? { other: false };
    if (m[3] === 'weight') entry.weight = t;
    else if (m[3] === 'bias') entry.bias = t;
    else entry.other = true;
    layers.set(index, entry);
  }
  if (byPrefix.size === 0) {
    const names = [...tensors.keys()];
    throw new NstError(`${file} is not a VGG19 state dict (no features.<i>.weight entries; it has ${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''})`);
  }
  const [, layers] = [...byPrefix].sort((a, b) => b[1].size - a[1].size)[0];
  if ([...layers.values()].some((l) => l.other)) {
    throw new NstError(`${file} is a VGG with batch normalisation (vgg19_bn), which is not supported; use plain VGG19 weights`);
  }
  const convIndices = [...layers].filter(([, l]) => l.weight?.shape.length === 4).map(([i]) => i).sort((a, b) => a - b);
  const expected = VGG19_CONVS.map((c) => c.torchIndex);
  if (convIndices.length !== expected.length) {
    const guess = convIndices.length === 13 ? ' (a VGG16?)' : convIndices.length === 11 ? ' (a VGG11?)' : '';
    const missing = expected.filter((i) => !layers.has(i)).map((i) => `features.${i}`);
    const detail = convIndices.length < expected.length && missing.length && !guess ? `; missing ${missing.slice(0, 3).join(', ')}` : '';
    throw new NstError(`${file} has ${convIndices.length} convolutions, VGG19 has 16${guess}${detail}`);
  }
  return VGG19_CONVS.map((conv, k) => {
    if (convIndices[k] !== conv.torchIndex) {
      throw new NstError(`${file}: convolution ${k + 1} is features.${convIndices[k]}, VGG19's is features.${conv.torchIndex} (not a VGG19 layout)`);
    }
    const { weight, bias } = layers.get(conv.torchIndex)!;
    if (!weight || !bias) throw new NstError(`${file} lacks features.${conv.torchIndex}.${weight ? 'bias' : 'weight'}`);
    const [out, cin, kh, kw] = weight.shape;
    if (kh !== 3 || kw !== 3) throw new NstError(`${file}: features.${conv.torchIndex}.weight has shape [${weight.shape}], expected [out,in,3,3]`);
    if (bias.shape.length !== 1 || bias.shape[0] !== out) throw new NstError(`${file}: features.${conv.torchIndex}.bias has shape [${bias.shape}], expected [${out}]`);
    let w: Float32Array;
    let b: Float32Array;
    try {
      w = tensorValues(weight);
      b = tensorValues(bias);
    } catch (err) {
      if (err instanceof TruncatedError) throw new NstError(`${file} is truncated or damaged (it ends before the data it describes)`);
      throw new NstError(`${file}: features.${conv.torchIndex}: ${oneLine(err)}`);
    }
    // OIHW → HWIO: kernel[h][w][i][o] = weight[o][i][h][w].
    const kernel = new Float32Array(w.length);
    for (let o = 0; o < out; o++) {
      for (let i = 0; i < cin; i++) {
        for (let h = 0; h < 3; h++) {
          for (let x = 0; x < 3; x++) kernel[((h * 3 + x) * cin + i) * out + o] = w[((o * cin + i) * 3 + h) * 3 + x];
        }
      }
    }
    return { keras: conv.keras, kernel, kernelShape: [3, 3, cin, out], bias: b };
  });
}

/** Reads a VGG19 state dict file: its convolutions (HWIO) and its container format. */
export function readTorchVgg19(file: string): { convs: ConvWeights[]; format: string; dtypes: string[] } {
  const f = openTorchFile(file);
  try {
    const convs = vgg19FromStateDict(f.value, file);
    const used = [...stateDictTensors(f.value)].filter(([name]) => /(?:^|\.)features\.\d+\.(?:weight|bias)$/.test(name));
    const dtypes = [...new Set(used.map(([, t]) => t.dtype))];
    return { convs, format: f.format, dtypes };
  } finally {
    f.close();
  }
}

export interface TorchImportOptions {
  modelDir: string;
  force?: boolean;
  /** The preprocessing the weights expect; required unless the file is a known one. */
  preprocessing?: Preprocessing;
  source?: Partial<ModelSource>;
  digest?: FileDigest;
}

/** Which known file `file` is, from its SHA-256 (torch.hub's name prefix) or its name. */
export function identifyTorchFile(file: string, sha256: string): { known?: (typeof KNOWN_TORCH_VGG19)[number]; how: string } {
  const byHash = KNOWN_TORCH_VGG19.find((k) => sha256.startsWith(k.hashPrefix));
  if (byHash) return { known: byHash, how: `SHA-256 begins with ${byHash.hashPrefix}, as its published name says` };
  const base = path.basename(file);
  const byName = KNOWN_TORCH_VGG19.find((k) => k.file === base);
  if (byName) {
    if (byName.strictName) {
      throw new NstError(
        `${file} is not the published ${byName.file}: its SHA-256 does not begin with ${byName.hashPrefix} (damaged, or re-saved: ` +
          `then rename it and pass --preprocessing ${byName.preprocessing})`,
      );
    }
    return { known: byName, how: 'by its file name (a re-saved copy, as neural-style-pt\'s download script writes it)' };
  }
  return { how: 'unknown file' };
}

/** Converts a PyTorch VGG19 state dict into `<modelDir>/vgg19/`. */
export function importTorchPth(file: string, options: TorchImportOptions): InstallResult & { notes: string[] } {
  const { convs, format, dtypes } = readTorchVgg19(file);
  const digest = options.digest ?? digestFile(file);
  const { known, how } = identifyTorchFile(file, digest.sha256);
  if (known && options.preprocessing && options.preprocessing !== known.preprocessing) {
    throw new NstError(`${path.basename(file)} is ${known.what}, which expects ${known.preprocessing} preprocessing, not ${options.preprocessing}`);
  }
  const preprocessing = options.preprocessing ?? known?.preprocessing;
  if (!preprocessing) {
    throw new NstError(
      `cannot tell which preprocessing the weights in ${path.basename(file)} expect (not a known file); pass --preprocessing caffe ` +
        `(BGR, 0–255, mean) or --preprocessing torchvision (RGB, 0–1, mean/std)`,
    );
  }
  const notes = dtypes.filter((d) => d !== 'float32').map((d) => `${d} weights were converted to float32`);
  const source: ModelSource = {
    kind: 'torch-pth',
    file: path.basename(file),
    bytes: digest.bytes,
    sha256: digest.sha256,
    md5: digest.md5,
    format,
    identified: known ? `${known.what} (${how})` : `VGG19 state dict (${options.preprocessing} preprocessing, as told)`,
    ...options.source,
  };
  const result = installVgg19(options.modelDir, convs, { preprocessing, source }, { force: options.force });
  return { ...result, notes };
}
