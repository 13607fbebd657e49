/**
 * Loads the compiled libtorch addon (build/Release/nst_native.node) and describes its surface.
 * Everything above this file talks to {@link Tensor} and the functions in `ops.ts`, never to the
 * addon directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../errors';
import { applyThreadPoolDefaults } from './thread-pools';

/** A libtorch tensor owned by a JavaScript object (see native/src/tensor_wrap.h). */
export interface NativeTensor {
  dispose(): void;
  isDisposed(): boolean;
  shape(): number[];
  dtype(): string;
  device(): string;
  toFloat32Array(): Float32Array;
  item(): number;
  requiresGrad(): boolean;
  setRequiresGrad(flag: boolean): NativeTensor;
  grad(): NativeTensor | null;
}

type T = NativeTensor;

/** CUDA math modes (see runtime.ts setCudaMath). */
export interface CudaMath {
  tf32Conv?: boolean;
  tf32Matmul?: boolean;
  cudnnBenchmark?: boolean;
}
type Dims = number[] | undefined;

/** The functions exported by the addon (see native/src/*.cc). */
export interface NativeEngine {
  fromFloat32Array(data: Float32Array, shape: number[], device?: string): T;
  full(shape: number[], value: number, device?: string): T;
  randn(shape: number[], device?: string): T;
  rand(shape: number[], device?: string): T;
  toDevice(t: T, device: string): T;
  toDType(t: T, dtype: string): T;
  clone(t: T): T;
  detach(t: T): T;
  contiguous(t: T, channelsLast?: boolean): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  maximum(a: T, b: T): T;
  minimum(a: T, b: T): T;
  addScalar(a: T, s: number): T;
  mulScalar(a: T, s: number): T;
  powScalar(a: T, s: number): T;
  clamp(a: T, min: number | null, max: number | null): T;
  neg(a: T): T;
  relu(a: T): T;
  tanh(a: T): T;
  sigmoid(a: T): T;
  sqrt(a: T): T;
  abs(a: T): T;
  exp(a: T): T;
  log(a: T): T;
  square(a: T): T;
  sum(a: T, dims?: Dims, keepdim?: boolean): T;
  mean(a: T, dims?: Dims, keepdim?: boolean): T;
  variance(a: T, dims?: Dims, keepdim?: boolean, unbiased?: boolean): T;
  max(a: T): T;
  min(a: T): T;
  norm(a: T): T;
  dot(a: T, b: T): T;
  mseLoss(a: T, b: T): T;
  matmul(a: T, b: T): T;
  transpose(a: T, d0: number, d1: number): T;
  reshape(a: T, shape: number[]): T;
  permute(a: T, dims: number[]): T;
  narrow(a: T, dim: number, start: number, length: number): T;
  cat(list: T[], dim: number): T;
  stack(list: T[], dim: number): T;
  flip(a: T, dims: number[]): T;
  sortAlong(a: T, dim: number, descending?: boolean): T;
  maxAlong(a: T, dim: number, keepdim?: boolean): T;
  minAlong(a: T, dim: number, keepdim?: boolean): T;
  argmaxAlong(a: T, dim: number, keepdim?: boolean): T;
  logSoftmax(a: T, dim: number): T;
  indexSelectBy(a: T, dim: number, indices: T): T;
  indexSelect(a: T, dim: number, indices: number[]): T;
  conv2d(x: T, w: T, b: T | null, stride?: number[], padding?: number[], groups?: number): T;
  convTranspose2d(x: T, w: T, b: T | null, stride?: number[], padding?: number[], outputPadding?: number[]): T;
  maxPool2d(x: T, kernel: number[], stride?: number[], padding?: number[]): T;
  avgPool2d(x: T, kernel: number[], stride?: number[], padding?: number[]): T;
  pad(x: T, pads: number[], mode?: string, value?: number): T;
  interpolate(x: T, size: number[], mode?: string, alignCorners?: boolean): T;
  instanceNorm(x: T, weight: T | null, bias: T | null, eps: number): T;
  addInPlace(a: T, b: T, alpha?: number): void;
  mulScalarInPlace(a: T, s: number): void;
  addcmulInPlace(a: T, b: T, c: T, value: number): void;
  addcdivInPlace(a: T, b: T, c: T, value: number): void;
  copyInPlace(dst: T, src: T): void;
  fillInPlace(a: T, value: number): void;
  clampInPlace(a: T, min: number | null, max: number | null): void;
  backward(loss: T): void;
  gradients(outputs: T[], inputs: T[], gradOutputs?: T[], retainGraph?: boolean): (T | null)[];
  zeroGrad(t: T): void;
  setGradEnabled(flag: boolean): void;
  isGradEnabled(): boolean;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  cudaAvailable(): boolean;
  cudaDeviceCount(): number;
  setAutocast(device: string, enabled: boolean, dtype?: 'bfloat16' | 'float16'): void;
  setCudaMath(options: CudaMath): Required<CudaMath>;
  synchronize(device: string): void;
  liveTensors(): number;
/** Hands the allocator's freed memory back to the OS; false when the allocator cannot. */
  releaseFreeMemory(): boolean;
    info(): { torchVersion: string; parallel: string; mkldnn: boolean; cuda: boolean; cudaDevices: number; tf32Conv: boolean; tf32Matmul: boolean; cudnnBenchmark: boolean; allocator: string };
}

let engine: NativeEngine | undefined;

// Before libtorch (and its OpenMP runtime) can be loaded by any thread of this process.
applyThreadPoolDefaults();

/** The addon, loaded on first use. A missing build is a clear error that says how to build it. */
export function native(): NativeEngine {
  if (engine) return engine;
  const root = path.resolve(__dirname, '..', '..', '..');
  const candidates = [
    process.env.NST_NATIVE_ADDON,
    path.join(root, 'build', 'Release', 'nst_native.node'),
    path.join(root, 'build', 'Debug', 'nst_native.node'),
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new NstError(
      `the native engine is not built (looked in ${candidates.join(', ')}); run 'npm run build:native' ` +
        `(needs Debian's libtorch-dev, or LIBTORCH=/path/to/libtorch)`,
    );
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    engine = require(found) as NativeEngine;
  } catch (err) {
    throw new NstError(`cannot load the native engine ${found}: ${(err as Error).message.split('\n')[0]}`);
  }
  return engine;
}
