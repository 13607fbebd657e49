/**
 * The embedded queue (the default; no service needed): jobs wait in a first-in first-out list in
 * this process, `concurrency` at a time run through their kind (compute in worker threads, so the
 * server keeps answering), and their records in SQLite are the queue. Previews and checkpoints are
 * saved atomically in the job's folder.
 *
 * - a job that was running when the process died is resumed from its last checkpoint (or run again
 *   when it has none, or its kind cannot resume); with `resume: false` it is marked `interrupted`
 *   and its last image is kept as a partial result;
 * - queued jobs are queued again in their original order;
 * - on close, running jobs stop after their current iteration and save a checkpoint first, so the
 *   next start resumes them;
 * - a full disk fails the job it hits (with a message that says so) and nothing else.
 */
import sharp from 'sharp';
import { encodeImage, saveImage } from '../image';
import { NstError } from '../errors';
import { isDiskFull } from './disk-full';
import { FifoQueue } from './fifo';
import { oneLine } from './http-error';
import type { JobKind, RunSettings } from './kinds';
import type { JobQueue, JobSink, QueueHealth } from './queue';
import { Preview, recordResult, runOneJob } from './run-one';
import type { JobProgress, JobRecord, JobResultInfo, LossPoint } from './store';

export interface EmbeddedQueueOptions {
  /** Jobs run at once. */
  concurrency: number;
  /** Resume jobs a crash or shutdown interrupted (else they end 'interrupted'). */
  resume: boolean;
  /** The compute settings every job runs with. */
  run: RunSettings;
  kinds: Map<string, JobKind>;
  /** Named in the log when the disk fills up. */
  dataDir: string;
}

interface Live {
  controller: AbortController;
  cancelRequested: boolean;
  progress: JobProgress | null;
  history: LossPoint[];
  lastWrite: number;
  /** Set when a write failed for lack of space: the job stops and fails with this message. */
  diskFull: string | null;
}

const PROGRESS_WRITE_MS = 1000;

export class EmbeddedJobQueue implements JobQueue {
  private sink!: JobSink;
  private readonly fifo: FifoQueue;
  private readonly live = new Map<string, Live>();
  private closing = false;

  constructor(private readonly options: EmbeddedQueueOptions) {
    this.fifo = new FifoQueue(options.concurrency, (id) => this.runJob(id));
  }

  refuses(): string | null {
    return null;
  }

  async attach(sink: JobSink): Promise<void> {
    this.sink = sink;
    const { store, files, log } = sink;
    const now = new Date().toISOString();
    for (const job of store.withStatus(['running'])) {
      const kind = this.options.kinds.get(job.method);
      const hasCheckpoint = job.checkpointIteration !== null && files.exists(job.id, 'checkpoint.png');
      if (!kind) {
        sink.finish(job.id, { status: 'failed', error: `unknown method '${job.method}'` });
      } else if (this.options.resume) {
        const from = kind.resumable && hasCheckpoint ? job.checkpointIteration! : 0;
        store.update(job.id, { status: 'queued', resumes: [...job.resumes, { at: now, fromIteration: from }] });
        log.info(`job ${job.id}: interrupted by a restart; ${from > 0 ? `resuming from iteration ${from}` : 'running it again'}`);
      } else {
        const kept = files.exists(job.id, 'preview.jpg') ? 'preview.jpg' : hasCheckpoint ? 'checkpoint.png' : null;
        const result: JobResultInfo | null = kept
          ? {
              file: kept,
              ...(await this.imageSizeOf(job.id, kept)),
              iterations: job.checkpointIteration ?? 0,
              seconds: job.progress?.elapsedSeconds ?? 0,
              losses: job.progress?.losses,
              details: {},
              partial: true,
            }
          : null;
        sink.finish(job.id, {
          status: 'interrupted',
          result,
          error: `the server stopped while the job was running${kept ? `; its last image (iteration ${job.checkpointIteration ?? '?'}) is kept` : ''}`,
        });
      }
    }
    for (const job of store.withStatus(['queued'])) this.fifo.push(job.id);
  }

  assertAvailable(): void {}

  async submit(job: JobRecord): Promise<void> {
    this.fifo.push(job.id);
  }

  cancel(job: JobRecord): JobRecord {
    const live = this.live.get(job.id);
    if (live) {
      live.cancelRequested = true;
      live.controller.abort();
      return job;
    }
    this.fifo.remove(job.id);
    this.sink.finish(job.id, { status: 'cancelled' });
    return this.sink.store.get(job.id)!;
  }

  async forget(job: JobRecord): Promise<void> {
    this.fifo.remove(job.id);
    const live = this.live.get(job.id);
    if (!live) return;
    live.cancelRequested = true;
    live.controller.abort();
    await this.fifo.settled(job.id);
  }

  position(job: JobRecord): number {
    return this.fifo.position(job.id);
  }

  counts(): { queued: number; running: number } {
    return { queued: this.fifo.waitingCount, running: this.fifo.runningCount };
  }

  liveState(id: string): { progress: JobProgress | null; history: LossPoint[] } | undefined {
    return this.live.get(id);
  }

