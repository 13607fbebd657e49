/** Access to the PyTorch reference numbers and inputs in ../shared/reference (see its README). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { tensor, Tensor } from '../../src/engine';
import { PROJECT_ROOT } from '../../src/models/model-dir';

export const SHARED_DIR = path.resolve(process.env.NST_SHARED_DIR ?? path.join(PROJECT_ROOT, '..', 'shared'));
export const REFERENCE_DIR = path.join(SHARED_DIR, 'reference');
export const MODELS_DIR = path.join(SHARED_DIR, 'models');

export function readJson<T = any>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(REFERENCE_DIR, name), 'utf8')) as T;
}

/** An image file as an RGB [0,1] NCHW tensor, decoded without resizing (as PIL does). */
export async function imageTensor(file: string): Promise<Tensor> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const { width: w, height: h } = info;
  const planar = new Float32Array(3 * w * h);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) planar[c * w * h + i] = data[i * 3 + c] / 255;
  return tensor(planar, [1, 3, h, w]);
}

/** Reads a little-endian float32 .npy file (C order). */
export function readNpy(file: string): { shape: number[]; data: Float32Array } {
  const buf = fs.readFileSync(file);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString('latin1');
  if (!header.includes("'<f4'")) throw new Error(`${file}: expected float32 little-endian`);
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(',').filter((s) => s.trim()).map(Number);
  const start = 10 + headerLen;
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  return { shape, data };
}

export function relErr(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12);
}
