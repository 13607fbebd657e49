/**
 * The job runner: creates jobs (records + input files), feeds them to the queue, runs each through
 * its kind (compute happens in a worker thread, so the server keeps answering), publishes live
 * events, saves previews and checkpoints atomically, writes the result and the report, and
 * handles cancel, delete, shutdown and recovery after a restart:
 *
 * - a job that was running when the server died is resumed from its last checkpoint (or restarted
 *   when it has none, or its kind cannot resume); with `resume: false` it is marked `interrupted`
 *   and its last image is kept as a partial result;
 * - queued jobs are queued again in their original order;
 * - on a graceful shutdown, running jobs stop after their current iteration and save a checkpoint
 *   first, so the next start resumes them;
 * - a full disk fails the job it hits (with a message that says so) and nothing else: the server
 *   stays up, a job record that cannot be written is kept in memory and written once space is
 *   free again, and creating a job answers 507 without leaving anything behind; deleting a job
 *   works on a full disk (it is how space is freed): its files go first, then its record.
 */
import { latestOnlyWriter } from '../util/latest-only';
import * as fs from 'node:fs';
import sharp from 'sharp';
import { encodeImage, RgbImage, saveImage } from '../image';
import { NstError } from '../errors';
import type { ResolvedServeOptions } from './config';
import { DISK_FULL_MESSAGE, isDiskFull } from './disk-full';
import { EventHub } from './events';
import { hideServerPaths } from './hide-paths';
import { HttpError, oneLine, RETRY_AFTER_SECONDS } from './http-error';
import { JOB_ID_PATTERN, JobFiles, newJobId } from './job-files';
import type { InputRole, JobKind, JobRunContext } from './job-kinds';
import { InputInfo, JobProgress, JobRecord, JobResultInfo, JobStore, LossPoint, TERMINAL_STATUSES } from './job-store';
import { JobQueue } from './queue';
import type { DistributedQueue } from '../queue/types';

export type ResultFormat = 'jpg' | 'png' | 'webp';
export const RESULT_FORMATS: readonly ResultFormat[] = ['jpg', 'png', 'webp'];

export interface NewJobInput {
  role: InputRole;
  name: string;
  source: 'upload' | 'sample';
  /** The image: a received upload (moved into the job's folder) or a sample file (copied). */
  file: string;
  bytes: number;
  format: string;
  extension: string;
  width: number;
  height: number;
  video?: InputInfo['video'];
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

export interface Logger {
  info(msg: string): void;
  error(msg: string): void;
}

const PROGRESS_WRITE_MS = 1000;
/** How often job records that could not be written (disk full) are tried again. */
const UNSAVED_RETRY_MS = 2000;

export class JobManager {
  readonly store: JobStore;
  readonly files: JobFiles;
  readonly hub = new EventHub();
  private readonly queue: JobQueue;
  private readonly live = new Map<string, Live>();
  /** Jobs being deleted: their run's end is not announced (their only end is 'deleted'). */
  private readonly deleting = new Set<string>();
  /** Record changes a full disk kept from the database, shown as if written and retried. */
  private readonly unsaved = new Map<string, Partial<JobRecord>>();
  private retryTimer: NodeJS.Timeout | null = null;
  /** Reports being written (close() waits for them before closing the database). */
  private readonly pendingReports = new Set<Promise<void>>();
  private closing = false;

  constructor(
    private readonly options: ResolvedServeOptions,
    readonly kinds: Map<string, JobKind>,
    private readonly log: Logger,
    /** Jobs run by workers elsewhere (src/queue); without it, in this process as always. */
    private readonly distributed?: DistributedQueue,
  ) {
    this.files = new JobFiles(options.dataDir);
    this.store = new JobStore(this.files.databaseFile);
    this.queue = new JobQueue(options.workers, (id) => this.runJob(id));
  }

