/**
 * A job kind is one transfer method the server runs: how it reads its fields from a request, which
 * input images it needs, whether an interrupted run can resume, and how it runs. The registry
 * (index.ts) maps the `method` field of a request to a kind, so a new method plugs in by adding
 * one module.
 */
import type { RgbImage } from '../../image';
import type { DeviceName } from '../../engine/device';
import type { PrecisionOption } from '../../engine/runtime';
import type { JobProgress, JobRecord, LossValues } from '../store';
import type { FieldReader } from '../fields';
import type { StyleLibrary } from '../styles';

export type InputRole = 'content' | 'style';

export interface KindContext {
  maxSize: number;
  maxIterations: number;
  styles: StyleLibrary;
}

/** The compute settings every job of a queue runs with (the server's or the worker's options). */
export interface RunSettings {
  threads: number;
  device?: DeviceName;
  /** Compute precision of every job (the server's --precision; default auto). */
  precision?: PrecisionOption;
  modelDir?: string;
  maxPixels: number;
  /** Memory budget of the job, bytes (the server's --max-memory); absent: the library's default. */
  maxMemory?: number;
  /** Most frames a video job paints (the server's limit, checked at upload). */
  maxVideoFrames?: number;
  /** How paintings are fitted (the server's --fit-* settings; the library's defaults where absent). */
  fit?: FitSettings;
}

export interface JobRunContext extends RunSettings {
  job: JobRecord;
  /** The job's directory (inputs, checkpoint, outputs). */
  dir: string;
  /** Absolute paths of the input images by role. */
  inputs: Partial<Record<InputRole, string>>;
  signal: AbortSignal;
  /** The last image saved by an interrupted run of this job, to resume from. */
  checkpoint: { file: string; iteration: number } | null;
  progress(progress: JobProgress): void;
  /** `raw` is what a resume starts from; `display` is what the user sees (e.g. colours preserved). */
  preview(raw: RgbImage, display: RgbImage, iteration: number): void;
}

/** A result the kind wrote itself (a video), instead of an image for the manager to save. */
export interface OutcomeFile {
  /** File name inside the job's directory. */
  name: string;
  width: number;
  height: number;
  /** A still of it for the gallery, also in the job's directory. */
  poster?: string;
}

export interface FitSettings {
  sizes?: number[];
  evaluations?: number[];
  photos?: string;
}

export interface JobOutcome {
  cancelled: boolean;
  /** Set when the kind wrote its result file itself; `image` is then null. */
  file?: OutcomeFile | null;
  /** The final image as shown to the user; null when nothing was produced (cancelled early). */
  image: RgbImage | null;
  /** The final raw image (before display transforms), for a later resume; defaults to image. */
  raw?: RgbImage | null;
  iterations: number;
  seconds: number;
  losses?: LossValues;
  details: Record<string, unknown>;
  /**
   * Files it wrote outside the job's folder that every process needs afterwards (a fitted style):
   * `file` here, `key` in the shared storage (src/jobs/shared-models.ts). Queues whose workers are
   * other processes share them; the embedded queue has them in its model folder already.
   */
  shared?: { key: string; file: string }[];
}

export interface JobKind {
  /** The `method` value that selects this kind. */
  readonly name: string;
  readonly description: string;
  /** Whether a run interrupted by a restart continues from its checkpoint (else it restarts). */
  readonly resumable: boolean;
  /** The input that is a video clip (probed with ffprobe against the video limits), not an image. */
  readonly videoInput?: InputRole;
  /** Cannot run on a queue whose workers are other processes (src/queue): such jobs are refused there. */
  readonly localOnly?: boolean;
  /** Reads and validates this kind's fields; unknown fields are refused by the caller afterwards. */
  parse(fields: FieldReader, ctx: KindContext): Record<string, unknown>;
  /** The input images the parsed job needs. */
  inputs(params: Record<string, unknown>): InputRole[];
  /** What to say when a needed image is missing (default: upload it or name a sample). */
  missingInput?(role: InputRole): string | undefined;
  run(ctx: JobRunContext): Promise<JobOutcome>;
}

/** The server's compute settings every library call of a job takes (threads, device, precision, models, size limit). */
export function computeSettings(ctx: JobRunContext): { threads: number; device?: DeviceName; precision?: PrecisionOption; modelDir?: string; maxPixels: number; maxMemory?: number } {
  return { threads: ctx.threads, device: ctx.device, precision: ctx.precision, modelDir: ctx.modelDir, maxPixels: ctx.maxPixels, maxMemory: ctx.maxMemory };
}
