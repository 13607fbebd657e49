/**
 * A queue worker (`nst worker`, or inside `nst serve --queue` unless --role api): takes jobs from
 * BullMQ, `concurrency` at a time, and runs them (see run-job.ts). BullMQ's lock on each job is
 * renewed while it runs; when a worker dies, the lock runs out after `lockSeconds` and another
 * worker takes the job, resuming from its last saved image. Cancel and delete requests from the
 * API are read from Redis once a second.
 */
import type { DeviceName } from '../engine/device';
import type { PrecisionOption } from '../engine/runtime';
import * as os from 'node:os';
import { Worker } from 'bullmq';
import { defaultJobKinds, JobKind } from '../jobs/kinds';
import type { FitSettings } from '../jobs/kinds';
import { pullSharedModels } from '../jobs/shared-models';
import type { Storage } from '../storage';
import type { CancelRequest } from '../jobs/protocol';
import { cancelKey, QUEUE_NAME } from './keys';
import { checkRedisUrl, connectChecked, redactRedisUrl, redisConnection } from './redis';
import { ActiveJob, processJob } from './run-job';
import type { JobLogger as QueueLogger } from '../jobs/queue';

export interface QueueWorkerOptions {
  /** redis://HOST:PORT of the queue. */
  queue: string;
  storage: Storage;
  /** Jobs run at once. Default 1. */
  concurrency?: number;
  /** Compute threads per job. Default: the cores divided among the jobs. */
  threads?: number;
  device?: DeviceName;
  /** Compute precision of the jobs (default auto). */
  precision?: PrecisionOption;
  modelDir?: string;
  /** Seconds without a sign of life before a job is given to another worker. Default 30. */
  lockSeconds?: number;
  /** How paintings are fitted (`fit` jobs); the library's defaults where absent. */
  fit?: FitSettings;
  /** Shown in job reports and GET /api/health. Default host:pid. */
  name?: string;
  kinds?: Map<string, JobKind>;
  log?: QueueLogger;
}

export interface RunningQueueWorker {
  readonly name: string;
  readonly concurrency: number;
  readonly threads: number;
  /** Number of jobs running now. */
  readonly busy: number;
  /** Takes no more jobs; running ones stop after their current iteration, save their image and go back to the queue. */
  close(): Promise<void>;
}

export const WORKER_DEFAULTS = { concurrency: 1, lockSeconds: 30 };
const CANCEL_POLL_MS = 1000;