  /** Recovers what a previous run of the server left, then starts the queue. */
  async start(): Promise<void> {
    if (this.distributed) {
      await this.sweep();
      const finish = (id: string, patch: Partial<JobRecord>) => this.finish(id, patch);
      return this.distributed.attach({ store: this.store, files: this.files, hub: this.hub, log: this.log, finish });
    }
    const now = new Date().toISOString();
    for (const job of this.store.withStatus(['running'])) {
      const kind = this.kinds.get(job.method);
      const hasCheckpoint = job.checkpointIteration !== null && this.files.exists(job.id, 'checkpoint.png');
      if (!kind) {
        this.store.update(job.id, { status: 'failed', finishedAt: now, error: `unknown method '${job.method}'` });
      } else if (this.options.resume) {
        const from = kind.resumable && hasCheckpoint ? job.checkpointIteration! : 0;
        this.store.update(job.id, { status: 'queued', resumes: [...job.resumes, { at: now, fromIteration: from }] });
        this.log.info(`job ${job.id}: interrupted by a restart; ${from > 0 ? `resuming from iteration ${from}` : 'running it again'}`);
      } else {
        const kept = this.files.exists(job.id, 'preview.jpg') ? 'preview.jpg' : hasCheckpoint ? 'checkpoint.png' : null;
        const result: JobResultInfo | null = kept
          ? {
              file: kept,
              ...(await this.imageSizeOf(job.id, kept!)),
              iterations: job.checkpointIteration ?? 0,
              seconds: job.progress?.elapsedSeconds ?? 0,
              losses: job.progress?.losses,
              details: {},
              partial: true,
            }
          : null;
        this.store.update(job.id, {
          status: 'interrupted',
          finishedAt: now,
          result,
          error: `the server stopped while the job was running${kept ? `; its last image (iteration ${job.checkpointIteration ?? '?'}) is kept` : ''}`,
        });
        this.writeReport(job.id).catch(() => undefined);
      }
    }
    // The sweep first: a record it drops must not be queued.
    await this.sweep();
    for (const job of this.store.withStatus(['queued'])) this.queue.push(job.id);
    await this.files.sweepUploads();
  }

  /** Removes what a crash can leave behind: folders of jobs never recorded, half-written temp files. */
  private async sweep(): Promise<void> {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(this.files.jobsDir, { withFileTypes: true });
    } catch {
      return;
    }
    // A folder here may be a symlink to one elsewhere: stat follows it (a Dirent does not).
    const isFolder = (name: string): boolean | undefined => {
      try {
        return fs.statSync(this.files.dir(name), { throwIfNoEntry: false })?.isDirectory() ?? false;
      } catch {
        return undefined; // cannot tell (no permission): keep what is there
      }
    };
    // A record without a folder is a deletion that a full disk cut short (the files go first).
    for (const id of this.store.ids()) {
      if (isFolder(id) !== false) continue;
      this.store.delete(id);
      this.log.info(`job ${id}: its folder is gone (a deletion cut short); dropping its record`);
    }
    for (const e of entries) {
      if (!JOB_ID_PATTERN.test(e.name) || !isFolder(e.name)) continue;
      if (!this.store.get(e.name)) {
        await this.files.remove(e.name).catch(() => undefined);
        continue;
      }
      const dir = this.files.dir(e.name);
      for (const f of await fs.promises.readdir(dir).catch(() => [] as string[])) {
        // Half-written files: ours end in .tmp; ffmpeg's keep the container's extension after it.
        if (f.startsWith('.') && /\.tmp(\.[a-z0-9]+)?$/.test(f)) await fs.promises.rm(`${dir}/${f}`, { force: true }).catch(() => undefined);
      }
    }
  }

  /** Stops taking work; running jobs save a checkpoint and stay 'running' for the next start to resume. */
  async close(): Promise<void> {
    this.closing = true;
    for (const live of this.live.values()) live.controller.abort();
    await this.queue.stop();
    await this.distributed?.close();
    this.writeUnsaved();
    if (this.retryTimer) clearInterval(this.retryTimer);
    // Reports being written still read the database (and must not be cut off half-written).
    await Promise.allSettled([...this.pendingReports]);
    this.store.close();
  }

