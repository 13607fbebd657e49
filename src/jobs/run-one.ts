/**
 * One run of one job through its kind, the same on every queue: the run context from the queue's
 * settings, progress into the loss history, previews saved one at a time (only the newest when
 * they come faster), and the result's record from the kind's outcome. Where files go (the job's
 * folder, shared storage) and what a failure means are the queue's: it passes them in.
 */
import type { RgbImage } from '../image';
import { latestOnlyWriter } from '../util/latest-only';
import type { JobKind, JobOutcome, JobRunContext, RunSettings } from './kinds';
import type { JobProgress, JobRecord, JobResultInfo, LossPoint } from './store';

export type ResultFormat = 'jpg' | 'png' | 'webp';
export const RESULT_FORMATS: readonly ResultFormat[] = ['jpg', 'png', 'webp'];

export interface Preview {
  raw: RgbImage;
  display: RgbImage;
  iteration: number;
}

/** The live state of a run: the latest progress and the loss history so far (updated in place). */
export interface RunState {
  progress: JobProgress | null;
  history: LossPoint[];
}

export interface OneJob {
  kind: JobKind;
  job: JobRecord;
  settings: RunSettings;
  /** The folder the kind works in (inputs, outputs). */
  dir: string;
  inputs: JobRunContext['inputs'];
  checkpoint: JobRunContext['checkpoint'];
  signal: AbortSignal;
  state: RunState;
  /** After each progress report (its history row already added). */
  onProgress(progress: JobProgress): void;
  /** Saves a preview; never called twice at once. */
  savePreview(preview: Preview): Promise<void>;
}

/** Runs the job's kind; resolves once its last preview is saved (also when the run throws). */
export async function runOneJob(one: OneJob): Promise<JobOutcome> {
  const previews = latestOnlyWriter(one.savePreview);
  const ctx: JobRunContext = {
    ...one.settings,
    job: one.job,
    dir: one.dir,
    inputs: one.inputs,
    signal: one.signal,
    checkpoint: one.checkpoint,
    progress: (progress) => {
      one.state.progress = progress;
      const l = progress.losses;
      if (l) one.state.history.push([progress.iteration, l.content, l.style, l.tv, l.total].map(round) as LossPoint);
      one.onProgress(progress);
    },
    preview: (raw, display, iteration) => previews.push({ raw, display, iteration }),
  };
  try {
    return await one.kind.run(ctx);
  } finally {
    await previews.drained();
  }
}

/**
 * The result's record: of a file the kind wrote itself (a video), or of its image, which `save`
 * writes as `result.<format>` (the job's `format` parameter, jpg by default). Null when nothing
 * was produced.
 */
export async function recordResult(
  outcome: JobOutcome,
  params: Record<string, unknown>,
  save: (file: string, image: RgbImage) => Promise<void>,
  details: Record<string, unknown> = {},
): Promise<JobResultInfo | null> {
  const common = { iterations: outcome.iterations, seconds: round(outcome.seconds), details: { ...outcome.details, ...details }, partial: outcome.cancelled };
  if (outcome.file) {
    const f = outcome.file;
    return { file: f.name, width: f.width, height: f.height, ...common, ...(f.poster ? { poster: f.poster } : {}) };
  }
  if (!outcome.image) return null;
  const file = `result.${typeof params.format === 'string' ? params.format : 'jpg'}`;
  await save(file, outcome.image);
  return { file, width: outcome.image.width, height: outcome.image.height, ...common, losses: outcome.losses };
}

export function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}
