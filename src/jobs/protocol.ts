/**
 * What the side that records jobs and the side that runs them say to each other, whatever carries
 * it (BullMQ in src/queue): the job payload (versioned, so a worker refuses a job from an
 * incompatible nst), the worker's progress messages, and its return value. Everything here is JSON.
 */
import type { VideoChunk } from '../video/chunks/plan';
import type { InputInfo, JobProgress, JobResultInfo, LossPoint } from './store';

/**
 * The tasks of a video job on such a queue (their own methods, which a worker of an older nst
 * refuses): one per chunk of frames, then the join that makes the job's result.
 */
export const VIDEO_CHUNK_METHOD = 'video-chunk';
export const VIDEO_JOIN_METHOD = 'video-join';

/** Bumped whenever JobPayload, WorkerMessage or WorkerResult change incompatibly. */
export const PAYLOAD_VERSION = 1;

/** What the recording side asks of a running job. */
export type CancelRequest = 'cancel' | 'delete';

export interface JobPayload {
  v: number;
  id: string;
  method: string;
  params: Record<string, unknown>;
  inputs: Record<string, InputInfo>;
  /** Largest decoded image the API accepted (workers apply the same limit). */
  maxPixels: number;
  /** A video-chunk task: its frames. */
  chunk?: VideoChunk;
  /** A video-join task: every chunk of the job. */
  chunks?: VideoChunk[];
  /** Video tasks: most frames the job paints (the API's limit). */
  maxVideoFrames?: number;
}

/** Sent with job.updateProgress(): read by the API through QueueEvents. */
export type WorkerMessage =
  | { type: 'start'; worker: string; resumedFrom: number | null }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'preview'; iteration: number; checkpoint: boolean }
  /** The worker is stopping and put the job back in the queue (its image saved at `checkpoint`, if any). */
  | { type: 'requeued'; worker: string; checkpoint: number | null }
  /** A video chunk started on a worker (resumed after frame `resumedFrom` an earlier run stored). */
  | { type: 'chunk-start'; chunk: number; worker: string; resumedFrom: number | null }
  /** A video chunk stored frame `frame`; `kept` of its kept frames are stored. */
  | { type: 'chunk-progress'; chunk: number; frame: number; kept: number };

export interface WorkerResult {
  v: number;
  status: 'succeeded' | 'cancelled' | 'deleted';
  result: JobResultInfo | null;
  progress: JobProgress | null;
  /** Loss rows of this run (after resumedFrom). */
  history: LossPoint[];
  resumedFrom: number | null;
  worker: string;
  /** Keys of model files the job put in the shared storage (a fitted style), for the API to copy. */
  shared?: string[];
  /** A video chunk's run: what the join reports of it. */
  chunk?: ChunkReport;
}

export interface ChunkReport {
  index: number;
  worker: string;
  painted: number;
  kept: number;
  resumedFrom: number | null;
  seconds: number;
}

/** Why a payload cannot be run by this worker, or null. */
export function payloadProblem(data: unknown, methods: readonly string[]): string | null {
  const p = data as Partial<JobPayload> | null;
  if (!p || typeof p !== 'object') return 'the job payload is not an object';
  if (p.v !== PAYLOAD_VERSION) {
    return `the job payload has version ${JSON.stringify(p.v ?? null)}, this worker reads version ${PAYLOAD_VERSION}: run API servers and workers of the same nst release`;
  }
  if (typeof p.id !== 'string' || !/^[0-9a-f]{16}$/.test(p.id)) return 'the job payload has no valid job id';
  if (typeof p.method !== 'string' || !methods.includes(p.method)) return `this worker cannot run jobs of method ${JSON.stringify(p.method)} (it knows ${methods.join(', ')})`;
  if (!p.params || typeof p.params !== 'object' || !p.inputs || typeof p.inputs !== 'object') return 'the job payload lacks params or inputs';
  if (typeof p.maxPixels !== 'number') return 'the job payload lacks maxPixels';
  return null;
}
