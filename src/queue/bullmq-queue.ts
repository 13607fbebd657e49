/**
 * The API server's side of the BullMQ queue: enqueues recorded jobs, follows the queue's events
 * (progress, previews, completion, failure, stalls) into the job records and live event streams,
 * and forwards cancel and delete requests to the workers.
 *
 * The job records (SQLite) stay the source of truth. Every few seconds, and whenever Redis comes
 * back, each unfinished record is checked against the queue: a job the queue lost (Redis restarted
 * without persistence) is queued again and resumes from its last image in storage; an ending the
 * server missed while away is applied. So no job is lost whatever happens to Redis.
 */
import * as os from 'node:os';
import { FlowProducer, Queue, QueueEvents } from 'bullmq';
import type IORedis from 'ioredis';
import { HttpError, RETRY_AFTER_SECONDS } from '../jobs/http-error';
import type { JobRecord, LossPoint, JobProgress } from '../jobs/store';
import { TERMINAL_STATUSES } from '../jobs/store';
import { pullSharedModels } from '../jobs/shared-models';
import { jobKey, Storage, StorageError } from '../storage';
import { CancelRequest, JobPayload, PAYLOAD_VERSION, WorkerMessage, WorkerResult } from '../jobs/protocol';
import { cancelKey, QUEUE_NAME } from './keys';
import { checkRedisUrl, connectChecked, redactRedisUrl, redisConnection } from './redis';
import type { JobKind } from '../jobs/kinds';
import type { JobQueue, JobSink, QueueHealth } from '../jobs/queue';
import { QueueWorkerOptions, RunningQueueWorker, startQueueWorker } from './worker';
import { clipFrames, planVideoJob } from '../jobs/video-chunks';
import { parseChunkQueueId, videoFlow } from './video-tasks';

export interface BullQueueOptions {
  /** redis://HOST:PORT */
  url: string;
  storage: Storage;
  /** Largest decoded image a job may use (the server's --max-pixels). */
  maxPixels: number;
  /** Also run jobs in this process (nst serve without --role api). */
  localWorker?: Omit<QueueWorkerOptions, 'queue' | 'storage'>;
  /** The API's model folder: styles fitted on workers are copied here, so the API lists them. */
  modelDir?: string;
  /** How often unfinished records are checked against the queue. Default 3 s. */
  reconcileMs?: number;
  /** Most frames a video job paints (the server's limit, checked at upload). */
  maxVideoFrames?: number;
  /** Keep a video job's chunk frames in the storage after its end (the bench re-joins them). Default: removed. */
  keepVideoChunks?: boolean;
}

/** BullMQ job ids must not look like integers; ours are prefixed. */
const bullId = (id: string) => `job-${id}`;
const ourId = (jobId: string) => (jobId.startsWith('job-') ? jobId.slice(4) : null);
const PROGRESS_WRITE_MS = 1000;
const KEEP_FINISHED_S = 24 * 3600;

interface Live {
  progress: JobProgress | null;
  history: LossPoint[];
  lastWrite: number;
  /** A video job: kept frames stored by each chunk, and when its first chunk started here. */
  chunks?: Map<number, number>;
  since?: number;
}

export class BullJobQueue implements JobQueue {
  private sink!: JobSink;
  private readonly queue: Queue;
  private readonly flows: FlowProducer;
  private readonly events: QueueEvents;
  private readonly live = new Map<string, Live>();
  /** Cancel/delete requests not yet written to Redis (it was away). */
  private readonly unsentRequests = new Map<string, CancelRequest>();
  /** Jobs whose inputs are being stored right now: not "lost", only not queued yet. */
  private readonly submitting = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private reconciling: Promise<void> | null = null;
  private localWorker: RunningQueueWorker | null = null;
  private closed = false;
  private healthInfo: Record<string, unknown> = {};
  private wasDown = false;

