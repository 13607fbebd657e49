/**
 * The one seam between the job manager (records, files, HTTP in src/server) and whatever runs the
 * jobs: the embedded queue (SQLite records + worker threads of this process, the default,
 * embedded-queue.ts) or the BullMQ one (worker processes on any machine, src/queue). The manager
 * is written once against this interface; the same contract tests run against both.
 */
import type { JobFiles } from './files';
import type { JobKind } from './kinds';
import type { JobProgress, JobRecord, JobStore, LossPoint } from './store';

/** The live events of a job: its status, progress, previews and its end. */
export type JobEvent = 'status' | 'progress' | 'preview' | 'end';

export interface JobLogger {
  info(msg: string): void;
  error(msg: string): void;
}

/** What the job manager lends a queue: its records, local files, live events and its finish step. */
export interface JobSink {
  store: JobStore;
  files: JobFiles;
  /** Sends a live event of a job to whoever follows it (the page's event streams). */
  publish(id: string, event: JobEvent, data: unknown): void;
  log: JobLogger;
  /** Marks the job terminal (with `patch`), publishes the end event and writes its report. */
  finish(id: string, patch: Partial<JobRecord>): void;
}

/** What GET /api/health says of a queue. */
export interface QueueHealth {
  /** Whether the queue can take and run jobs now. */
  ok: boolean;
  /** What is down, one line each (empty when ok). */
  down: string[];
  /** The queue's own details (backend, connection, workers seen, depth); absent for the embedded queue. */
  details?: Record<string, unknown>;
}

export interface JobQueue {
  /** Why jobs of this kind cannot run on this queue, or null. */
  refuses(kind: JobKind): string | null;
  /** Starts running jobs; brings records up to date with what happened while away (restart, resume). */
  attach(sink: JobSink): Promise<void>;
  /** Throws an HTTP 503 error while the queue cannot take jobs. */
  assertAvailable(): void;
  /** Puts a recorded job (inputs already in the local files) in the queue. */
  submit(job: JobRecord): Promise<void>;
  /** Cancels a queued job at once, or asks the one running it to stop; returns the record. */
  cancel(job: JobRecord): JobRecord;
  /** Stops and forgets a job before its record and files are deleted; resolves once it has stopped here. */
  forget(job: JobRecord): Promise<void>;
  /** 1-based place of a queued job among all queued jobs, or 0. */
  position(job: JobRecord): number;
  /** Jobs waiting and running now. */
  counts(): { queued: number; running: number };
  /** Progress and loss history newer than the record, of a job running in this process. */
  liveState(id: string): { progress: JobProgress | null; history: LossPoint[] } | undefined;
  health(): QueueHealth;
  /** Stops taking work; running jobs stop after their current iteration and are resumed by the next start. */
  close(): Promise<void>;
}
