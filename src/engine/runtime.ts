/**
 * Per-thread runtime settings of the engine. libtorch keeps the intra-op thread count (OpenMP),
 * grad mode and autocast per calling thread, so `configureThread` must run in the thread that
 * computes (the worker thread of a run, or the main thread in tests).
 */
import * as os from 'node:os';
import { NstError } from '../errors';
import { checkDeviceName, cudaIndex, DeviceName } from './device';
import { cpuHasBf16, onednnHasBf16Kernels, onednnIsaCap } from './cpu-kernels';
import { CudaMath, native } from './native';

export { cpuHasBf16, kernelEnvironment, onednnIsaCap } from './cpu-kernels';

export type { CudaMath } from './native';

export { checkDeviceName, isDeviceName, cudaIndex } from './device';
export type { DeviceName } from './device';

export interface RuntimeOptions {
  /** Intra-op threads; default: every core. */
  threads?: number;
  /** 'cpu' (default), 'cuda' or 'cuda:N'. */
  device?: DeviceName;
  /** Seed of libtorch's random generator, for reproducible noise. */
  seed?: number;
}

/** Applies thread count, device check and seed to the calling thread; returns the settings used. */
export function configureThread(options: RuntimeOptions = {}): { threads: number; device: DeviceName } {
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

/**
 * The device name when this process can compute there: CUDA only where the linked libtorch has
 * CUDA and the device index exists; a clear one-line error otherwise.
 */
export function resolveDevice(device: string): DeviceName {
  const name = checkDeviceName(device);
  const index = cudaIndex(name);
  if (index === null) return name;
  const engine = native();
  if (!engine.cudaAvailable()) {
    throw new NstError(
      `--device ${name}: this libtorch build has no CUDA device available (build against a CUDA libtorch with LIBTORCH=/path/to/libtorch; see docs/gpu.md)`,
    );
  }
  const count = engine.cudaDeviceCount();
  if (index >= count) {
    throw new NstError(`--device ${name}: there ${count === 1 ? 'is 1 CUDA device (cuda:0)' : `are ${count} CUDA devices (cuda:0 … cuda:${count - 1})`}`);
  }
  return name;
}

/**
 * Compute precision of the convolutions and Gram products (bf16 products accumulate in fp32 and are
 * rounded to bf16 once); losses, gradients at the image and optimiser state stay fp32.
 */
export type Precision = 'fp32' | 'bf16';
/** A precision as users choose it: 'auto' resolves per device (resolvePrecision). */
export type PrecisionOption = Precision | 'auto';
export const PRECISION_OPTIONS: readonly PrecisionOption[] = ['auto', 'fp32', 'bf16'];

/**
 * 'auto' → bf16 where the CPU's convolutions run natively in bf16 (fp32 on CUDA, older CPUs and
 * under an ONEDNN_MAX_CPU_ISA cap below AVX512_CORE_BF16). bf16 asked for where oneDNN has no bf16
 * kernels at all (a cap below AVX-512) is a one-line error rather than a failed convolution.
 */
export function resolvePrecision(option: PrecisionOption, device: string): Precision {
  if (option === 'auto') return device === 'cpu' && cpuHasBf16() ? 'bf16' : 'fp32';
  const cap = onednnIsaCap();
  if (option === 'bf16' && device === 'cpu' && cap !== null && !onednnHasBf16Kernels()) {
    throw new NstError(`--precision bf16: oneDNN has no bf16 convolutions under ONEDNN_MAX_CPU_ISA=${cap}; use --precision fp32 or auto`);
  }
  return option;
}

/** Whether autograd records in the calling thread (false inside noGrad). */
export function gradEnabled(): boolean {
  return native().isGradEnabled();
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

/**
 * Waits until the queued work of `device` has run (CUDA kernels run asynchronously); for timing
 * only. A no-op on the CPU.
 */
export function synchronize(device: string): void {
  native().synchronize(device);
}

/**
 * CUDA math modes, process-wide: `tf32Conv` / `tf32Matmul` let fp32 convolutions / matrix
 * products use TF32 tensor cores (libtorch's and PyTorch's defaults: on / off; both off for full
 * fp32 parity with the CPU), `cudnnBenchmark` times cuDNN's algorithms once per shape and keeps
 * the fastest (torch.backends.cudnn.benchmark). Options left out keep their value. Returns the
 * previous settings, to restore them. No effect on the CPU.
 */
export function setCudaMath(options: CudaMath): Required<CudaMath> {
  return native().setCudaMath(options);
}

export function manualSeed(seed: number): void {
  native().manualSeed(seed);
}

/**
 * Returns the memory of freed tensors, which the allocator (tcmalloc) keeps for reuse, to the OS,
 * before other libraries (sharp) allocate on top of it; false where the allocator cannot.
 */
export function releaseFreeMemory(): boolean {
  return native().releaseFreeMemory();
}

/** Tensors currently held by JavaScript objects (for leak tests). */
export function liveTensors(): number {
  return native().liveTensors();
}

export function engineInfo(): { torchVersion: string; threads: number; mkldnn: boolean; cuda: boolean; cudaDevices: number; allocator: string } {
  const info = native().info();
  return { torchVersion: info.torchVersion, threads: native().getNumThreads(), mkldnn: info.mkldnn, cuda: info.cuda, cudaDevices: info.cudaDevices, allocator: info.allocator };
}