  static async open(options: BullQueueOptions): Promise<BullJobQueue> {
    checkRedisUrl(options.url);
    const connection = redisConnection(options.url, { blocking: false, name: `nst-api:${os.hostname()}:${process.pid}` });
    await connectChecked(connection, options.url);
    const eventsConnection = redisConnection(options.url, { blocking: true });
    try {
      await connectChecked(eventsConnection, options.url);
      await options.storage.check();
    } catch (err) {
      connection.disconnect();
      eventsConnection.disconnect();
      throw err;
    }
    return new BullJobQueue(options, connection, eventsConnection);
  }

  private constructor(
    private readonly options: BullQueueOptions,
    private readonly connection: IORedis,
    private readonly eventsConnection: IORedis,
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection });
    this.flows = new FlowProducer({ connection });
    this.flows.on('error', () => undefined);
    this.events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection });
    this.queue.on('error', () => undefined); // connection drops are reported by health and 503s
    this.events.on('error', () => undefined);
  }

  async attach(sink: JobSink): Promise<void> {
    this.sink = sink;
    this.events.on('progress', ({ jobId, data }) => this.onMessage(jobId, data as unknown as WorkerMessage));
    this.events.on('completed', ({ jobId, returnvalue }) => this.onCompleted(jobId, returnvalue as unknown));
    this.events.on('failed', ({ jobId, failedReason }) => this.onFailed(jobId, failedReason));
    this.events.on('stalled', ({ jobId }) => this.onStalled(jobId));
    this.connection.on('ready', () => {
      if (this.wasDown) sink.log.info(`the queue's Redis is back (${redactRedisUrl(this.options.url)})`);
      this.wasDown = false;
      void this.reconcile();
    });
    this.connection.on('close', () => {
      if (!this.wasDown && !this.closed) sink.log.error(`lost the connection to Redis at ${redactRedisUrl(this.options.url)}; new jobs get 503 until it is back`);
      this.wasDown = true;
      this.healthInfo = {};
    });
    await this.events.waitUntilReady();
    // Styles fitted on workers while this server was away.
    await pullSharedModels(this.options.storage, this.options.modelDir).catch((err) => sink.log.error(`cannot copy the shared styles: ${String(err?.message ?? err)}`));
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.options.reconcileMs ?? 3000);
    this.timer.unref();
    if (this.options.localWorker) {
      this.localWorker = await startQueueWorker({ ...this.options.localWorker, queue: this.options.url, storage: this.options.storage });
    }
  }

  refuses(kind: JobKind): string | null {
    return kind.localOnly ? `'${kind.name}' jobs cannot run on the distributed queue (--queue); send them to a server without --queue` : null;
  }

  counts(): { queued: number; running: number } {
    return { queued: this.sink.store.countWithStatus('queued'), running: this.sink.store.countWithStatus('running') };
  }

  /** Progress is recorded as the workers report it: nothing newer is held here. */
  liveState(): undefined {
    return undefined;
  }

  private get connected(): boolean {
    return this.connection.status === 'ready';
  }

  assertAvailable(): void {
    if (!this.connected) throw new HttpError(503, this.unreachable(), RETRY_AFTER_SECONDS);
  }

  private unreachable(): string {
    return `the job queue is unreachable (Redis at ${redactRedisUrl(this.options.url)}); try again shortly`;
  }

  async submit(job: JobRecord): Promise<void> {
    this.submitting.add(job.id);
    try {
      for (const info of Object.values(job.inputs)) await this.copyToStorage(job.id, info.file);
      await this.enqueue(job);
    } catch (err) {
      const why = String((err as Error)?.message ?? err).split('\n')[0];
      this.sink.log.error(`job ${job.id}: cannot queue it: ${why}`);
      throw new HttpError(503, err instanceof StorageError ? `cannot store the job's images: ${err.publicMessage}` : this.unreachable(), RETRY_AFTER_SECONDS);
    } finally {
      this.submitting.delete(job.id);
    }
  }

  cancel(job: JobRecord): JobRecord {
    this.request(job.id, 'cancel');
    if (job.status === 'queued') {
      this.queue.remove(bullId(job.id)).catch(() => undefined);
      this.sink.finish(job.id, { status: 'cancelled' });
    }
    return this.sink.store.get(job.id)!;
  }

  async forget(job: JobRecord): Promise<void> {
    this.request(job.id, 'delete');
    this.live.delete(job.id);
    await this.queue.remove(bullId(job.id)).catch(() => undefined);
    if (!this.sameAsLocal(job.id)) await this.options.storage.removePrefix(jobKey(job.id)).catch((err) => this.sink.log.error(String(err?.message ?? err)));
  }

  position(job: JobRecord): number {
    if (job.status !== 'queued') return 0;
    return this.sink.store.withStatus(['queued']).findIndex((j) => j.id === job.id) + 1;
  }

  health(): QueueHealth {
    // A storage directory is a path of the server: said as such, not named.
    const storage = this.options.storage.localPath ? 'directory' : this.options.storage.description;
    const base = { backend: 'bullmq', redis: redactRedisUrl(this.options.url), connected: this.connected, storage };
    // While Redis is away, the workers and the depth last seen may be long gone: not shown.
    if (this.connected) return { ok: true, down: [], details: { ...base, ...this.healthInfo } };
    return { ok: false, down: [`the job queue's Redis at ${redactRedisUrl(this.options.url)}`], details: { ...base, error: this.unreachable() } };
  }

  /** Also closes the local worker (its jobs go back to the queue) and the storage. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.localWorker?.close().catch(() => undefined);
    await this.reconciling;
    // BullMQ's close waits for the connection to end, which never comes while it is reconnecting
    // (Redis away or just back): a bounded wait, then the connections are dropped all the same.
    await closeWithin(this.events.close(), CLOSE_WAIT_MS);
    await closeWithin(this.queue.close(), CLOSE_WAIT_MS);
    await closeWithin(this.flows.close(), CLOSE_WAIT_MS);
    this.connection.disconnect();
    this.eventsConnection.disconnect();
    this.options.storage.close?.();
  }

  // --------------------------------------------------------------------------------------------

  private payload(job: JobRecord): JobPayload {
    return { v: PAYLOAD_VERSION, id: job.id, method: job.method, params: job.params, inputs: job.inputs, maxPixels: this.options.maxPixels };
  }

  private async enqueue(job: JobRecord): Promise<void> {
    if (job.method === 'video') {
      // Chunks on different workers at once; they resume from the frames already stored.
      await this.flows.add(videoFlow({ ...this.payload(job), ...this.videoLimit() }, planVideoJob(job, this.options.maxVideoFrames), { keepSeconds: KEEP_FINISHED_S }));
      return;
    }
    await this.queue.add(job.method, this.payload(job), {
      jobId: bullId(job.id),
      attempts: 1,
      removeOnComplete: { age: KEEP_FINISHED_S },
      removeOnFail: { age: KEEP_FINISHED_S },
    });
  }

  private videoLimit(): { maxVideoFrames?: number } {
    return this.options.maxVideoFrames ? { maxVideoFrames: this.options.maxVideoFrames } : {};
  }

  /** Whether the storage is the server's own data directory (then files need no copying). */
  private sameAsLocal(id: string): boolean {
    const local = this.options.storage.localPath?.(jobKey(id, 'x'));
    return local !== undefined && local === this.sink.files.file(id, 'x');
  }

  private async copyToStorage(id: string, file: string): Promise<void> {
    if (this.sameAsLocal(id)) return;
    const fs = await import('node:fs');
    await this.options.storage.put(jobKey(id, file), await fs.promises.readFile(this.sink.files.file(id, file)));
  }

  /** Copies a file a worker wrote to storage into the local job folder (served by the HTTP API). */
  private async copyFromStorage(id: string, file: string): Promise<boolean> {
    if (this.sameAsLocal(id)) return this.sink.files.exists(id, file);
    const bytes = await this.options.storage.get(jobKey(id, file));
    if (!bytes) return false;
    await this.sink.files.write(id, file, bytes);
    return true;
  }

  private request(id: string, what: CancelRequest): void {
    this.unsentRequests.set(id, what);
    this.sendRequests();
  }

  private sendRequests(): void {
    if (!this.connected) return;
    for (const [id, what] of this.unsentRequests) {
      this.connection
        .set(cancelKey(id), what, 'EX', KEEP_FINISHED_S)
        .then(() => {
          if (this.unsentRequests.get(id) === what) this.unsentRequests.delete(id);
        })
        .catch(() => undefined);
    }
  }

  /** The unfinished record of a queue job id, or undefined (not ours, deleted, already ended). */
  private openRecord(jobId: string): JobRecord | undefined {
    const id = ourId(jobId);
    const job = id ? this.sink.store.get(id) : undefined;
    return job && !TERMINAL_STATUSES.has(job.status) ? job : undefined;
  }

  private onMessage(jobId: string, msg: WorkerMessage): void {
    const chunk = parseChunkQueueId(jobId);
    if (chunk) return this.onChunkMessage(chunk.id, chunk.chunk, msg);
    const job = this.openRecord(jobId);
    if (!job || !msg || typeof msg !== 'object') return;
    const { store } = this.sink;
    const publish = this.sink.publish;
    const id = job.id;
    if (msg.type === 'start') {
      const from = msg.resumedFrom;
      // The loss history goes on from the resume point (what came after it is computed again).
      const history = from === null ? [] : job.history.filter((row) => row[0] <= from);
      this.live.set(id, { progress: job.progress, history, lastWrite: Date.now() });
      const resumes = from === null ? job.resumes : [...job.resumes, { at: new Date().toISOString(), fromIteration: from, worker: msg.worker }];
      store.update(id, { status: 'running', startedAt: job.startedAt ?? new Date().toISOString(), error: null, resumes, history });
      if (from !== null) this.sink.log.info(`job ${id}: ${from > 0 ? `resumed from iteration ${from}` : 'running again'} on ${msg.worker}`);
      publish(id, 'status', { status: 'running' });
    } else if (msg.type === 'progress') {
      const live = this.liveOf(job);
      const p = msg.progress;
      live.progress = p;
      if (p.losses) live.history.push([p.iteration, p.losses.content, p.losses.style, p.losses.tv, p.losses.total].map(round) as LossPoint);
      publish(id, 'progress', p);
      if (Date.now() - live.lastWrite > PROGRESS_WRITE_MS) {
        live.lastWrite = Date.now();
        store.update(id, { progress: p, history: live.history });
      }
    } else if (msg.type === 'requeued') {
      this.sink.log.info(`job ${id}: ${msg.worker} is stopping and put it back in the queue${msg.checkpoint ? ` (saved at iteration ${msg.checkpoint})` : ''}`);
      const live = this.live.get(id);
      store.update(id, { status: 'queued', ...(msg.checkpoint ? { checkpointIteration: msg.checkpoint } : {}), ...(live ? { progress: live.progress, history: live.history } : {}) });
      publish(id, 'status', { status: 'queued' });
    } else if (msg.type === 'preview') {
      const iteration = msg.iteration;
      this.copyFromStorage(id, 'preview.jpg').then(
        (copied) => {
          if (!copied || !this.openRecord(jobId)) return;
          const live = this.liveOf(job);
          live.lastWrite = Date.now();
          store.update(id, { ...(msg.checkpoint ? { checkpointIteration: iteration } : {}), progress: live.progress, history: live.history });
          publish(id, 'preview', { iteration, url: `/api/jobs/${id}/preview?iteration=${iteration}` });
        },
        (err) => this.sink.log.error(`job ${id}: cannot fetch its preview: ${String(err?.message ?? err)}`),
      );
    }
  }

  /** A video chunk's messages: the job runs while any chunk does; its progress counts every chunk's frames. */
  private onChunkMessage(id: string, chunk: number, msg: WorkerMessage): void {
    const job = this.openRecord(`job-${id}`);
    if (!job || !msg || typeof msg !== 'object') return;
    const { store } = this.sink;
    const live = this.liveOf(job);
    live.chunks ??= new Map();
    live.since ??= Date.now();
    if (msg.type === 'chunk-start') {
      const resumed = msg.resumedFrom !== null;
      const resumes = resumed ? [...job.resumes, { at: new Date().toISOString(), fromIteration: msg.resumedFrom!, worker: msg.worker }] : job.resumes;
      if (job.status !== 'running' || resumed) store.update(id, { status: 'running', startedAt: job.startedAt ?? new Date().toISOString(), error: null, resumes });
      if (resumed) this.sink.log.info(`job ${id}: video chunk ${chunk + 1} resumed after frame ${msg.resumedFrom} on ${msg.worker}`);
      if (job.status !== 'running') this.sink.publish(id, 'status', { status: 'running' });
    } else if (msg.type === 'chunk-progress') {
      live.chunks.set(chunk, msg.kept);
      const done = [...live.chunks.values()].reduce((a, b) => a + b, 0);
      const frames = Math.max(clipFrames(job), done);
      const seconds = (Date.now() - live.since) / 1000;
      const rate = done / Math.max(seconds, 1e-3);
      const progress: JobProgress = { iteration: done, iterations: frames, elapsedSeconds: round(seconds), etaSeconds: round((frames - done) / Math.max(rate, 1e-9)), iterationsPerSecond: round(rate), unit: 'frames' };
      live.progress = progress;
      this.sink.publish(id, 'progress', progress);
      if (Date.now() - live.lastWrite > PROGRESS_WRITE_MS) {
        live.lastWrite = Date.now();
        store.update(id, { progress });
      }
    } else if (msg.type === 'requeued') {
      this.sink.log.info(`job ${id}: ${msg.worker} is stopping and put video chunk ${chunk + 1} back in the queue`);
    } else if (msg.type === 'preview') {
      this.onMessage(`job-${id}`, msg);
    }
  }

  private liveOf(job: JobRecord): Live {
    let live = this.live.get(job.id);
    if (!live) this.live.set(job.id, (live = { progress: job.progress, history: job.history, lastWrite: 0 }));
    return live;
  }

  private onCompleted(jobId: string, value: unknown): void {
    const job = this.openRecord(jobId);
    if (!job) return;
    const r = value as WorkerResult;
    if (!r || typeof r !== 'object') return; // not readable yet; the next check reads it again
    if (r.v !== PAYLOAD_VERSION) {
      this.end(job, { status: 'failed', error: 'a worker of an incompatible nst version answered this job' });
      return;
    }
    if (r.status === 'deleted') return;
    const from = r.resumedFrom;
    const history = [...(from === null ? [] : job.history.filter((row) => row[0] <= from)), ...r.history];
    // A fitted style first: when the job's end is announced, the API lists it.
    const copyShared = r.shared?.length ? pullSharedModels(this.options.storage, this.options.modelDir) : Promise.resolve([]);
    const poster = r.result?.poster;
    const copy = copyShared
      .then(() => (poster ? this.copyFromStorage(job.id, poster) : true))
      .then(() => (r.result ? this.copyFromStorage(job.id, r.result.file) : true));
    copy.then(
      (ok) => {
        if (!this.openRecord(jobId)) return;
        if (!ok) {
          this.sink.log.error(`job ${job.id}: its result ${r.result!.file} is missing from the storage ${this.options.storage.description}`);
          return this.end(job, { status: 'failed', error: `the result ${r.result!.file} is missing from the job storage` });
        }
        this.end(job, { status: r.status === 'cancelled' ? 'cancelled' : 'succeeded', result: r.result, progress: r.progress ?? job.progress, history });
        // A video's chunk frames served their purpose once the join ended (no chunk runs any more).
        if (job.method === 'video' && !this.options.keepVideoChunks) {
          this.options.storage.removePrefix(jobKey(job.id, 'chunks/')).catch((err) => this.sink.log.error(`job ${job.id}: cannot remove its chunk frames: ${String(err?.message ?? err)}`));
        }
      },
      (err) => {
        this.sink.log.error(`job ${job.id}: cannot fetch its result: ${String(err?.message ?? err)}`);
        this.end(job, { status: 'failed', error: `cannot fetch the result: ${err instanceof StorageError ? err.publicMessage : String(err?.message ?? err)}` });
      },
    );
  }

  private onFailed(jobId: string, reason: string): void {
    const chunk = parseChunkQueueId(jobId);
    // A chunk's failure is the job's (BullMQ then fails the join too, with a reason of its own).
    const job = this.openRecord(chunk ? `job-${chunk.id}` : jobId);
    if (!job) return;
    const live = this.live.get(job.id);
    this.end(job, { status: 'failed', error: reason || 'the job failed on its worker', progress: live?.progress ?? job.progress, history: live?.history ?? job.history });
  }

  private onStalled(jobId: string): void {
    const chunk = parseChunkQueueId(jobId);
    if (chunk) {
      if (this.openRecord(`job-${chunk.id}`)) this.sink.log.info(`job ${chunk.id}: the worker of video chunk ${chunk.chunk + 1} stopped answering; the chunk goes to another worker`);
      return;
    }
    const job = this.openRecord(jobId);
    if (!job) return;
    this.sink.log.info(`job ${job.id}: its worker stopped answering; the job goes to another worker`);
    this.sink.store.update(job.id, { status: 'queued' });
    this.sink.publish(job.id, 'status', { status: 'queued' });
  }

  private end(job: JobRecord, patch: Partial<JobRecord>): void {
    this.live.delete(job.id);
    if (patch.status === 'failed') this.sink.log.error(`job ${job.id} failed: ${patch.error}`);
    this.sink.finish(job.id, patch);
    this.connection.del(cancelKey(job.id)).catch(() => undefined);
  }

  /** Brings unfinished records in line with the queue (see the file comment). */
  private reconcile(): Promise<void> {
    if (this.closed || !this.sink || !this.connected) return Promise.resolve();
    return (this.reconciling ??= this.reconcileOnce()
      .catch(() => undefined)
      .finally(() => (this.reconciling = null)));
  }

  private async reconcileOnce(): Promise<void> {
    this.sendRequests();
    for (const job of this.sink.store.withStatus(['queued', 'running'])) {
      if (this.closed || !this.connected) return;
      if (this.submitting.has(job.id)) continue;
      const queued = await this.queue.getJob(bullId(job.id));
      const current = this.openRecord(bullId(job.id));
      if (!current) continue;
      if (!queued) {
        await this.enqueue(current);
        this.sink.log.info(`job ${job.id}: missing from the queue (Redis restarted?); queued again`);
        if (current.status === 'running') {
          this.sink.store.update(job.id, { status: 'queued' });
          this.sink.publish(job.id, 'status', { status: 'queued' });
        }
        continue;
      }
      const state = await queued.getState();
      if (state !== 'completed' && state !== 'failed') continue;
      // Read it again: it may have ended between the two calls above, without its outcome in `queued`.
      const ended = await this.queue.getJob(bullId(job.id));
      if (!ended) continue;
      if (state === 'completed') this.onCompleted(ended.id!, ended.returnvalue);
      else this.onFailed(ended.id!, ended.failedReason);
    }
    const [counts, workers] = await Promise.all([this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'), this.queue.getWorkers()]);
    this.healthInfo = {
      workers: workers.length,
      workerNames: workers.map((w) => String(w.rawname ?? w.name ?? '').replace(/^.*?:w:/, '')).filter(Boolean),
      depth: { waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0), active: counts.active ?? 0 },
      checkedAt: new Date().toISOString(),
    };
  }
}

const CLOSE_WAIT_MS = 2000;

function closeWithin(closing: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    closing.then(() => undefined, () => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]).finally(() => clearTimeout(timer));
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}
