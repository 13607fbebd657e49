/**
 * The gallery's live stream (Server-Sent Events): one stream for all jobs, so a page sees jobs
 * that were started elsewhere (another tab, the API) or before it was loaded change state.
 * Events: `job` (the job as the API shows it, whenever it is created, starts or ends), `progress`
 * ({ id, iteration, iterations }, at most once a second per job), `preview` ({ id, url }) and
 * `deleted` ({ id }). Per-iteration detail stays on each job's own stream.
 */
import type { FastifyInstance } from 'fastify';
import { SseStream } from '../events';
import type { JobManager } from '../job-manager';
import { JobProgress, JobRecord, JobStatus, TERMINAL_STATUSES } from '../../jobs/store';
import { publicJob } from './jobs';

export interface GalleryEventsOptions {
  manager: JobManager;
  /** Open SSE streams, closed when the server shuts down. */
  streams: Set<SseStream>;
}

const PROGRESS_EVERY_MS = 1000;

export async function galleryEventRoutes(app: FastifyInstance, opts: GalleryEventsOptions): Promise<void> {
  const { manager } = opts;
  app.get('/api/events', async (_req, reply) => {
    reply.hijack();
    const stream = new SseStream(reply.raw, { 'X-Content-Type-Options': 'nosniff' });
    opts.streams.add(stream);
    stream.onClose(() => opts.streams.delete(stream));
    stream.send('hello', { at: new Date().toISOString() });
    const lastProgress = new Map<string, number>();
    const unsubscribe = manager.hub.subscribeAll((id, event, data) => {
      if (event === 'status') {
        // A job's end comes as 'end' right after its last 'status': one message is enough.
        if (TERMINAL_STATUSES.has((data as { status: JobStatus }).status)) return;
        const job = manager.get(id);
        if (job) stream.send('job', publicJob(job, manager));
      } else if (event === 'end') {
        lastProgress.delete(id);
        const ended = data as JobRecord;
        if ((ended.status as string) === 'deleted') stream.send('deleted', { id });
        else stream.send('job', publicJob(ended, manager));
      } else if (event === 'progress') {
        const now = Date.now();
        if (now - (lastProgress.get(id) ?? 0) < PROGRESS_EVERY_MS) return;
        lastProgress.set(id, now);
        const p = data as JobProgress;
        stream.send('progress', { id, iteration: p.iteration, iterations: p.iterations });
      } else if (event === 'preview') {
        stream.send('preview', { id, url: (data as { url: string }).url });
      }
    });
    stream.onClose(unsubscribe);
  });
}
