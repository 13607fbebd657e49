/**
 * A video job on the queue is a BullMQ flow: one `video-chunk` task per chunk of frames (children,
 * taken by different workers at once) and a `video-join` task (the parent, which BullMQ queues
 * once every chunk is done) that joins the stored frames into the job's result. A chunk's
 * failure fails the job. Chunks keep the job's id in their payload, so cancel and delete requests
 * reach every worker painting one.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FlowJob, Job, UnrecoverableError, WaitingError } from 'bullmq';
import { NstError } from '../errors';
import type { JobKind } from '../jobs/kinds';
import { pullSharedModels } from '../jobs/shared-models';
import { ChunkReport, CancelRequest, JobPayload, PAYLOAD_VERSION, VIDEO_CHUNK_METHOD, VIDEO_JOIN_METHOD, WorkerMessage, WorkerResult } from '../jobs/protocol';
import { joinVideoChunks, paintVideoChunk } from '../jobs/video-chunks';
import { jobKey, Storage, StorageError } from '../storage';
import type { VideoChunk } from '../video/chunks';
import { ActiveJob, fetchInputs, handBack, letGo, oneLine, recordOf, RunEnvironment, runSettings, stillOwned, withoutLocalPaths } from './task-context';
import { QUEUE_NAME } from './keys';

/** The queue's id of chunk `index` of job `id` (the join has the job's own, job-<id>). */
export const chunkQueueId = (id: string, index: number) => `job-${id}-chunk-${index}`;

/** The job id and chunk of a chunk's queue id, or null. */
export function parseChunkQueueId(queueId: string): { id: string; chunk: number } | null {
  const m = /^job-([0-9a-f]{16})-chunk-(\d+)$/.exec(queueId);
  return m ? { id: m[1], chunk: Number(m[2]) } : null;
}

/** The flow of a video job: the join with its chunks as children. */
export function videoFlow(base: JobPayload, chunks: VideoChunk[], opts: { keepSeconds: number }): FlowJob {
  const keep = { removeOnComplete: { age: opts.keepSeconds }, removeOnFail: { age: opts.keepSeconds } };
  return {
    name: VIDEO_JOIN_METHOD,
    queueName: QUEUE_NAME,
    data: { ...base, method: VIDEO_JOIN_METHOD, chunks } satisfies JobPayload,
    opts: { jobId: `job-${base.id}`, attempts: 1, ...keep },
    children: chunks.map((chunk) => ({
      name: VIDEO_CHUNK_METHOD,
      queueName: QUEUE_NAME,
      data: { ...base, method: VIDEO_CHUNK_METHOD, chunk } satisfies JobPayload,
      opts: { jobId: chunkQueueId(base.id, chunk.index), attempts: 1, failParentOnFailure: true, ...keep },
    })),
  };
}

/** The join as a job kind, so it runs (and ends, is cancelled, handed back) like any job. */
export function videoJoinKind(storage: Storage, payload: JobPayload, job: Job): JobKind {
  return {
    name: VIDEO_JOIN_METHOD,
    description: "joins a video job's chunks",
    resumable: false,
    parse: () => ({}),
    inputs: () => ['content'],
    async run(ctx) {
      const values = (await job.getChildrenValues().catch(() => ({}))) as Record<string, WorkerResult | undefined>;
      const reports = Object.values(values).flatMap((v) => (v?.chunk ? [v.chunk] : []));
      const outcome = await joinVideoChunks({ storage, job: ctx.job, chunks: payload.chunks ?? [], settings: ctx, dir: ctx.dir, inputs: ctx.inputs, reports });
      // The job's last progress: every frame, at the rate of the whole job.
      const seconds = (Date.now() - job.timestamp) / 1000;
      ctx.progress({ iteration: outcome.iterations, iterations: outcome.iterations, elapsedSeconds: Math.round(seconds * 10) / 10, etaSeconds: 0, iterationsPerSecond: Math.round((outcome.iterations / Math.max(seconds, 1e-3)) * 1000) / 1000, unit: 'frames' });
      return outcome;
    },
  };
}

