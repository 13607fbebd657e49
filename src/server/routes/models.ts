/**
 * The arbitrary-style transformer's TF.js graph model (model.json and its weight files), for the
 * page's in-browser "any painting" mode. Read from the model directory the server uses
 * (--model-dir, $NST_MODEL_DIR, then the search order of models/model-dir.ts); only model.json and
 * the weight files its manifest names are served.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../../jobs/http-error';
import { ARBITRARY_MODEL_SUBDIR } from '../../models/arbitrary-transformer';
import { findModelFile } from '../../models/model-dir';

export const ARBITRARY_MODEL_URL = '/api/models/arbitrary/model.json';

/** model.json's path, or null when the model is not installed. */
export function arbitraryModelFile(modelDir?: string): string | null {
  try {
    return findModelFile(`${ARBITRARY_MODEL_SUBDIR}/model.json`, modelDir);
  } catch {
    return null;
  }
}

/** The weight files model.json names (plain file names beside it). */
function weightFiles(modelJson: string): Set<string> {
  const manifest = JSON.parse(fs.readFileSync(modelJson, 'utf8')).weightsManifest as { paths: string[] }[];
  return new Set(manifest.flatMap((group) => group.paths).filter((p) => p === path.basename(p)));
}

export async function modelRoutes(app: FastifyInstance, opts: { modelDir?: string }): Promise<void> {
  app.get<{ Params: { file: string } }>('/api/models/arbitrary/:file', async (req, reply) => {
    const modelJson = arbitraryModelFile(opts.modelDir);
    if (!modelJson) throw new HttpError(404, 'the arbitrary-style transformer is not installed on this server');
    const { file } = req.params;
    if (file !== 'model.json' && !weightFiles(modelJson).has(file)) throw new HttpError(404, 'no such model file');
    const full = path.join(path.dirname(modelJson), file);
    const bytes = await fs.promises.readFile(full).catch(() => {
      throw new HttpError(404, 'the model file is missing on the server');
    });
    return reply
      .type(file === 'model.json' ? 'application/json; charset=utf-8' : 'application/octet-stream')
      .header('Cache-Control', 'private, max-age=3600')
      .send(bytes);
  });
}
