/**
 * The jobs API: create (multipart upload or sample ids), list, get, live events (SSE), cancel,
 * delete, and the job's files (result, preview, report, inputs), which are served by job id only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { METHOD_NAMES } from '../../transfer/method-names';
import { FieldReader, RawValue } from '../../jobs/fields';
import { SseStream } from '../events';
import { badRequest, HttpError } from '../../jobs/http-error';
import { JOB_ID_PATTERN } from '../../jobs/files';
import type { InputRole, KindContext } from '../../jobs/kinds';
import { JobManager, NewJobInput, RESULT_FORMATS, ResultFormat } from '../job-manager';
import { JOB_STATUSES, JobRecord, JobStatus, TERMINAL_STATUSES } from '../../jobs/store';
import { MultipartBody, MultipartLimits, readMultipart, UploadedFile, UploadPace } from '../multipart';
import type { SampleLibrary } from '../samples';
import type { Slots } from '../slots';
import { checkImage } from '../uploads';
import { checkVideo, VideoLimits } from '../video-uploads';
import { attachment, downloadName } from './download-name';
import { sendFileWithRanges } from './send-file';

export interface JobRoutesOptions {
  manager: JobManager;
  samples: SampleLibrary;
  kindContext: KindContext;
  maxPixels: number;
  /** Largest image file, bytes (the multipart limit may be higher, for videos). */
  maxImageBytes: number;
  video: VideoLimits;
  /** Open SSE streams, closed when the server shuts down. */
  streams: Set<SseStream>;
  uploads: { limits: MultipartLimits; slots: Slots; waitMs: number; pace: UploadPace };
}

const ROLES: readonly InputRole[] = ['content', 'style'];
/** Each input as a painter calls it, in messages (the field names stay 'content' and 'style'). */
const ROLE_WORDS: Record<InputRole, string> = { content: 'photo', style: 'painting' };
const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.avif': 'image/avif',
  '.json': 'application/json; charset=utf-8',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.avi': 'video/x-msvideo',
};

/** A job as the API shows it. */
export function publicJob(job: JobRecord, manager: JobManager): Record<string, unknown> {
  const base = `/api/jobs/${job.id}`;
  const inputs = Object.fromEntries(
    Object.entries(job.inputs).map(([role, info]) => [
      role,
      { name: info.name, source: info.source, format: info.format, width: info.width, height: info.height, bytes: info.bytes, ...(info.video ? { video: info.video } : {}), url: `${base}/inputs/${role}` },
    ]),
  );
  const { history: _history, seq: _seq, ...rest } = job;
  return {
    ...rest,
    inputs,
    queuePosition: job.status === 'queued' ? manager.queuePosition(job.id) : undefined,
    result: job.result
      ? { ...job.result, url: `${base}/result`, ...(job.result.poster ? { poster: `${base}/thumbnail/result` } : {}) }
      : null,
    links: {
      self: base,
      events: `${base}/events`,
      result: job.result ? `${base}/result` : null,
      preview: `${base}/preview`,
      report: `${base}/report`,
    },
  };
}