/** Paints one chunk (see the file comment); ends like run-job.ts's processJob. */
export async function processVideoChunk(job: Job, token: string, env: RunEnvironment, active: ActiveJob, firstRequest: CancelRequest | null): Promise<WorkerResult> {
  const payload = job.data as JobPayload;
  const id = payload.id;
  const chunk = payload.chunk;
  const done = (status: WorkerResult['status'], report?: ChunkReport): WorkerResult => ({
    v: PAYLOAD_VERSION,
    status,
    result: null,
    progress: null,
    history: [],
    resumedFrom: report?.resumedFrom ?? null,
    worker: env.worker,
    ...(report ? { chunk: report } : {}),
  });
  if (!chunk) throw new UnrecoverableError('the video chunk task has no chunk');
  if (firstRequest) return done(firstRequest === 'delete' ? 'deleted' : 'cancelled');
  let sending: Promise<unknown> = Promise.resolve();
  const send = (msg: WorkerMessage) => {
    sending = sending.then(() => (active.lost ? undefined : job.updateProgress(msg as unknown as object))).catch(() => undefined);
  };
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), `nst-job-${id}-chunk-${chunk.index}-`));
  try {
    const inputs = await fetchInputs(env.storage, payload, dir);
    await pullSharedModels(env.storage, env.modelDir);
    const outcome = await paintVideoChunk({
      storage: env.storage,
      job: recordOf(payload, job),
      chunk,
      settings: runSettings(env, payload),
      dir,
      inputs,
      signal: active.controller.signal,
      onStart: (resumedFrom) => {
        send({ type: 'chunk-start', chunk: chunk.index, worker: env.worker, resumedFrom });
        env.log.info(`job ${id} (video chunk ${chunk.index + 1}, frames ${chunk.keepFrom}–${chunk.keepTo ?? 'end'}): started${resumedFrom === null ? '' : `, resuming after frame ${resumedFrom}`}`);
      },
      onFrame: (frame, kept) => send({ type: 'chunk-progress', chunk: chunk.index, frame, kept }),
      onPreview: (frame) => send({ type: 'preview', iteration: frame, checkpoint: false }),
    });
    if (active.lost) throw letGo(id, env);
    if (active.handBack && !active.request) {
      // Every finished frame is stored: any worker continues after the last one.
      send({ type: 'requeued', worker: env.worker, checkpoint: null });
      await sending;
      await handBack(job, token);
      env.log.info(`job ${id}: video chunk ${chunk.index + 1} handed back to the queue after frame ${outcome.lastFrame}`);
      throw new WaitingError();
    }
    if (!(await stillOwned(job, token, env.lockMs))) active.lost = true;
    if (active.lost) throw letGo(id, env);
    await sending;
    if (active.request === 'delete') {
      // After this chunk's last write: nothing of the job stays in the storage.
      await env.storage.removePrefix(jobKey(id));
      return done('deleted');
    }
    if (active.request) return done('cancelled');
    env.log.info(`job ${id}: video chunk ${chunk.index + 1} done (${outcome.painted} frames painted here)`);
    return done(outcome.cancelled ? 'cancelled' : 'succeeded', {
      index: chunk.index,
      worker: env.worker,
      painted: outcome.painted,
      kept: outcome.kept,
      resumedFrom: outcome.resumedFrom,
      seconds: Math.round(outcome.seconds * 1000) / 1000,
    });
  } catch (err) {
    if (err instanceof WaitingError) throw err;
    if (active.lost) throw letGo(id, env);
    await sending;
    if (active.handBack && !active.request && !(err instanceof NstError) && !(err instanceof StorageError)) {
      send({ type: 'requeued', worker: env.worker, checkpoint: null });
      await sending;
      await handBack(job, token);
      throw new WaitingError();
    }
    const message = err instanceof NstError || err instanceof StorageError ? oneLine(err.message) : `internal error: ${oneLine(String((err as Error)?.message ?? err))}`;
    env.log.error(`job ${id} (video chunk ${chunk.index + 1}) failed: ${message}`);
    throw new UnrecoverableError(withoutLocalPaths(err instanceof StorageError ? err.publicMessage : message, dir, env.storage));
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
