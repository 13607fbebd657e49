/**
 * The job manager: creates jobs (records + input files), hands them to the job queue (embedded or
 * BullMQ, behind one interface: src/jobs/queue.ts), publishes live events, records each job's end
 * and writes its report, and handles cancel, delete and shutdown the same way for every queue:
 *
 * - a full disk fails the job it hits and nothing else: the server stays up, a job record that
 *   cannot be written is kept in memory and written once space is free again, and creating a job
 *   answers 507 without leaving anything behind; deleting a job works on a full disk (it is how
 *   space is freed): its files go first, then its record;
 * - at start, what a crash left behind is swept (folders of jobs never recorded, half-written
 *   files); the queue then resumes or re-queues what was unfinished.
 */
import * as fs from 'node:fs';
import type { ResolvedServeOptions } from './config';
import { DISK_FULL_MESSAGE, isDiskFull } from '../jobs/disk-full';
import { EventHub } from './events';
import { hideServerPaths } from './hide-paths';
import { HttpError, oneLine, RETRY_AFTER_SECONDS } from '../jobs/http-error';
import { JOB_ID_PATTERN, JobFiles, newJobId } from '../jobs/files';
import type { InputRole, JobKind } from '../jobs/kinds';
import { InputInfo, JobRecord, JobStore, TERMINAL_STATUSES } from '../jobs/store';
import { EmbeddedJobQueue } from '../jobs/embedded-queue';
import type { JobQueue, QueueHealth } from '../jobs/queue';

export { RESULT_FORMATS } from '../jobs/run-one';
import type { ResultFormat } from '../jobs/run-one';
export type { ResultFormat };

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

export interface Logger {
  info(msg: string): void;
  error(msg: string): void;
}

/** How often job records that could not be written (disk full) are tried again. */
const UNSAVED_RETRY_MS = 2000;

export class JobManager {
  readonly store: JobStore;
  readonly files: JobFiles;
  readonly hub = new EventHub();
  private readonly queue: JobQueue;
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
    /** Where jobs run; without one, the embedded queue of this process. */
    queue?: JobQueue,
  ) {
    this.files = new JobFiles(options.dataDir);
    this.store = new JobStore(this.files.databaseFile);
    this.queue =
      queue ??
      new EmbeddedJobQueue({
        concurrency: options.workers,
        resume: options.resume,
        kinds,
        dataDir: options.dataDir,
        run: {
          threads: options.threads,
          device: options.device,
          precision: options.precision,
          modelDir: options.modelDir,
          maxPixels: options.maxPixels,
          maxMemory: options.maxMemory,
          maxVideoFrames: options.maxVideoFrames,
          fit: { sizes: options.fitSizes, evaluations: options.fitEvaluations, photos: options.fitPhotos },
        },
      });
  }

  /** Sweeps what a crash left behind, then starts the queue (which resumes unfinished jobs). */
  async start(): Promise<void> {
    // The sweep first: a record it drops must not be queued.
    await this.sweep();
    await this.queue.attach({
      store: this.store,
      files: this.files,
      log: this.log,
      publish: (id, event, data) => this.hub.publish(id, event, data),
      finish: (id, patch) => this.finish(id, patch),
    });
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
    await this.queue.close();
    this.writeUnsaved();
    if (this.retryTimer) clearInterval(this.retryTimer);
    // Reports being written still read the database (and must not be cut off half-written).
    await Promise.allSettled([...this.pendingReports]);
    this.store.close();
  }

  get stats(): { queued: number; running: number; streams: number; queue?: Record<string, unknown> } {
    const details = this.queue.health().details;
    return { ...this.queue.counts(), streams: this.hub.streamCount, ...(details ? { queue: details } : {}) };
  }

  /** Whether the queue can take and run jobs, and what is down when it cannot. */
  health(): QueueHealth {
    return this.queue.health();
  }

  /** `format`: of an image result; absent for kinds that write their own result (video). */
  async create(method: string, params: Record<string, unknown>, inputs: NewJobInput[], format?: ResultFormat): Promise<JobRecord> {
    if (this.closing) throw new HttpError(503, 'the server is shutting down', RETRY_AFTER_SECONDS);
    const kind = this.kinds.get(method);
    const refused = kind && this.queue.refuses(kind);
    if (refused) throw new HttpError(400, refused);
    this.queue.assertAvailable();
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
    await this.queue.submit(job).catch(async (err) => {
      this.store.delete(id);
      await this.files.remove(id).catch(() => undefined);
      throw err;
    });
    return job;
  }

  get(id: string): JobRecord | undefined {
    const stored = this.store.get(id);
    const job = stored && this.withUnsaved(stored);
    const live = job && this.queue.liveState(id);
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
    const job = this.store.get(id);
    return job ? this.queue.position(job) : 0;
  }

  /** Cancels a queued job at once, or asks a running one to stop after its current iteration. */
  cancel(id: string): JobRecord {
    const job = this.store.get(id);
    if (!job) throw new HttpError(404, `no job ${id}`);
    if (TERMINAL_STATUSES.has(job.status)) throw new HttpError(409, `job ${id} has already finished (${job.status})`);
    const after = this.queue.cancel(job);
    return this.get(id) ?? after;
  }

  /** Deletes a job, its record and its files; a running job is stopped first. */
  async delete(id: string): Promise<boolean> {
    const job = this.store.get(id);
    if (!job) return false;
    this.deleting.add(id);
    try {
      await this.queue.forget(job);
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
}

function errorLine(err: unknown): string {
  return oneLine(String((err as Error)?.message ?? err));
}
