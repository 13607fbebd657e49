/**
 * The memory a computation needs on THIS machine, measured rather than assumed. oneDNN picks
 * other kernels, weight layouts and workspaces per CPU (AMX, AVX-512 BF16, AVX2) and per
 * precision, so bytes per pixel measured on one CPU do not hold on another. A probe runs the real
 * computation at two sizes in a fresh child process (probe.ts) and the peaks over its base are
 * fitted as fixed + per-pixel bytes, with a margin. The result is cached per machine (CPU model
 * and flags, libtorch build, allocator, threads, kernel settings) in the user cache, so each
 * machine pays the probe (a few seconds) once per kind of computation.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { engineInfo, kernelEnvironment } from '../../engine';
import { writeFileAtomicSync } from '../../util/atomic-write';
import { MIB } from '../tiling/memory-size';
import type { Calibration, MemoryCost, ProbeResult, ProbeSpec } from './types';

/** Bumped whenever the probe or the fit changes, so old cached figures are measured again. */
const CALIBRATION_VERSION = 3;
/** Headroom on the measured figures: allocator slack and shapes the probe did not see. */
export const PLAN_MARGIN = 1.15;
/**
 * Probe sides. The slope comes from the two largest, large enough that the allocator's free pool
 * at start-up does not hide it; the smallest, below the smallest tile the planner may pick, shows
 * what even a tiny tile costs (kernels and weight layouts built on first use, workspaces).
 */
export const GATYS_PROBE_SIZES = [48, 192, 320];
export const FAST_PROBE_SIZES = [256, 512];
/** Full-resolution sides whose ¼-resolution activations the residual blocks' probe runs (128² and 256²). */
export const FAST_BLOCKS_PROBE_SIZES = [512, 1024];
const PROBE_TIMEOUT_MS = 300_000;

/**
 * Fixed + per-pixel bytes, times the margin: the slope between the two largest probes, and the
 * fixed part that puts that line at or above every probe's peak. Where the allocator's free pool
 * flattens a small size's peak the slope is steeper and so errs on the safe side; a large fixed
 * part (weight layouts, workspaces), seen at the largest size or at a small one, is kept as such,
 * so tiles smaller than the probe are not under-planned. Peaks that do not grow with the size
 * (noise) give the cautious reading: the largest peak as fixed, plus the largest size's own ratio.
 */
export function fitCost(result: ProbeResult, margin = PLAN_MARGIN): MemoryCost {
  const px = result.sizes.map((s) => s * s);
  const last = px.length - 1;
  const top = Math.max(0, ...result.peaks);
  const ratio = Math.max(0, result.peaks[last]) / px[last];
  const slope = last > 0 ? (result.peaks[last] - result.peaks[last - 1]) / (px[last] - px[last - 1]) : NaN;
  const [perPixel, fixed] = Number.isFinite(slope) && slope > 0
    ? [slope, Math.max(0, ...result.peaks.map((p, i) => p - slope * px[i]))]
    : [ratio, top];
  return { fixedBytes: Math.ceil(fixed * margin), bytesPerPixel: Math.ceil(perPixel * margin) };
}

/** The user cache file of measured costs (`$XDG_CACHE_HOME/nst/memory-calibration.json`). */
export function calibrationCacheFile(): string {
  const root = process.env.XDG_CACHE_HOME ? path.resolve(process.env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(root, 'nst', 'memory-calibration.json');
}

/**
 * What the figures depend on besides the spec: the CPU, the libtorch build, the allocator, and the
 * settings that choose other kernels on the same CPU (ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY, …:
 * under AVX2 oneDNN's convolutions keep other layouts and workspaces than under AVX-512).
 */
function machineKey(): string {
  let cpu = `${os.cpus()[0]?.model ?? 'unknown'}`;
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    cpu += /^flags\s*:(.*)$/m.exec(info)?.[1] ?? '';
  } catch {
    // not Linux: the model name alone
  }
  const engine = engineInfo();
  return `${cpu}|${engine.torchVersion}|${engine.allocator}|${os.totalmem()}|${kernelEnvironment().join(' ')}`;
}