export async function startQueueWorker(options: QueueWorkerOptions): Promise<RunningQueueWorker> {
  checkRedisUrl(options.queue);
  const concurrency = options.concurrency ?? WORKER_DEFAULTS.concurrency;
  const lockMs = Math.round((options.lockSeconds ?? WORKER_DEFAULTS.lockSeconds) * 1000);
  const threads = options.threads ?? Math.max(1, Math.floor(os.availableParallelism() / concurrency));
  const name = options.name ?? `${os.hostname()}:${process.pid}`;
  const log = options.log ?? { info: () => undefined, error: (m: string) => process.stderr.write(`nst worker: ${m}\n`) };
  const kinds = options.kinds ?? defaultJobKinds();

  await options.storage.check();
  // The styles other workers fitted before this one started (each job pulls the newer ones).
  await pullSharedModels(options.storage, options.modelDir);
  const connection = redisConnection(options.queue, { blocking: true, name: `nst-worker:${name}` });
  await connectChecked(connection, options.queue);
  // Cancel polls fail fast while Redis is away instead of piling up.
  const control = redisConnection(options.queue, { blocking: false });
  await connectChecked(control, options.queue).catch((err) => {
    connection.disconnect();
    throw err;
  });

  const active = new Map<string, ActiveJob>();
  // The token of each job's newest run here (queue id -> token): BullMQ keeps one lock per job id,
  // the newest run's, and a failed renewal is that run's.
  const newest = new Map<string, string>();
  const stop = (entry: ActiveJob, why: string) => {
    if (entry.lost) return;
    entry.lost = true;
    entry.controller.abort();
    log.error(`job ${entry.id}: ${why}; stopping it`);
  };
  const env = { storage: options.storage, kinds, threads, device: options.device, precision: options.precision, modelDir: options.modelDir, fit: options.fit, worker: name, lockMs, log };
  const worker = new Worker(
    QUEUE_NAME,
    async (job, token) => {
      const entry: ActiveJob = { id: String(job.data?.id ?? job.id), queueId: String(job.id), controller: new AbortController(), request: null, handBack: false, lost: false };
      const key = token ?? String(job.id);
      // The same job again here (re-queued while a stale run of it goes on, concurrency > 1): the
      // new run's lock replaced the old one's, so no renewal will ever fail for the stale run.
      for (const other of active.values()) if (other.queueId === entry.queueId) stop(other, 'started again on this worker (its lock was lost)');
      active.set(key, entry);
      newest.set(entry.queueId, key);
      try {
        const first = (await control.get(cancelKey(entry.id)).catch(() => null)) as CancelRequest | null;
        return await processJob(job, token!, env, entry, first);
      } finally {
        active.delete(key);
        if (newest.get(entry.queueId) === key) newest.delete(entry.queueId);
      }
    },
    {
      connection,
      concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // A job whose workers keep dying (5 times) is failed rather than passed around forever.
      maxStalledCount: 5,
      name,
    },
  );
  // A lock that cannot be renewed is gone (Redis restarted empty, or away past the lock): the queue
  // hands the job to a worker again, so this one stops it at once rather than run it to the end
  // alongside (after a Redis restart one job ran to its end on two workers).
  worker.on('lockRenewalFailed', (queueIds: string[]) => {
    for (const queueId of queueIds) {
      const entry = active.get(newest.get(queueId) ?? '');
      if (entry) stop(entry, 'lost its lock (Redis restarted, or was away for longer than the lock timeout)');
    }
  });
  // While Redis is away BullMQ reports every retry: say it once, and again when it is back.
  let away = false;
  worker.on('error', (err) => {
    if (away || /could not renew lock/.test(String((err as Error)?.message))) return; // said by lockRenewalFailed

    away = true;
    setTimeout(() => (away = false), 60_000).unref();
    log.error(`queue: ${String((err as Error)?.message ?? err).split('\n')[0]} (retrying until Redis answers)`);
  });
  connection.on('ready', () => {
    if (away) log.info('queue: Redis is back');
    away = false;
  });

  let polling = false;
  const poll = setInterval(() => {
    if (polling || active.size === 0 || control.status !== 'ready') return;
    polling = true;
    const entries = [...active.values()];
    control
      .mget(entries.map((e) => cancelKey(e.id)))
      .then((values) => {
        values.forEach((v, i) => {
          if ((v === 'cancel' || v === 'delete') && !entries[i].request) {
            entries[i].request = v;
            entries[i].controller.abort();
            log.info(`job ${entries[i].id}: ${v} requested; stopping`);
          }
        });
      })
      .catch(() => undefined)
      .finally(() => (polling = false));
  }, CANCEL_POLL_MS);
  poll.unref();

  log.info(`ready: queue ${redactRedisUrl(options.queue)}, storage ${options.storage.description}, ${concurrency} job${concurrency > 1 ? 's' : ''} at a time × ${threads} thread${threads > 1 ? 's' : ''}`);
  let closing: Promise<void> | null = null;
  return {
    name,
    concurrency,
    threads,
    get busy() {
      return active.size;
    },
    close: () =>
      (closing ??= (async () => {
        for (const e of active.values()) {
          e.handBack = true;
          e.controller.abort();
        }
        await worker.close();
        clearInterval(poll);
        control.disconnect();
        connection.disconnect();
      })()),
  };
}
