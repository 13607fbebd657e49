/**
 * What the page needs to offer choices: health and limits, presets, sample images, the fast
 * styles and their weights (for the in-browser mode), and the API description.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError, RETRY_AFTER_SECONDS } from '../../jobs/http-error';
import type { ResolvedServeOptions } from '../config';
import { QUALITIES, DEFAULT_QUALITY } from '../../jobs/kinds';
import { DEFAULT_TRANSFER_METHOD } from '../../jobs/kinds/stylize';
import { METHOD_NAMES, METHODS } from '../../transfer/method-names';
import { PRESETS, STYLIZE_DEFAULTS } from '../../transfer/gatys';
import type { JobManager } from '../job-manager';
import { RESULT_FORMATS } from '../job-manager';
import { SAMPLE_KINDS, SampleKind, SampleLibrary } from '../samples';
import type { StyleLibrary } from '../../jobs/styles';
import { defaultFinishOf, readStyleFile, stylePalette } from '../../transfer/arbitrary';
import { NstError } from '../../errors';
import { ARBITRARY_MODEL_URL, arbitraryModelFile } from './models';
import openapi from '../openapi.json';
import { FieldReader, RawValue } from '../../jobs/fields';
import { estimate } from '../print-estimate';
import { resolvePrecision } from '../../engine';
import { baseNameOf } from '../../jobs/file-words';

export interface CatalogOptions {
  options: ResolvedServeOptions;
  manager: JobManager;
  samples: SampleLibrary;
  styles: StyleLibrary;
}

const DEFAULT_ESTIMATE_SIZE = 2048;

export async function catalogRoutes(app: FastifyInstance, opts: CatalogOptions): Promise<void> {
  const { options, manager, samples, styles } = opts;
  const version: string = require('../../../../package.json').version;

  // A load balancer reads the status: 503 while the distributed queue is unreachable (no job can be taken).
  app.get('/api/health', async (_req, reply) => {
    const { ok, down } = manager.health();
    reply.code(ok ? 200 : 503);
    if (!ok) reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
    return { ok, ...(ok ? {} : { down }), version, workers: options.workers, threads: options.threads, ...manager.stats };
  });

  app.get('/api/openapi.json', async () => openapi);

  app.get('/api/options', async () => ({
    methods: [...manager.kinds.values()].map((k) => ({ name: k.name, description: k.description })),
    presets: Object.entries(PRESETS).map(([name, p]) => ({ name, description: p.description, source: p.source })),
    defaultPreset: STYLIZE_DEFAULTS.preset,
    // The stylize job's transferMethod: what each is, whether alpha balances it (and its default).
    transferMethods: METHOD_NAMES.map((name) => ({ name, description: METHODS[name].description, alpha: METHODS[name].capabilities.alpha ? METHODS[name].defaults.alpha : null })),
    defaultTransferMethod: DEFAULT_TRANSFER_METHOD,
    qualities: Object.entries(QUALITIES).map(([name, q]) => ({ name, ...q })),
    defaultQuality: DEFAULT_QUALITY,
    // Each job's memory budget: stages over it run in tiles (the page's print sizes).
    memoryBudgetBytes: options.maxMemory,
    formats: RESULT_FORMATS,
    limits: { maxSize: options.maxSize, minSize: 32, maxIterations: options.maxIterations, maxUploadBytes: options.maxUploadBytes, maxPixels: options.maxPixels,
      maxVideoBytes: options.maxVideoBytes, maxVideoSeconds: options.maxVideoSeconds, maxVideoPixels: options.maxVideoPixels, maxVideoFrames: options.maxVideoFrames },
  }));

  // How long a job would take here, before it starts (GET /api/estimate?method=stylize&size=2048&width=4&height=3…).
  app.get('/api/estimate', async (req) => {
    const q = new FieldReader((req.query ?? {}) as Record<string, RawValue>);
    const kind = q.choice('method', ['stylize', 'fast'] as const) ?? 'stylize';
    const size = q.integer('size', { min: 32, max: options.maxSize }) ?? DEFAULT_ESTIMATE_SIZE;
    const width = q.integer('width', { min: 1, max: 1_000_000 }) ?? 4;
    const height = q.integer('height', { min: 1, max: 1_000_000 }) ?? 3;
    const quality = q.choice('quality', Object.keys(QUALITIES) as (keyof typeof QUALITIES)[]) ?? DEFAULT_QUALITY;
    const iterations = q.integer('iterations', { min: 1, max: options.maxIterations });
    const transferMethod = q.choice('transferMethod', METHOD_NAMES) ?? DEFAULT_TRANSFER_METHOD;
    q.raw('token');
    q.rejectUnread(' in the query');
    const { jobs } = manager.list({ status: 'succeeded', method: kind, limit: 50, offset: 0 });
    const precision = resolvePrecision(options.precision ?? 'auto', options.device ?? 'cpu');
    return estimate({ kind, size, width, height, quality, iterations, transferMethod, precision, threads: options.threads }, jobs, options.maxMemory);
  });

  app.get('/api/samples', async () => ({
    samples: samples.list().map((s) => ({ id: s.id, kind: s.kind, name: s.name, url: `/api/samples/${s.id}` })),
  }));

  app.get<{ Params: { kind: string; file: string }; Querystring: { size?: string } }>('/api/samples/:kind/:file', async (req, reply) => {
    const { kind, file } = req.params;
    const sample = (SAMPLE_KINDS as readonly string[]).includes(kind) ? samples.get(`${kind as SampleKind}/${file}`) : undefined;
    if (!sample) throw new HttpError(404, 'no such sample');
    const size = req.query.size === undefined ? 256 : Number(req.query.size);
    if (!Number.isInteger(size) || size < 16 || size > 1024) throw new HttpError(400, "'size' must be an integer from 16 to 1024");
    const bytes = await samples.thumbnail(sample, size);
    return reply.type('image/jpeg').header('Cache-Control', 'public, max-age=3600').send(bytes);
  });

  // Networks come with their weights; fitted styles with their vector, which steers the
  // arbitrary-style transformer (served under `arbitraryModel` when installed).
  app.get('/api/styles', async () => ({
    styles: styles.list().map(({ path, ...s }) => {
      const base = `/api/styles/${encodeURIComponent(s.name)}`;
      if (s.kind !== 'fitted') return { ...s, title: s.name.replace(/_/g, ' '), weights: `${base}/weights` };
      const painting = paintingOf(path);
      // A fitted style reads as its painting's name ("feathers"), also where its name is an older hash.
      return { ...s, title: painting ? baseNameOf(painting.file) : s.name, vector: `${base}/vector`, thumbnail: painting?.thumbnail ?? null };
    }),
    arbitraryModel: arbitraryModelFile(options.modelDir) ? ARBITRARY_MODEL_URL : null,
  }));

  app.get<{ Params: { name: string } }>('/api/styles/:name/vector', async (req) => {
    const entry = styles.find(req.params.name);
    if (!entry) throw new HttpError(404, 'no such style');
    if (entry.kind !== 'fitted') throw new HttpError(404, `'${entry.name}' is a style network, not a fitted style (see its weights)`);
    const style = readStyleFile(entry.path);
    const { name, model, vector, checksum, painting, created } = style;
    // How fast jobs finish this style's pass (src/jobs/kinds/fast.ts), so that the page paints
    // the same: the style's own finish and the palette the server matches, computed here from the style
    // file's thumbnail by the server's own code (null: a hand-made file without one; no palette).
    const palette = await stylePalette(style).catch((err) => {
      if (err instanceof NstError) return null;
      throw err;
    });
    return { name, model, vector, checksum, painting, created, modelUrl: ARBITRARY_MODEL_URL, finish: { ...defaultFinishOf(style), palette } };
  });

  app.get<{ Params: { name: string } }>('/api/styles/:name/weights', async (req, reply) => {
    const entry = styles.find(req.params.name);
    if (!entry) throw new HttpError(404, 'no such style');
    if (entry.kind === 'fitted') throw new HttpError(404, `'${entry.name}' is a fitted style: it has a vector, not weights (see its vector)`);
    const bytes = styles.weights(entry);
    return reply.type('application/octet-stream').header('Cache-Control', 'private, max-age=300').send(bytes);
  });
}

/** A fitted style's painting: its file name and small JPEG data: URL (null when the style file is unreadable). */
function paintingOf(file: string): { file: string; thumbnail: string } | null {
  try {
    return readStyleFile(file).painting;
  } catch {
    return null;
  }
}
