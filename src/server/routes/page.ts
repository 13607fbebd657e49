/**
 * The web page: the files the build puts in dist/web (HTML, CSS, compiled TypeScript) and the
 * TensorFlow.js bundles from node_modules for the in-browser mode. Only files that exist at start
 * are served (no path from a request reaches the file system).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { HttpError } from '../../jobs/http-error';

/** dist/web, where `npm run build:web` puts the page (this file is dist/src/server/routes/page.js). */
export const WEB_DIR = path.resolve(__dirname, '..', '..', '..', 'web');

const CSP = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "style-src 'self'",
  "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const VENDOR: Record<string, string> = {
  'tf.min.js': '@tensorflow/tfjs/dist/tf.min.js',
  'tf-backend-webgpu.min.js': '@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js',
};

export async function pageRoutes(app: FastifyInstance): Promise<void> {
  const vendor = new Map<string, string>();
  for (const [name, spec] of Object.entries(VENDOR)) {
    try {
      vendor.set(name, require.resolve(spec));
    } catch {
      // not installed: the page falls back to server-side jobs only
    }
  }
  app.get<{ Params: { file: string } }>('/vendor/:file', async (req, reply) => {
    const file = vendor.get(req.params.file);
    if (!file) throw new HttpError(404, 'no such file');
    return reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=86400').send(fs.createReadStream(file));
  });

  if (!fs.existsSync(path.join(WEB_DIR, 'index.html'))) {
    app.get('/', async () => {
      throw new HttpError(503, "the web page is not built: run 'npm run build:web'");
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: WEB_DIR,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    cacheControl: true,
    maxAge: 0,
    setHeaders: (res, file) => {
      if (file.endsWith('.html')) res.setHeader('Content-Security-Policy', CSP);
    },
  });
}