function cacheKey(spec: ProbeSpec): string {
  const what = spec.kind === 'gatys'
    ? `gatys|${spec.precision}|${spec.checkpoint}|${spec.threads}|${spec.sizes}`
    : `${spec.kind}|${spec.precision}|${spec.threads}|${spec.sizes}|${modelSignature(spec.modelPath)}`;
  return createHash('sha256').update(`${CALIBRATION_VERSION}|${machineKey()}|${buildFingerprint()}|${what}`).digest('hex').slice(0, 32);
}

/** The code whose memory the probe measures: a change to it measures again, on every machine. */
const MEASURED_CODE = ['probe.js', '../../losses/gatys-objective.js', '../../losses/gram.js', '../../models/vgg19.js', '../../models/transformer-net.js', '../fast/tiled.js'];

let fingerprint: string | undefined;
function buildFingerprint(): string {
  if (fingerprint === undefined) {
    const hash = createHash('sha256');
    for (const file of MEASURED_CODE) {
      try {
        hash.update(fs.readFileSync(path.join(__dirname, file)));
      } catch {
        hash.update(file);
      }
    }
    fingerprint = hash.digest('hex').slice(0, 16);
  }
  return fingerprint;
}

/** A fast-style model file by name and size: the architecture is what matters, not the weights. */
function modelSignature(file: string): string {
  try {
    return `${path.basename(file)}:${fs.statSync(file).size}`;
  } catch {
    return path.basename(file);
  }
}

function readCache(): Record<string, ProbeResult> {
  try {
    return JSON.parse(fs.readFileSync(calibrationCacheFile(), 'utf8')) as Record<string, ProbeResult>;
  } catch {
    return {};
  }
}

function writeCache(key: string, result: ProbeResult): void {
  try {
    const file = calibrationCacheFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomicSync(file, JSON.stringify({ ...readCache(), [key]: result }, null, 1));
  } catch {
    // A read-only cache only means measuring again next time.
  }
}

/** Runs the probe in a child process; null when it could not run (the caller keeps its table). */
function measure(spec: ProbeSpec): ProbeResult | null {
  const script = path.join(__dirname, 'probe.js');
  const child = spawnSync(process.execPath, [script, JSON.stringify(spec)], { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS, env: process.env });
  if (child.status !== 0) return null;
  try {
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as ProbeResult;
    return result.peaks.length === spec.sizes.length && result.peaks.every(Number.isFinite) ? result : null;
  } catch {
    return null;
  }
}

const memo = new Map<string, Calibration>();

/**
 * The measured cost of `spec` on this machine (cached), or `fallback` (source 'table') when the
 * probe cannot run.
 */
export function calibratedCost(spec: ProbeSpec, fallback: MemoryCost): Calibration {
  const key = cacheKey(spec);
  const known = memo.get(key);
  if (known) return known;
  const cached = readCache()[key];
  let calibration: Calibration;
  if (cached) {
    calibration = { ...fitCost(cached), source: 'cache', probe: probeSummary(cached) };
  } else {
    const result = measure(spec);
    if (result) writeCache(key, result);
    calibration = result ? { ...fitCost(result), source: 'measured', probe: probeSummary(result) } : { ...fallback, source: 'table' };
  }
  memo.set(key, calibration);
  return calibration;
}

/** The measured cost of `spec` if this machine has measured it before, without measuring (null if not). */
export function cachedCost(spec: ProbeSpec): Calibration | null {
  const key = cacheKey(spec);
  const known = memo.get(key);
  if (known) return known;
  const cached = readCache()[key];
  return cached ? { ...fitCost(cached), source: 'cache', probe: probeSummary(cached) } : null;
}

function probeSummary(r: ProbeResult): { sizes: number[]; peaksMiB: number[] } {
  return { sizes: r.sizes, peaksMiB: r.peaks.map((p) => Math.round(p / MIB)) };
}
