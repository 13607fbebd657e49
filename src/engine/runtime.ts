/**
 * Per-thread runtime settings of the engine. libtorch keeps the intra-op thread count (OpenMP),
 * grad mode and autocast per calling thread, so `configureThread` must run in the thread that
 * computes (the worker thread of a run, or the main thread in tests).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { NstError } from '../errors';
import { native } from './native';

export type DeviceName = 'cpu' | 'cuda';

export interface RuntimeOptions {
  /** Intra-op threads; default: every core. */
  threads?: number;
  /** 'cpu' (default) or 'cuda'. */
  device?: DeviceName;
  /** Seed of libtorch's random generator, for reproducible noise. */
  seed?: number;
}

/** Applies thread count, device check and seed to the calling thread; returns the settings used. */
export function configureThread(options: RuntimeOptions = {}): { threads: number; device: string } {
  const engine = native();
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new NstError(`--threads must be a positive integer (got ${threads})`);
  engine.setNumThreads(threads);
  const device = resolveDevice(options.device ?? 'cpu');
  if (options.seed !== undefined) engine.manualSeed(options.seed);
  return { threads: engine.getNumThreads(), device };
}

export function defaultThreads(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

/** 'cuda' only where the linked libtorch has CUDA and a device is present; a clear error otherwise. */
export function resolveDevice(device: string): string {
  if (device === 'cpu') return 'cpu';
  if (device === 'cuda' || device.startsWith('cuda:')) {
    if (!native().cudaAvailable()) {
      throw new NstError(
        `--device cuda: this libtorch build has no CUDA device available (build against a CUDA libtorch with LIBTORCH=/path/to/libtorch)`,
      );
    }
    return device;
  }
  throw new NstError(`unknown device '${device}' (expected cpu or cuda)`);
}

/** Whether this CPU has native bf16 instructions (AVX-512 BF16 or AMX). */
export function cpuHasBf16(): boolean {
  try {
    const flags = fs.readFileSync('/proc/cpuinfo', 'utf8');
    return /\b(avx512_bf16|amx_bf16)\b/.test(flags);
  } catch {
    return false;
  }
}

/** Compute precision of the convolutions (losses, Gram matrices and optimiser state stay fp32). */
export type Precision = 'fp32' | 'bf16';

/** 'auto' → bf16 where the CPU has native bf16 instructions (fp32 on CUDA and older CPUs). */
export function resolvePrecision(option: Precision | 'auto', device: string): Precision {
  if (option !== 'auto') return option;
  return device === 'cpu' && cpuHasBf16() ? 'bf16' : 'fp32';
}

/** Disables autograd recording in the calling thread while fn runs. */
export function noGrad<R>(fn: () => R): R {
  const engine = native();
  const before = engine.isGradEnabled();
  engine.setGradEnabled(false);
  try {
    return fn();
  } finally {
    engine.setGradEnabled(before);
  }
}

export function manualSeed(seed: number): void {
  native().manualSeed(seed);
}

/** Tensors currently held by JavaScript objects (for leak tests). */
export function liveTensors(): number {
  return native().liveTensors();
}

export function engineInfo(): { torchVersion: string; threads: number; mkldnn: boolean; cuda: boolean; allocator: string } {
  const info = native().info();
  return { torchVersion: info.torchVersion, threads: native().getNumThreads(), mkldnn: info.mkldnn, cuda: info.cuda, allocator: info.allocator };
}
