/**
 * Which CPU kernels the engine's libraries will use. oneDNN (convolutions), ATen (element-wise
 * ops) and OpenBLAS (matrix products) each pick their kernels from the CPU's instructions, and
 * each can be told to use fewer through the process's environment, read once when libtorch loads:
 * `ONEDNN_MAX_CPU_ISA=AVX2` makes a Xeon with AMX compute like a CPU without AVX-512. The same
 * settings also let one machine stand in for others (docs/print-size.md, "Other CPUs, simulated").
 */
import * as fs from 'node:fs';

/**
 * oneDNN's instruction-set caps below AVX512_CORE_BF16: under them it has no native bf16 kernels
 * (AVX512_CORE emulates bf16, measured 2.3× slower than fp32 there; AVX2 and below have no bf16
 * convolution at all: "could not create a primitive descriptor"). Names oneDNN does not know
 * are ignored by oneDNN, and so here.
 */
const CAPS_WITHOUT_BF16 = new Set(['SSE41', 'AVX', 'AVX2', 'AVX2_VNNI', 'AVX2_VNNI_2', 'AVX512_MIC', 'AVX512_MIC_4OPS', 'AVX512_CORE', 'AVX512_CORE_VNNI']);

/** oneDNN's instruction-set cap from the environment (ONEDNN_ wins over the older DNNL_), upper case; null when none. */
export function onednnIsaCap(env: NodeJS.ProcessEnv = process.env): string | null {
  const value = env.ONEDNN_MAX_CPU_ISA ?? env.DNNL_MAX_CPU_ISA;
  return value ? value.trim().toUpperCase() : null;
}

/** Caps under which oneDNN has no bf16 convolution at all, not even emulated (below AVX-512). */
const CAPS_WITHOUT_ANY_BF16 = new Set(['SSE41', 'AVX', 'AVX2', 'AVX2_VNNI']);

/** Whether oneDNN may run bf16 convolutions at all (emulated under AVX512_CORE; none under AVX2). */
export function onednnHasBf16Kernels(env: NodeJS.ProcessEnv = process.env): boolean {
  const cap = onednnIsaCap(env);
  return cap === null || !CAPS_WITHOUT_ANY_BF16.has(cap);
}

/**
 * Whether the convolutions can run in native bf16 here: the CPU has AVX-512 BF16 or AMX, and
 * oneDNN is not capped below them.
 */
export function cpuHasBf16(env: NodeJS.ProcessEnv = process.env): boolean {
  const cap = onednnIsaCap(env);
  if (cap !== null && CAPS_WITHOUT_BF16.has(cap)) return false;
  try {
    return /\b(avx512_bf16|amx_bf16)\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The environment settings that change which kernels run, and so their workspaces and memory:
 * the instruction-set caps and hints of oneDNN, ATen and OpenBLAS, oneDNN's caches and fp math
 * mode, and the allocator's tuning. Sorted `NAME=value` pairs; logging (ONEDNN_VERBOSE …) is left out.
 */
export function kernelEnvironment(env: NodeJS.ProcessEnv = process.env): string[] {
  const chooses = (name: string) =>
    (/^(ONEDNN|DNNL)_/.test(name) && !/^(ONEDNN|DNNL)_(VERBOSE|JIT_DUMP|JIT_PROFILE|ITT_)/.test(name)) ||
    /^(ATEN_CPU_CAPABILITY|OPENBLAS_CORETYPE|MKL_ENABLE_INSTRUCTIONS|MKL_CBWR)$/.test(name) ||
    /^TCMALLOC_/.test(name);
  return Object.keys(env)
    .filter((name) => chooses(name) && env[name] !== undefined && env[name] !== '')
    .sort()
    .map((name) => `${name}=${env[name]}`);
}
