/** What a feed-forward run reports: its progress events, its hooks and its result. */
import type { Precision } from '../../engine';
import type { FitProgress } from '../arbitrary/run-fit';
import type { Calibration } from '../memory';

export type FastProgress =
  | { type: 'image'; index: number; total: number; input: string; output: string; width: number; height: number; ms: number; tile?: number; peakMiB?: number }
  | { type: 'warning'; message: string }
  /** Fitting a painting's style vector before stylising (--style-image). */
  | (Extract<FitProgress, { type: 'fit' }> & { painting?: string });

export interface FastResult {
  model: { path: string; style: string; variant: string; kind: 'nst' | 'deeplearn' | 'fitted-vector' };
  /** tile: the tile side when the photo was too large for one pass (see tiled.ts). */
  outputs: { input: string; output: string; width: number; height: number; ms: number; tile?: number }[];
  skipped: { input: string; reason: string }[];
  cancelled: boolean;
  seconds: number;
  threads: number;
  device: string;
  /** Convolution precision used ('auto' resolved). */
  precision: Precision;
  /** Fitted styles: the finish the pass was painted with (the palette match 0 when none was matched). */
  finish?: { paintScale: number; paletteMatch: number };
  /** The network's memory measured on this machine, when a photo came close to --max-memory. */
  memoryCost?: Calibration;
  /** The process's peak resident memory, MiB, and whether it passed --max-memory. */
  peakMiB?: number;
  budgetMiB?: number;
  overBudget?: boolean;
}

export interface FastHooks {
  onProgress?(progress: FastProgress): void;
  isCancelled?(): boolean;
}
