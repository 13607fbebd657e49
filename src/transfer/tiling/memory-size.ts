/**
 * Memory sizes as users write them (`--max-memory 6GB`, `1.5g`, `800MiB`, plain bytes) and the
 * default budget: a safe share of the machine's memory.
 */
import * as os from 'node:os';
import { NstError } from '../../errors';

export const MIB = 2 ** 20;
export const GIB = 2 ** 30;

/** Share of the machine's physical memory a run may use by default (the rest: OS, other programs). */
export const DEFAULT_MEMORY_SHARE = 0.75;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10, m: MIB, mb: MIB, mib: MIB, g: GIB, gb: GIB, gib: GIB, t: 2 ** 40, tb: 2 ** 40, tib: 2 ** 40 };

/** '6GB' → bytes (binary units: 1 GB = 2³⁰ bytes, as memory is sold); a number is bytes already. */
export function parseMemorySize(value: string | number, name = 'max-memory'): number {
  if (typeof value === 'number') {
    if (!(value > 0) || !Number.isFinite(value)) throw new NstError(`--${name} must be a positive size such as 6GB (got ${value})`);
    return Math.floor(value);
  }
  const m = /^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined || !(Number(m[1]) > 0)) throw new NstError(`--${name} must be a size such as 6GB, 1.5G or 800MB (got '${value}')`);
  return Math.floor(Number(m[1]) * unit);
}

export function defaultMaxMemory(): number {
  return Math.floor(os.totalmem() * DEFAULT_MEMORY_SHARE);
}

/** Bytes as '1.4 GiB' / '730 MiB' for messages and reports. */
export function formatBytes(bytes: number): string {
  return bytes >= GIB ? `${(bytes / GIB).toFixed(1)} GiB` : `${Math.ceil(bytes / MIB)} MiB`;
}