export async function jobRoutes(app: FastifyInstance, opts: JobRoutesOptions): Promise<void> {
  const { manager } = opts;

  const jobOr404 = (id: string): JobRecord => {
    const job = JOB_ID_PATTERN.test(id) ? manager.get(id) : undefined;
    if (!job) throw new HttpError(404, 'no such job');
    return job;
  };

  app.post('/api/jobs', async (req, reply) => {
    if (!isMultipart(req)) return createJob(readJsonBody(req.body), {}, reply);
    // Uploads are read a few at a time, a few per client; the others wait (their bodies unread) for a slot.
    const { slots } = opts.uploads;
    const slot = await slots.acquire(req.ip, opts.uploads.waitMs);
    if ('refused' in slot) {
      reply.header('Retry-After', '5');
      if (slot.refused === 'client') throw new HttpError(429, `this client is sending ${slots.perClient} uploads already (the most one client may send at once); send this one when one has finished`);
      throw new HttpError(503, `the server is receiving ${slots.size} uploads already; try again in a moment`);
    }
    // A client that hung up while it waited takes no slot: nothing of its upload will come.
    if (req.raw.destroyed || req.raw.socket.destroyed) {
      slot.release();
      return reply.hijack();
    }
    const release = slot.release;
    let body: MultipartBody | null = null;
    try {
      body = await readMultipart(req.raw, { tempDir: manager.files.uploadsDir, limits: opts.uploads.limits, pace: opts.uploads.pace, refuseFile });
      return await createJob(body.fields, body.files, reply);
    } finally {
      release();
      // Uploads a created job took are moved already; the others go.
      for (const f of Object.values(body?.files ?? {})) await fs.promises.rm(f.path, { force: true }).catch(() => undefined);
    }
  });

  const createJob = async (fields: Record<string, RawValue>, files: Record<string, UploadedFile>, reply: FastifyReply) => {
    const f = new FieldReader(transferMethodAsMethod(fields));
    const methods = [...manager.kinds.keys()];
    const method = f.choice('method', methods) ?? 'stylize';
    const kind = manager.kinds.get(method)!;
    // An image format means nothing to a video job (its result is an MP4): refused as unknown there.
    const format = kind.videoInput ? undefined : (f.choice<ResultFormat>('format', RESULT_FORMATS) ?? 'jpg');
    const params = kind.parse(f, opts.kindContext);
    const roles = kind.inputs(params);
    const samples: Partial<Record<InputRole, string>> = {};
    for (const role of ROLES) {
      if (!roles.includes(role)) continue;
      samples[role] = f.string(`${role}Sample`, { max: 300 });
    }
    f.rejectUnread(` for method '${method}'`);
    for (const role of Object.keys(files)) {
      if (!roles.includes(role as InputRole)) throw badRequest(`the '${method}' method takes no ${role === 'content' ? 'photo' : 'style image'}`);
    }
    const inputs: NewJobInput[] = [];
    for (const role of roles) {
      const upload = files[role];
      const sampleId = samples[role];
      if (upload && sampleId) throw badRequest(`give either a ${ROLE_WORDS[role]} as the '${role}' file or ${role}Sample, not both`);
      if (!upload && !sampleId) {
        throw badRequest(kind.missingInput?.(role) ?? `${role === 'content' ? 'a photo' : 'a style image'} is required: upload it as the '${role}' file or name a sample with '${role}Sample'`);
      }
      let file: string;
      let name: string;
      if (upload) {
        file = upload.path;
        name = cleanName(upload.filename) || role;
      } else {
        const sample = opts.samples.get(sampleId!);
        if (!sample) throw badRequest(`unknown sample '${sampleId}' (see GET /api/samples)`);
        file = sample.file;
        name = sample.id;
      }
      if (role === kind.videoInput) {
        if (!upload) throw badRequest(`the '${method}' method needs an uploaded video as the '${role}' file (samples are images)`);
        const checked = await checkVideo(file, opts.video);
        inputs.push({ role, name, source: 'upload', file, bytes: checked.bytes, format: checked.format, extension: checked.extension, width: checked.width, height: checked.height, video: checked.video });
        continue;
      }
      if (upload && upload.bytes > opts.maxImageBytes) throw new HttpError(413, `the ${ROLE_WORDS[role]} is larger than the server accepts (${mib(opts.maxImageBytes)} at most)`);
      const checked = await checkImage(file, ROLE_WORDS[role], opts.maxPixels);
      inputs.push({ role, name, source: upload ? 'upload' : 'sample', file, bytes: checked.bytes, format: checked.format, extension: checked.extension, width: checked.width, height: checked.height });
    }
    const job = await manager.create(method, params, inputs, format);
    reply.code(201).header('Location', `/api/jobs/${job.id}`);
    return publicJob(job, manager);
  };

  app.get('/api/jobs', async (req) => {
    const q = new FieldReader((req.query ?? {}) as Record<string, RawValue>);
    const status = q.choice<JobStatus>('status', JOB_STATUSES);
    const method = q.choice('method', [...manager.kinds.keys()]);
    const limit = q.integer('limit', { min: 1, max: 200 }) ?? 50;
    const offset = q.integer('offset', { min: 0, max: 1_000_000_000 }) ?? 0;
    q.raw('token');
    q.rejectUnread(' in the query');
    const { jobs, total } = manager.list({ status, method, limit, offset });
    return { jobs: jobs.map((j) => publicJob(j, manager)), total, limit, offset };
  });

  app.get<{ Params: { id: string } }>('/api/jobs/:id', async (req) => publicJob(jobOr404(req.params.id), manager));

  app.post<{ Params: { id: string } }>('/api/jobs/:id/cancel', async (req, reply) => {
    jobOr404(req.params.id);
    const job = manager.cancel(req.params.id);
    reply.code(202);
    return publicJob(job, manager);
  });

  app.delete<{ Params: { id: string } }>('/api/jobs/:id', async (req, reply) => {
    jobOr404(req.params.id);
    await manager.delete(req.params.id);
    reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/api/jobs/:id/events', async (req, reply) => {
    const job = jobOr404(req.params.id);
    reply.hijack();
    const stream = new SseStream(reply.raw, { 'X-Content-Type-Options': 'nosniff' });
    opts.streams.add(stream);
    stream.onClose(() => opts.streams.delete(stream));
    stream.send('snapshot', { job: publicJob(job, manager), history: job.history });
    if (TERMINAL_STATUSES.has(job.status)) {
      stream.send('end', { job: publicJob(job, manager) });
      stream.close();
      return;
    }
    const unsubscribe = manager.hub.subscribe(job.id, (event, data) => {
      if (event === 'end') {
        const ended = data as JobRecord;
        stream.send('end', { job: (ended.status as string) === 'deleted' ? { id: ended.id, status: 'deleted' } : publicJob(ended, manager) });
        stream.close();
      } else {
        stream.send(event, data);
      }
    });
    stream.onClose(unsubscribe);
  });

  app.get<{ Params: { id: string }; Querystring: { download?: string } }>('/api/jobs/:id/result', async (req, reply) => {
    const job = jobOr404(req.params.id);
    if (!job.result) throw new HttpError(404, job.status === 'queued' || job.status === 'running' ? 'the job has no result yet' : 'the job has no result');
    const file = manager.files.file(job.id, job.result.file);
    if (req.query.download !== undefined) {
      reply.header('Content-Disposition', attachment(downloadName(job, path.extname(file))));
    }
    // A video result is played in place: players ask for byte ranges (seeking, Safari always).
    if (job.result.poster) return sendFileWithRanges(req, reply, file, CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', 'private, max-age=60');
    return sendFile(reply, file, 'private, max-age=60');
  });

  app.get<{ Params: { id: string } }>('/api/jobs/:id/preview', async (req, reply) => {
    const job = jobOr404(req.params.id);
    if (!manager.files.exists(job.id, 'preview.jpg')) throw new HttpError(404, 'no preview yet');
    return sendFile(reply, manager.files.file(job.id, 'preview.jpg'), 'no-store');
  });

  app.get<{ Params: { id: string } }>('/api/jobs/:id/report', async (req) => manager.report(jobOr404(req.params.id)));

  app.get<{ Params: { id: string; role: string } }>('/api/jobs/:id/inputs/:role', async (req, reply) => {
    const job = jobOr404(req.params.id);
    const info = (ROLES as readonly string[]).includes(req.params.role) ? job.inputs[req.params.role] : undefined;
    if (!info) throw new HttpError(404, 'the job has no such input');
    return sendFile(reply, manager.files.file(job.id, info.file), 'private, max-age=3600');
  });
}

async function sendFile(reply: FastifyReply, file: string, cacheControl: string): Promise<FastifyReply> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch {
    throw new HttpError(404, 'the file is gone');
  }
  reply
    .type(CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream')
    .header('Content-Length', stat.size)
    .header('Cache-Control', cacheControl);
  return reply.send(fs.createReadStream(file));
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

function isMultipart(req: FastifyRequest): boolean {
  return /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '');
}

/** Only a content (image or video) and a style image. */
function refuseFile(field: string): string | null {
  return (ROLES as readonly string[]).includes(field) ? null : `unknown file field '${field.slice(0, 40)}' (expected content or style)`;
}

/**
 * `method: "nnst"` (a transfer method's name) is short for `method: "stylize"` with that
 * `transferMethod`; both at once must agree.
 */
function transferMethodAsMethod(fields: Record<string, RawValue>): Record<string, RawValue> {
  const named = fields.method;
  if (typeof named !== 'string' || !(METHOD_NAMES as readonly string[]).includes(named)) return fields;
  if (fields.transferMethod !== undefined && fields.transferMethod !== named) {
    throw badRequest(`'method' ${JSON.stringify(named)} and 'transferMethod' ${JSON.stringify(fields.transferMethod)} disagree: give one of them`);
  }
  return { ...fields, method: 'stylize', transferMethod: named };
}

function readJsonBody(body: unknown): Record<string, RawValue> {
  if (body === undefined || body === null) throw badRequest('send the job as multipart/form-data (with image files) or as a JSON object (with sample ids)');
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('the JSON body must be an object');
  const fields: Record<string, RawValue> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw badRequest(`field '${k}' must be a string, a number or a boolean`);
    fields[k] = v;
  }
  return fields;
}

/** A file name for display only: no path, no control characters, at most 100 characters. */
function cleanName(name: string): string {
  return path.basename(name.replace(/\\/g, '/')).replace(/[\x00-\x1f\x7f]/g, '').slice(0, 100);
}
