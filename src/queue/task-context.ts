/**
 * What every task of a queue worker runs with (a whole job in run-job.ts, a video's chunk or join
 * in video-tasks.ts): the worker's environment, the job it is running, and the steps they share —
 * fetching inputs, the compute settings, the queue's lock, handing a job back, and messages
 * without this worker's paths.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Job, WaitingError } from 'bullmq';
import type { DeviceName } from '../engine/device';
import type { PrecisionOption } from '../engine/runtime';
import { NstError } from '../errors';
import type { FitSettings, JobKind, RunSettings } from '../jobs/kinds';
import type { CancelRequest, JobPayload } from '../jobs/protocol';
import type { JobRecord } from '../jobs/store';
import { jobKey, Storage } from '../storage';

export interface RunEnvironment {
  storage: Storage;
  kinds: Map<string, JobKind>;
  threads: number;
  device?: DeviceName;
  precision?: PrecisionOption;
  modelDir?: string;
  fit?: FitSettings;
  /** This worker's name (host:pid), shown in job reports. */
  worker: string;
  /** The queue's lock on a job, in ms (renewed for as long as this worker owns it). */
  lockMs: number;
  log: { info(msg: string): void; error(msg: string): void };
}

/** A job this worker is running; the worker's poller and shutdown steer it. */
export interface ActiveJob {
  id: string;
  /** The queue's id of the job (job-<id>). */
  queueId: string;
  controller: AbortController;
  /**
   * Set when its lock could not be renewed: the job is not this worker's any more (Redis restarted
   * empty, or was away past the lock), and another worker may run it. Nothing more is written for it.
   */
  lost: boolean;
  /** Set when the API asked to cancel or delete the job. */
  request: CancelRequest | null;
  /** Set when this worker is shutting down: hand the job back instead of finishing it. */
  handBack: boolean;
}

/** Copies the job's inputs from the storage into `dir`; their local paths by role. */
export async function fetchInputs(storage: Storage, payload: JobPayload, dir: string): Promise<Record<string, string>> {
  const inputs: Record<string, string> = {};
  for (const [role, info] of Object.entries(payload.inputs)) {
    const bytes = await storage.get(jobKey(payload.id, info.file));
    if (!bytes) throw new NstError(`the ${role} ${info.video ? 'video' : 'image'} of job ${payload.id} is not in the job storage (do the API server and this worker use the same --storage?)`);
    inputs[role] = path.join(dir, info.file);
    await fs.promises.writeFile(inputs[role], bytes);
  }
  return inputs;
}

/** The compute settings of a job on this worker: the worker's, with the API's limits from the payload. */
export function runSettings(env: RunEnvironment, payload: JobPayload): RunSettings {
  return {
    threads: env.threads,
    device: env.device,
    precision: env.precision,
    modelDir: env.modelDir,
    maxPixels: payload.maxPixels,
    fit: env.fit,
    ...(payload.maxVideoFrames ? { maxVideoFrames: payload.maxVideoFrames } : {}),
  };
}

/**
 * Whether this worker still holds the job's lock (extended by one lock period if so). No answer
 * within a lock period (Redis away) means the lock has run out meanwhile: not ours any more.
 */
export async function stillOwned(job: Job, token: string, lockMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(0), lockMs)));
  try {
    return Number(await Promise.race([job.extendLock(token, lockMs), timeout])) === 1;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** A lost job is left alone: no result, no failure, no hand-back (WaitingError: BullMQ moves nothing). */
export function letGo(id: string, env: RunEnvironment): WaitingError {
  env.log.info(`job ${id}: stopped here, it is another worker's now`);
  return new WaitingError();
}

/**
 * Back to the waiting list for any worker. If Redis cannot be told now, the job's lock runs out and
 * BullMQ's stalled-job check hands it on all the same.
 */
export async function handBack(job: Job, token: string): Promise<void> {
  await job.moveToWait(token).catch(() => undefined);
}

/** A message without this worker's paths: its temporary folder (files by name) and its storage directory. */
export function withoutLocalPaths(message: string, dir: string, storage: Storage): string {
  let out = message.split(`${dir}/`).join('').split(dir).join("the job's folder");
  if (storage.localPath) out = out.split(`${storage.description}/`).join('').split(storage.description).join('the job storage');
  return out;
}

export function oneLine(message: string): string {
  return message.replace(/\s*\r?\n\s*/g, ' ').trim() || 'error';
}

/** The job's record as a worker knows it (from the payload). */
export function recordOf(payload: JobPayload, job: Job, checkpointIteration: number | null = null): JobRecord {
  return {
    id: payload.id,
    seq: 0,
    method: payload.method,
    status: 'running',
    params: payload.params,
    inputs: payload.inputs,
    createdAt: new Date(job.timestamp).toISOString(),
    startedAt: null,
    finishedAt: null,
    progress: null,
    checkpointIteration,
    resumes: [],
    history: [],
    error: null,
    result: null,
  };
}