  health(): QueueHealth {
    return { ok: true, down: [] };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const live of this.live.values()) live.controller.abort();
    await this.fifo.stop();
  }

  // --------------------------------------------------------------------------------------------

  private async runJob(id: string): Promise<void> {
    const { store, files, log } = this.sink;
    const publish = this.sink.publish;
    let job = store.get(id);
    if (!job || job.status !== 'queued') return;
    const kind = this.options.kinds.get(job.method);
    if (!kind) {
      this.sink.finish(id, { status: 'failed', error: `unknown method '${job.method}'` });
      return;
    }
    const live: Live = { controller: new AbortController(), cancelRequested: false, progress: job.progress, history: job.history, lastWrite: 0, diskFull: null };
    const now = new Date().toISOString();
    try {
      job = store.update(id, { status: 'running', startedAt: job.startedAt ?? now, error: null })!;
    } catch (err) {
      this.sink.finish(id, { status: 'failed', error: isDiskFull(err) ? 'the disk is full: the job could not start; free space on the server and run it again' : `internal error: ${errorLine(err)}` });
      return;
    }
    this.live.set(id, live);
    publish(id, 'status', { status: 'running' });

    const resume = job.resumes.length > 0 ? job.resumes[job.resumes.length - 1].fromIteration : 0;
    const checkpoint = kind.resumable && resume > 0 && files.exists(id, 'checkpoint.png') ? { file: files.file(id, 'checkpoint.png'), iteration: resume } : null;
    // The loss history goes on from the checkpoint (what came after it is computed again).
    live.history = checkpoint ? live.history.filter((row) => row[0] <= checkpoint.iteration) : [];

    // A full disk stops the job at once (its checkpoints and results could not be kept anyway).
    const stopForFullDisk = () => {
      if (live.diskFull) return;
      const at = live.progress ? ` at iteration ${live.progress.iteration}` : '';
      live.diskFull = `the disk is full: the job stopped${at}; free space on the server and run it again`;
      log.error(`job ${id}: the disk of ${this.options.dataDir} is full; stopping the job`);
      live.controller.abort();
    };

    const savePreview = async (p: Preview) => {
      try {
        if (kind.resumable) await saveImage(p.raw, files.file(id, 'checkpoint.png'));
        await files.write(id, 'preview.jpg', await encodeImage(p.display, 'jpeg', { quality: 90 }));
        store.update(id, { checkpointIteration: kind.resumable ? p.iteration : null, progress: live.progress, history: live.history });
        live.lastWrite = Date.now();
        publish(id, 'preview', { iteration: p.iteration, url: `/api/jobs/${id}/preview?iteration=${p.iteration}` });
      } catch (err) {
        if (isDiskFull(err)) stopForFullDisk();
        else log.error(`job ${id}: cannot save a preview: ${errorLine(err)}`);
      }
    };
    const onProgress = (progress: JobProgress) => {
      publish(id, 'progress', progress);
      if (Date.now() - live.lastWrite > PROGRESS_WRITE_MS) {
        live.lastWrite = Date.now();
        // Called from a worker's message event: nothing may escape it (it would end the process).
        try {
          store.update(id, { progress, history: live.history });
        } catch (err) {
          if (isDiskFull(err)) stopForFullDisk();
          else log.error(`job ${id}: cannot record its progress: ${errorLine(err)}`);
        }
      }
    };
    const inputs = Object.fromEntries(Object.entries(job.inputs).map(([role, info]) => [role, files.file(id, info.file)]));

    try {
      const outcome = await runOneJob({ kind, job, settings: this.options.run, dir: files.dir(id), inputs, checkpoint, signal: live.controller.signal, state: live, onProgress, savePreview });
      if (live.diskFull) {
        this.sink.finish(id, { status: 'failed', error: live.diskFull, progress: live.progress, history: live.history });
        return;
      }
      if (this.closing && outcome.cancelled && !live.cancelRequested) {
        // Shutdown: keep the job 'running' with a fresh checkpoint; the next start resumes it.
        if (kind.resumable && outcome.raw) {
          await saveImage(outcome.raw, files.file(id, 'checkpoint.png'));
          store.update(id, { checkpointIteration: outcome.iterations, progress: live.progress, history: live.history });
        }
        return;
      }
      const result = await recordResult(outcome, job.params, (file, image) => saveImage(image, files.file(id, file)));
      this.sink.finish(id, { status: outcome.cancelled ? 'cancelled' : 'succeeded', result, progress: live.progress, history: live.history });
    } catch (err) {
      if (isDiskFull(err)) stopForFullDisk();
      if (this.closing && !live.cancelRequested && !live.diskFull) return;
      const message = live.diskFull ?? (err instanceof NstError ? oneLine(err.message) : `internal error: ${errorLine(err)}`);
      log.error(`job ${id} failed: ${message}`);
      this.sink.finish(id, { status: 'failed', error: message, progress: live.progress, history: live.history });
    } finally {
      this.live.delete(id);
    }
  }

  private async imageSizeOf(id: string, file: string): Promise<{ width: number; height: number }> {
    try {
      const meta = await sharp(this.sink.files.file(id, file)).metadata();
      return { width: meta.width ?? 0, height: meta.height ?? 0 };
    } catch {
      return { width: 0, height: 0 };
    }
  }
}

function errorLine(err: unknown): string {
  return oneLine(String((err as Error)?.message ?? err));
}
