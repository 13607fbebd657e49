/**
 * One job on a queue worker: reads its inputs (and the last saved image of an earlier attempt)
 * from storage into a temporary folder, runs its kind exactly as the embedded server does, saves
 * each preview as the new resume point, and writes the result to storage. Progress and previews
 * go to the API through the job's progress messages.
 *
 * Endings: the result (or a cancelled job's partial result); a failure with a one-line message
 * (never retried: bad input and storage faults do not heal by themselves); or, when the worker is
 * shutting down, the job goes back to the queue after saving its image, for any worker to resume.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Job, UnrecoverableError, WaitingError } from 'bullmq';
import { encodeImage, RgbImage, saveImage } from '../image';
import { NstError } from '../errors';
import type { JobRunContext } from '../jobs/kinds';
import { pullSharedModels, pushSharedModels } from '../jobs/shared-models';
import type { JobProgress, JobResultInfo, LossPoint } from '../jobs/store';
import { jobKey, Storage, StorageError } from '../storage';
import { Preview, recordResult, RunState, runOneJob } from '../jobs/run-one';
import { CancelRequest, JobPayload, PAYLOAD_VERSION, payloadProblem, VIDEO_CHUNK_METHOD, VIDEO_JOIN_METHOD, WorkerMessage, WorkerResult } from '../jobs/protocol';
import { processVideoChunk, videoJoinKind } from './video-tasks';
import { ActiveJob, fetchInputs, handBack, letGo, oneLine, recordOf, RunEnvironment, runSettings, stillOwned, withoutLocalPaths } from './task-context';

export type { ActiveJob, RunEnvironment } from './task-context';

export async function processJob(job: Job, token: string, env: RunEnvironment, active: ActiveJob, firstRequest: CancelRequest | null): Promise<WorkerResult> {
  const problem = payloadProblem(job.data, [...env.kinds.keys(), VIDEO_CHUNK_METHOD, VIDEO_JOIN_METHOD]);
  if (problem) {
    env.log.error(`job ${job.id}: refused: ${problem}`);
    throw new UnrecoverableError(problem);
  }
  const payload = job.data as JobPayload;
  if (payload.method === VIDEO_CHUNK_METHOD) return processVideoChunk(job, token, env, active, firstRequest);
  const kind = payload.method === VIDEO_JOIN_METHOD ? videoJoinKind(env.storage, payload, job) : env.kinds.get(payload.method)!;
  const id = payload.id;
  const done = (status: WorkerResult['status'], result: JobResultInfo | null, progress: JobProgress | null, history: LossPoint[], resumedFrom: number | null, shared?: string[]): WorkerResult => ({
    v: PAYLOAD_VERSION,
    status,
    result,
    progress,
    history,
    resumedFrom,
    worker: env.worker,
    ...(shared?.length ? { shared } : {}),
  });
  if (firstRequest) return done(firstRequest === 'delete' ? 'deleted' : 'cancelled', null, null, [], null);

  // Messages go out in order; a lost one (Redis away for a moment) is not fatal. A job this worker
  // lost sends nothing more: the worker that has it now reports.
  let sending: Promise<unknown> = Promise.resolve();
  const send = (msg: WorkerMessage) => {
    sending = sending.then(() => (active.lost ? undefined : job.updateProgress(msg as unknown as object))).catch(() => undefined);
  };

  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), `nst-job-${id}-`));
  try {
    const inputs = await fetchInputs(env.storage, payload, dir);
    let checkpoint: JobRunContext['checkpoint'] = null;
    if (kind.resumable) {
      const meta = await env.storage.get(jobKey(id, 'checkpoint.json'));
      const image = meta && (await env.storage.get(jobKey(id, 'checkpoint.png')));
      const iteration = meta ? Number(JSON.parse(meta.toString('utf8')).iteration) : NaN;
      if (image && Number.isInteger(iteration) && iteration > 0) {
        const file = path.join(dir, 'checkpoint.png');
        await fs.promises.writeFile(file, image);
        checkpoint = { file, iteration };
      }
    }
    const retried = job.attemptsStarted > 1 || job.stalledCounter > 0;
    const resumedFrom = checkpoint ? checkpoint.iteration : retried ? 0 : null;
    send({ type: 'start', worker: env.worker, resumedFrom });
    env.log.info(`job ${id} (${payload.method}): started${resumedFrom === null ? '' : resumedFrom > 0 ? `, resuming from iteration ${resumedFrom}` : ', running it again'}`);

    const state: RunState = { progress: null, history: [] };
    let storageFault: StorageError | null = null;
    const savePreview = async (p: Preview) => {
      if (active.lost) return;
      try {
        if (kind.resumable) await saveCheckpoint(env.storage, id, p.raw, p.iteration);
        await env.storage.put(jobKey(id, 'preview.jpg'), await encodeImage(p.display, 'jpeg', { quality: 90 }));
        send({ type: 'preview', iteration: p.iteration, checkpoint: kind.resumable });
      } catch (err) {
        if (err instanceof StorageError) {
          storageFault ??= err;
          active.controller.abort();
        } else {
          env.log.error(`job ${id}: cannot encode a preview: ${String((err as Error)?.message ?? err)}`);
        }
      }
    };

    const record = recordOf(payload, job, checkpoint?.iteration ?? null);
    const settings = runSettings(env, payload);
    // A style another worker fitted since this one started: here before the job names it.
    await pullSharedModels(env.storage, env.modelDir);
    const outcome = await runOneJob({
      kind,
      job: record,
      settings,
      dir,
      inputs,
      checkpoint,
      signal: active.controller.signal,
      state,
      onProgress: (progress) => send({ type: 'progress', progress }),
      savePreview,
    });
    const { progress, history } = state;
    if (active.lost) throw letGo(id, env);
    if (storageFault) throw storageFault;

    if (active.handBack && !active.request) {
      // This worker is stopping: save where the job is, and put it back for any worker.
      const saved = kind.resumable && outcome.raw && outcome.iterations > 0;
      if (saved) await saveCheckpoint(env.storage, id, outcome.raw!, outcome.iterations);
      send({ type: 'requeued', worker: env.worker, checkpoint: saved ? outcome.iterations : null });
      await sending;
      await handBack(job, token);
      env.log.info(`job ${id}: handed back to the queue${kind.resumable && outcome.raw ? ` at iteration ${outcome.iterations}` : ''}`);
      throw new WaitingError();
    }
    // The lock is renewed only now and then: a stale run (Redis restarted empty) can reach its end
    // before the renewal that would tell it. Ask now, before writing anything that ends the job.
    if (!(await stillOwned(job, token, env.lockMs))) active.lost = true;
    if (active.lost) throw letGo(id, env);
    if (active.request === 'delete') {
      await env.storage.removePrefix(jobKey(id));
      return done('deleted', null, progress, history, resumedFrom);
    }
    const result = await recordResult(
      outcome,
      payload.params,
      async (file, image) => {
        const local = path.join(dir, file);
        await saveImage(image, local);
        await env.storage.put(jobKey(id, file), await fs.promises.readFile(local));
      },
      { worker: env.worker },
    );
    // A result the kind wrote itself (a video) and its poster: into the storage, for the API.
    for (const file of outcome.file ? [outcome.file.name, outcome.file.poster] : []) {
      if (file) await env.storage.put(jobKey(id, file), await fs.promises.readFile(path.join(dir, file)));
    }
    await sending;
    const status = outcome.cancelled ? 'cancelled' : 'succeeded';
    env.log.info(`job ${id}: ${status}`);
    const shared = outcome.cancelled ? [] : await pushSharedModels(env.storage, outcome.shared ?? []);
    return done(status, result, progress, history, resumedFrom, shared);
  } catch (err) {
    if (err instanceof WaitingError) throw err;
    if (active.lost) throw letGo(id, env);
    await sending;
    if (active.handBack && !active.request && !(err instanceof NstError) && !(err instanceof StorageError)) {
      send({ type: 'requeued', worker: env.worker, checkpoint: null });
      await sending;
      await handBack(job, token);
      env.log.info(`job ${id}: handed back to the queue`);
      throw new WaitingError();
    }
    const message = err instanceof NstError || err instanceof StorageError ? oneLine(err.message) : `internal error: ${oneLine(String((err as Error)?.message ?? err))}`;
    env.log.error(`job ${id} failed: ${message}`);
    // The reason becomes the job's error in the API: what happened, not where this worker keeps files.
    throw new UnrecoverableError(withoutLocalPaths(err instanceof StorageError ? err.publicMessage : message, dir, env.storage));
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function saveCheckpoint(storage: Storage, id: string, raw: RgbImage, iteration: number): Promise<void> {
  // Image first, then the iteration that names it: a crash between the two resumes from an older number, never a newer one.
  await storage.put(jobKey(id, 'checkpoint.png'), await encodeImage(raw, 'png'));
  await storage.put(jobKey(id, 'checkpoint.json'), Buffer.from(JSON.stringify({ iteration }) + '\n'));
}