  get stats(): { queued: number; running: number; streams: number; queue?: Record<string, unknown> } {
    if (this.distributed) {
      return { queued: this.store.countWithStatus('queued'), running: this.store.countWithStatus('running'), streams: this.hub.streamCount, queue: this.distributed.health() };
    }
    return { queued: this.queue.waitingCount, running: this.queue.runningCount, streams: this.hub.streamCount };
  }

  /** `format`: of an image result; absent for kinds that write their own result (video). */
  async create(method: string, params: Record<string, unknown>, inputs: NewJobInput[], format?: ResultFormat): Promise<JobRecord> {
    if (this.closing) throw new HttpError(503, 'the server is shutting down', RETRY_AFTER_SECONDS);
    if (this.distributed && this.kinds.get(method)?.localOnly) {
      throw new HttpError(400, `'${method}' jobs cannot run on the distributed queue (--queue); send them to a server without --queue`);
    }
    this.distributed?.assertAvailable();
    if (this.store.countWithStatus('queued') >= this.options.maxQueued) {
      throw new HttpError(503, `the queue is full (${this.options.maxQueued} jobs waiting); try again later`, RETRY_AFTER_SECONDS);
    }
    const id = newJobId();
    let job: JobRecord;
    try {
      this.files.create(id);
      const infos: Record<string, InputInfo> = {};
      for (const input of inputs) {
        const file = `${input.role}${input.extension}`;
        if (input.source === 'upload') await this.files.adopt(id, file, input.file);
        else await this.files.write(id, file, await fs.promises.readFile(input.file));
        infos[input.role] = {
          name: input.name,
          source: input.source,
          file,
          format: input.format,
          width: input.width,
          height: input.height,
          bytes: input.bytes,
          ...(input.video ? { video: input.video } : {}),
        };
      }
      job = this.store.insert({
        id,
        method,
        status: 'queued',
        params: format ? { ...params, format } : params,
        inputs: infos,
        createdAt: new Date().toISOString(),
        startedAt: null,
        finishedAt: null,
        progress: null,
        checkpointIteration: null,
        resumes: [],
        history: [],
        error: null,
        result: null,
      });
    } catch (err) {
      // Nothing of a job that could not be recorded stays behind.
      await this.files.remove(id).catch(() => undefined);
      if (isDiskFull(err)) {
        this.log.error(`cannot create a job: the disk of ${this.options.dataDir} is full`);
        throw new HttpError(507, DISK_FULL_MESSAGE);
      }
      throw err;
    }
    this.hub.publish(id, 'status', { status: 'queued' });
    if (this.distributed) {
      await this.distributed.submit(job).catch(async (err) => {
        this.store.delete(id);
        await this.files.remove(id).catch(() => undefined);
        throw err;
      });
    } else {
      this.queue.push(id);
    }
    return job;
  }

  get(id: string): JobRecord | undefined {
    const stored = this.store.get(id);
    const job = stored && this.withUnsaved(stored);
    const live = job && this.live.get(id);
    if (job && live) {
      job.progress = live.progress ?? job.progress;
      job.history = live.history;
    }
    return job;
  }

  /** The store's list, with the changes a full disk has kept from it so far. */
  list(filter: Parameters<JobStore['list']>[0]): { jobs: JobRecord[]; total: number } {
    const page = this.store.list(filter);
    return { ...page, jobs: page.jobs.map((j) => this.withUnsaved(j)) };
  }

  private withUnsaved(job: JobRecord): JobRecord {
    const patch = this.unsaved.get(job.id);
    return patch ? { ...job, ...patch } : job;
  }

