import type { Precision } from '../../models';

/**
 * What a probe measures: the Gatys objective (plain or checkpointed), a fast-style network's pass
 * over a tile ('fast'), or its residual blocks on a whole photo's ¼-resolution activations
 * ('fast-blocks', which tiled inference runs whole; sizes are the photo's full-resolution sides).
 */
export type ProbeSpec =
  | { kind: 'gatys'; precision: Precision; checkpoint: boolean; threads: number; sizes: number[]; modelDir?: string }
  | { kind: 'fast' | 'fast-blocks'; precision: Precision; threads: number; sizes: number[]; modelPath: string };

/** Peak resident bytes over the probe process's base, one per size (square images). */
export interface ProbeResult {
  sizes: number[];
  peaks: number[];
  baseBytes: number;
}

/** Memory of one computation on this machine: fixed bytes plus bytes per pixel, margins included. */
export interface MemoryCost {
  fixedBytes: number;
  bytesPerPixel: number;
}

/** A cost and how it was obtained, as the run report records it. */
export interface Calibration extends MemoryCost {
  /** 'measured' in this run, from the per-machine 'cache', or the built-in 'table' (not measured). */
  source: 'measured' | 'cache' | 'table';
  /** The probe's sides and the peaks over its base (MiB), when measured. */
  probe?: { sizes: number[]; peaksMiB: number[] };
}
