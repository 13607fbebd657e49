/**
 * Compute device names, checked without loading the native engine (options validation uses this
 * before any tensor exists): 'cpu', 'cuda' (the current CUDA device, index 0 unless changed) or
 * 'cuda:N' (the N-th CUDA device, from 0), as libtorch and PyTorch spell them.
 */
import { NstError } from '../errors';

export type DeviceName = 'cpu' | 'cuda' | `cuda:${number}`;

const DEVICE_PATTERN = /^(cpu|cuda(:(0|[1-9]\d{0,3}))?)$/;

export function isDeviceName(value: unknown): value is DeviceName {
  return typeof value === 'string' && DEVICE_PATTERN.test(value);
}

/** The name itself when it is valid, else a one-line error naming the accepted forms. */
export function checkDeviceName(value: unknown, what = 'device'): DeviceName {
  if (isDeviceName(value)) return value;
  throw new NstError(`unknown ${what} '${String(value)}' (expected cpu, cuda or cuda:N, e.g. cuda:1)`);
}

/** The CUDA device index of a name ('cuda' → 0), or null for the CPU. */
export function cudaIndex(device: DeviceName): number | null {
  if (device === 'cpu') return null;
  return device === 'cuda' ? 0 : Number(device.slice('cuda:'.length));
}