  queuePosition(id: string): number {
    if (this.distributed) {
      const job = this.store.get(id);
      return job ? this.distributed.position(job) : 0;
    }
    return this.queue.position(id);
  }

  /** Cancels a queued job at once, or asks a running one to stop after its current iteration. */
  cancel(id: string): JobRecord {
    const job = this.store.get(id);
    if (!job) throw new HttpError(404, `no job ${id}`);
    if (TERMINAL_STATUSES.has(job.status)) throw new HttpError(409, `job ${id} has already finished (${job.status})`);
    if (this.distributed) return this.distributed.cancel(job);
    const live = this.live.get(id);
    if (live) {
      live.cancelRequested = true;
      live.controller.abort();
      return this.get(id)!;
    }
    this.queue.remove(id);
    const done = this.store.update(id, { status: 'cancelled', finishedAt: new Date().toISOString() })!;
    this.publishEnd(done);
    this.writeReport(id).catch(() => undefined);
    return done;
  }

  /** Deletes a job, its record and its files; a running job is stopped first. */
  async delete(id: string): Promise<boolean> {
    const job = this.store.get(id);
    if (!job) return false;
    await this.distributed?.forget(job);
    this.queue.remove(id);
    const live = this.live.get(id);
    this.deleting.add(id);
    try {
      if (live) {
        live.cancelRequested = true;
        live.controller.abort();
        await this.queue.settled(id);
      }
    } finally {
      this.deleting.delete(id);
    }
    // The files first: on a full disk, that frees the space the database needs to drop the record.
    await this.files.remove(id);
    this.unsaved.delete(id);
    const deleted = this.store.delete(id);
    if (this.store.pendingDeletes > 0) this.retryTimer ??= setInterval(() => this.writeUnsaved(), UNSAVED_RETRY_MS).unref();
    this.hub.publish(id, 'end', { ...job, status: 'deleted' });
    return deleted;
  }

  // --------------------------------------------------------------------------------------------

