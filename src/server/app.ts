/**
 * `nst serve`: the HTTP server. Assembles the job runner, the security checks, the API routes and
 * the page on Fastify; recovers interrupted jobs before it starts listening.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { FastifyInstance, FastifyRequest } from 'fastify';
import { redactUrl, registerSecurity } from './auth';
import { ResolvedServeOptions, resolveServeOptions, ServeOptions } from './config';
import { SseStream } from './events';
import { HttpError, oneLine, toHttpError } from '../jobs/http-error';
import { NstError } from '../errors';
import { defaultJobKinds, JobKind } from '../jobs/kinds';
import { JobManager, Logger } from './job-manager';
import { parseJsonBody } from './json-body';
import { lingerOnClose } from './linger';
import { catalogRoutes } from './routes/catalog';
import { galleryEventRoutes } from './routes/gallery-events';
import { jobThumbnailRoutes } from './routes/job-thumbnails';
import { jobRoutes } from './routes/jobs';
import { modelRoutes } from './routes/models';
import { pageRoutes } from './routes/page';
import { SampleLibrary } from './samples';
import { Slots } from './slots';
import { StyleLibrary } from '../jobs/styles';
import type { JobQueue } from '../jobs/queue';

export interface RunningServer {
  /** http://host:port (the port actually bound). */
  url: string;
  port: number;
  options: ResolvedServeOptions;
  app: FastifyInstance;
  manager: JobManager;
  samples: SampleLibrary;
  /** Stops listening, ends event streams, lets running jobs save a checkpoint, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Job kinds (default: stylize and fast). */
  kinds?: Map<string, JobKind>;
  log?: Logger;
  /** Run jobs through this queue (e.g. BullJobQueue from src/queue) instead of in this process; closed with the server. */
  queue?: JobQueue;
}

const quietLog: Logger = { info: () => undefined, error: (m) => process.stderr.write(`nst serve: ${m}\n`) };

/** Request logs (--log-requests) show the URL with any ?token= value replaced. */
const requestLogger = {
  serializers: {
    req: (req: FastifyRequest) => ({ method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
  },
};

export async function startServer(serveOptions: ServeOptions = {}, start: StartOptions = {}): Promise<RunningServer> {
  const options = resolveServeOptions(serveOptions);
  const log = start.log ?? quietLog;
  let manager: JobManager;
  try {
    manager = new JobManager(options, start.kinds ?? defaultJobKinds(), log, start.queue);
  } catch (err) {
    await start.queue?.close().catch(() => undefined);
    throw new NstError(`cannot use the data directory ${options.dataDir}: ${oneLine(String((err as Error)?.message ?? err))}`);
  }
  const samples = new SampleLibrary(options.samplesDir);
  const styles = new StyleLibrary(options.modelDir);
  const streams = new Set<SseStream>();
  let app: FastifyInstance | undefined;
  try {
    await manager.start();
    app = Fastify({
      logger: options.logRequests ? requestLogger : false,
      // Headers that trickle in are cut (408) within a quarter of the deadline past it.
      http: { headersTimeout: options.headersTimeoutMs, connectionsCheckingInterval: Math.min(Math.max(options.headersTimeoutMs / 4, 100), 5000) },
      bodyLimit: 64 * 1024,
      routerOptions: { maxParamLength: 200 },
      forceCloseConnections: true,
      return503OnClosing: true,
      ajv: { customOptions: { removeAdditional: false } },
    });
    // Jobs come as JSON or multipart only; anything else is 415. Multipart bodies are read by the
    // route itself (multipart.ts: streamed to disk, a few at a time, cut at the first limit).
    app.removeContentTypeParser('text/plain');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    app.addContentTypeParser('multipart/form-data', (_req, _payload, done) => done(null));
    app.setErrorHandler((err, req, reply) => {
      const { statusCode, message } = toHttpError(err);
      if (err instanceof HttpError && err.retryAfterSeconds !== undefined) reply.header('Retry-After', String(err.retryAfterSeconds));
      if (statusCode >= 500 && statusCode !== 503 && statusCode !== 507) log.error(`${req.method} ${redactUrl(req.url)}: ${String((err as Error)?.stack ?? err)}`);
      // A body left unread (an upload cut at a limit) is not read further: the connection closes
      // once the answer is out (lingering briefly, so that the client gets to read it).
      if (!req.raw.complete) {
        reply.header('Connection', 'close');
        lingerOnClose(req.raw.socket);
      }
      reply.code(statusCode).type('application/json; charset=utf-8').send({ error: message, statusCode });
    });
    app.setNotFoundHandler((req, reply) => {
      reply.code(404).send({ error: `no route for ${req.method} ${req.url.split('?')[0].slice(0, 200)}`, statusCode: 404 });
    });
    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('X-Content-Type-Options', 'nosniff');
      reply.header('X-Frame-Options', 'DENY');
      reply.header('Referrer-Policy', 'no-referrer');
      return payload;
    });
    app.addHook('preClose', async () => {
      for (const s of streams) s.close();
    });
    registerSecurity(app, { token: options.token, host: options.host });
    const kindContext = { maxSize: options.maxSize, maxIterations: options.maxIterations, styles };
    const uploads = {
      // Images are held to maxUploadBytes after the upload (route); a video may be larger.
      limits: { fileBytes: Math.max(options.maxUploadBytes, options.maxVideoBytes), files: 2, fields: 40, fieldBytes: 1000 },
      slots: new Slots(options.maxConcurrentUploads, options.maxUploadsPerClient),
      waitMs: options.uploadSlotWaitMs,
      pace: { minBytesPerSecond: options.minUploadBytesPerSecond, windowMs: options.uploadRateWindowMs, timeoutMs: options.uploadTimeoutMs },
    };
    const video = { maxBytes: options.maxVideoBytes, maxSeconds: options.maxVideoSeconds, maxPixels: options.maxVideoPixels, maxFrames: options.maxVideoFrames };
    await app.register(jobRoutes, { manager, samples, kindContext, maxPixels: options.maxPixels, maxImageBytes: options.maxUploadBytes, video, streams, uploads });
    await app.register(catalogRoutes, { options, manager, samples, styles });
    await app.register(galleryEventRoutes, { manager, streams });
    await app.register(jobThumbnailRoutes, { manager });
    await app.register(modelRoutes, { modelDir: options.modelDir });
    await app.register(pageRoutes);
    await app.listen({ host: options.host, port: options.port }).catch((err: NodeJS.ErrnoException) => {
      const why: Record<string, string> = { EADDRINUSE: 'the port is in use', EACCES: 'permission denied', EADDRNOTAVAIL: 'no such address on this machine', ENOTFOUND: 'unknown host' };
      throw err?.code && why[err.code] ? new NstError(`cannot listen on ${options.host}:${options.port}: ${why[err.code]}`) : err;
    });
  } catch (err) {
    await app?.close().catch(() => undefined);
    await manager.close().catch(() => undefined);
    throw err;
  }
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | null = null;
  const server = app;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    options,
    app,
    manager,
    samples,
    close: () =>
      (closing ??= (async () => {
        await server.close();
        await manager.close();
      })()),
  };
}
