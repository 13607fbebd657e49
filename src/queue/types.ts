/**
 * The seam between the HTTP server's job runner (src/server/job-manager.ts) and a queue that runs
 * jobs in other processes. Without one, the server runs jobs itself (the embedded SQLite queue and
 * worker threads, unchanged); with one, it records jobs, hands them to the queue, and keeps its
 * records up to date from what the queue reports.
 */
import type { EventHub } from '../server/events';
import type { JobFiles } from '../server/job-files';
import type { JobRecord, JobStore } from '../server/job-store';

export interface QueueLogger {
  info(msg: string): void;
  error(msg: string): void;
}

/** What the job runner lends the queue: its records, local files, live events and its finish step. */
export interface JobSink {
  store: JobStore;
  files: JobFiles;
  hub: EventHub;
  log: QueueLogger;
  /** Marks the job terminal (with `patch`), publishes the end event and writes its report. */
  finish(id: string, patch: Partial<JobRecord>): void;
}

export interface DistributedQueue {
  /** Starts following the queue; brings records up to date with what happened while away. */
  attach(sink: JobSink): Promise<void>;
  /** Throws an HTTP 503 error while the queue cannot take jobs. */
  assertAvailable(): void;
  /** Puts a recorded job (inputs already in the local files) in the queue. */
  submit(job: JobRecord): Promise<void>;
  /** Cancels a queued job at once, or asks the worker running it to stop; returns the record. */
  cancel(job: JobRecord): JobRecord;
  /** Stops and forgets a job before its record and files are deleted. */
  forget(job: JobRecord): Promise<void>;
  /** 1-based place of a queued job among all queued jobs, or 0. */
  position(job: JobRecord): number;
  /** For GET /api/health: connection, workers seen, depth. */
  health(): Record<string, unknown>;
  close(): Promise<void>;
}