  private async runJob(id: string): Promise<void> {
    let job = this.store.get(id);
    if (!job || job.status !== 'queued') return;
    const kind = this.kinds.get(job.method);
    if (!kind) {
      this.finish(id, { status: 'failed', error: `unknown method '${job.method}'` });
      return;
    }
    const live: Live = { controller: new AbortController(), cancelRequested: false, progress: job.progress, history: job.history, lastWrite: 0, diskFull: null };
    const now = new Date().toISOString();
    try {
      job = this.store.update(id, { status: 'running', startedAt: job.startedAt ?? now, error: null })!;
    } catch (err) {
      this.finish(id, { status: 'failed', error: isDiskFull(err) ? 'the disk is full: the job could not start; free space on the server and run it again' : `internal error: ${errorLine(err)}` });
      return;
    }
    this.live.set(id, live);
    this.hub.publish(id, 'status', { status: 'running' });

    const resume = job.resumes.length > 0 ? job.resumes[job.resumes.length - 1].fromIteration : 0;
    const checkpoint = kind.resumable && resume > 0 && this.files.exists(id, 'checkpoint.png') ? { file: this.files.file(id, 'checkpoint.png'), iteration: resume } : null;
    // The loss history goes on from the checkpoint (what came after it is computed again).
    live.history = checkpoint ? live.history.filter((row) => row[0] <= checkpoint.iteration) : [];

    // Previews are written one at a time; when they come faster than that, only the newest is kept.
    const previews = latestOnlyWriter(async (p: { raw: RgbImage; display: RgbImage; iteration: number }) => {
      try {
        if (kind.resumable) await saveImage(p.raw, this.files.file(id, 'checkpoint.png'));
        await this.files.write(id, 'preview.jpg', await encodeImage(p.display, 'jpeg', { quality: 90 }));
        this.store.update(id, { checkpointIteration: kind.resumable ? p.iteration : null, progress: live.progress, history: live.history });
        live.lastWrite = Date.now();
        this.hub.publish(id, 'preview', { iteration: p.iteration, url: `/api/jobs/${id}/preview?iteration=${p.iteration}` });
      } catch (err) {
        if (isDiskFull(err)) stopForFullDisk();
        else this.log.error(`job ${id}: cannot save a preview: ${errorLine(err)}`);
      }
    });

    // A full disk stops the job at once (its checkpoints and results could not be kept anyway).
    const stopForFullDisk = () => {
      if (live.diskFull) return;
      const at = live.progress ? ` at iteration ${live.progress.iteration}` : '';
      live.diskFull = `the disk is full: the job stopped${at}; free space on the server and run it again`;
      this.log.error(`job ${id}: the disk of ${this.options.dataDir} is full; stopping the job`);
      live.controller.abort();
    };

    const ctx: JobRunContext = {
      job,
      dir: this.files.dir(id),
      inputs: Object.fromEntries(Object.entries(job.inputs).map(([role, info]) => [role, this.files.file(id, info.file)])),
      signal: live.controller.signal,
      threads: this.options.threads,
      device: this.options.device,
      precision: this.options.precision,
      modelDir: this.options.modelDir,
      maxPixels: this.options.maxPixels,
      maxMemory: this.options.maxMemory,
      maxVideoFrames: this.options.maxVideoFrames,
      fit: { sizes: this.options.fitSizes, evaluations: this.options.fitEvaluations, photos: this.options.fitPhotos },
      checkpoint,
      progress: (progress) => {
        live.progress = progress;
        if (progress.losses) {
          const l = progress.losses;
          live.history.push([progress.iteration, l.content, l.style, l.tv, l.total].map(round) as LossPoint);
        }
        this.hub.publish(id, 'progress', progress);
        if (Date.now() - live.lastWrite > PROGRESS_WRITE_MS) {
          live.lastWrite = Date.now();
          // Called from a worker's message event: nothing may escape it (it would end the process).
          try {
            this.store.update(id, { progress, history: live.history });
          } catch (err) {
            if (isDiskFull(err)) stopForFullDisk();
            else this.log.error(`job ${id}: cannot record its progress: ${errorLine(err)}`);
          }
        }
      },
      preview: (raw, display, iteration) => previews.push({ raw, display, iteration }),
    };

    try {
      const outcome = await kind.run(ctx);
      await previews.drained();
      if (live.diskFull) {
        this.finish(id, { status: 'failed', error: live.diskFull, progress: live.progress, history: live.history });
        return;
      }
      if (this.closing && outcome.cancelled && !live.cancelRequested) {
        // Shutdown: keep the job 'running' with a fresh checkpoint; the next start resumes it.
        if (kind.resumable && outcome.raw) {
          await saveImage(outcome.raw, this.files.file(id, 'checkpoint.png'));
          this.store.update(id, { checkpointIteration: outcome.iterations, progress: live.progress, history: live.history });
        }
        return;
      }
      let result: JobResultInfo | null = null;
      if (outcome.file) {
        result = {
          file: outcome.file.name,
          width: outcome.file.width,
          height: outcome.file.height,
          iterations: outcome.iterations,
          seconds: round(outcome.seconds),
          details: outcome.details,
          partial: outcome.cancelled,
          ...(outcome.file.poster ? { poster: outcome.file.poster } : {}),
        };
      } else if (outcome.image) {
        const format = (job.params.format as ResultFormat) ?? 'jpg';
        const file = `result.${format}`;
        await saveImage(outcome.image, this.files.file(id, file));
        result = {
          file,
          width: outcome.image.width,
          height: outcome.image.height,
          iterations: outcome.iterations,
          seconds: round(outcome.seconds),
          losses: outcome.losses,
          details: outcome.details,
          partial: outcome.cancelled,
        };
      }
      this.finish(id, { status: outcome.cancelled ? 'cancelled' : 'succeeded', result, progress: live.progress, history: live.history });
    } catch (err) {
      await previews.drained();
      if (isDiskFull(err)) stopForFullDisk();
      if (this.closing && !live.cancelRequested && !live.diskFull) return;
      const message = live.diskFull ?? (err instanceof NstError ? oneLine(err.message) : `internal error: ${errorLine(err)}`);
      this.log.error(`job ${id} failed: ${message}`);
      this.finish(id, { status: 'failed', error: message, progress: live.progress, history: live.history });
    } finally {
      this.live.delete(id);
    }
  }

  private finish(id: string, patch: Partial<JobRecord>): void {
    // Clients see what happened, not where the server keeps its files (the log has the paths).
    const change = { ...patch, ...(patch.error ? { error: hideServerPaths(patch.error, this.options.dataDir) } : {}), finishedAt: new Date().toISOString() };
    let job: JobRecord;
    try {
      if (this.deleting.has(id) || !this.store.get(id)) return; // being deleted, or deleted meanwhile
      job = this.store.update(id, change)!;
    } catch (err) {
      // The database cannot be written (disk full): the outcome is shown from memory and
      // written as soon as it can be (until then a restart would resume the job).
      this.log.error(`job ${id}: cannot record its outcome yet: ${errorLine(err)}`);
      this.unsaved.set(id, { ...this.unsaved.get(id), ...change });
      this.retryTimer ??= setInterval(() => this.writeUnsaved(), UNSAVED_RETRY_MS).unref();
      const stored = this.store.get(id);
      if (!stored) return;
      job = this.withUnsaved(stored);
    }
    this.publishEnd(job);
    this.trackReport(id, (err) => this.log.error(`job ${id}: cannot write its report: ${errorLine(err)}`));
  }

  /** Writes a job's report in the background; close() waits for it. */
  private trackReport(id: string, onError: (err: unknown) => void): void {
    const pending: Promise<void> = this.writeReport(id)
      .catch(onError)
      .finally(() => this.pendingReports.delete(pending));
    this.pendingReports.add(pending);
  }

  /** Writes the record changes (and deletions) a full disk held back, as far as there is space now. */
  private writeUnsaved(): void {
    this.store.retryDeletes();
    for (const [id, patch] of this.unsaved) {
      try {
        this.store.update(id, patch);
        this.unsaved.delete(id);
        this.log.info(`job ${id}: its outcome is recorded now`);
        this.trackReport(id, () => undefined);
      } catch {
        return; // still full: try again later
      }
    }
    if (this.unsaved.size === 0 && this.store.pendingDeletes === 0 && this.retryTimer) {
      clearInterval(this.retryTimer);
      this.retryTimer = null;
    }
  }

  private publishEnd(job: JobRecord): void {
    this.hub.publish(job.id, 'status', { status: job.status, error: job.error });
    this.hub.publish(job.id, 'end', job);
  }

  /** The report of a job: its settings, inputs, timings, result and loss history. */
  report(job: JobRecord): Record<string, unknown> {
    const { history, ...rest } = job;
    return {
      ...rest,
      lossHistory: { columns: ['iteration', 'content', 'style', 'tv', 'total'], rows: history },
      software: { name: 'nst', version: require('../../../package.json').version, node: process.version },
    };
  }

  private async writeReport(id: string): Promise<void> {
    const job = this.get(id);
    if (!job) return;
    try {
      await this.files.write(id, 'report.json', JSON.stringify(this.report(job), null, 1) + '\n');
    } catch (err) {
      if (this.store.get(id)) throw err; // else the job was deleted meanwhile
    }
  }

  private async imageSizeOf(id: string, file: string): Promise<{ width: number; height: number }> {
    try {
      const meta = await sharp(this.files.file(id, file)).metadata();
      return { width: meta.width ?? 0, height: meta.height ?? 0 };
    } catch {
      return { width: 0, height: 0 };
    }
  }
}

function errorLine(err: unknown): string {
  return oneLine(String((err as Error)?.message ?? err));
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}
