/**
 * A painting fitted on a queue worker (BullMQ, real redis-server) is a style of every process: the
 * worker puts it in the shared storage, the API copies it into its model folder before the job's
 * end is announced (so GET /api/styles lists it), and a worker that starts later, with a model
 * folder of its own, has it before its first job and paints a fast job with it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BullJobQueue, RunningQueueWorker, startQueueWorker } from '../src/queue';
import { RunningServer, startServer } from '../src/server';
import { openStorage } from '../src/storage';
import { makeFitModelDir, makeFitPhotosDir } from './helpers/fit-models';
import { json, makeSamplesDir, tempDir } from './helpers/server';
import { redisSkip, startRedis, TestRedis, until } from './helpers/queue';

const quiet = { info: () => undefined, error: () => undefined };

describe('fits on queue workers: the style reaches the API and every worker', { skip: redisSkip() }, () => {
  let redis: TestRedis;
  let server: RunningServer;
  const workers: RunningQueueWorker[] = [];
  const [apiModels, fitterModels, painterModels] = [makeFitModelDir(), makeFitModelDir(), makeFitModelDir()];
  const photos = makeFitPhotosDir();
  const storeDir = tempDir('nst-fit-store-');
  const dataDir = tempDir('nst-fit-api-');
  const samplesDir = makeSamplesDir();
  const worker = async (name: string, modelDir: string, evaluations = 4) => {
    const w = await startQueueWorker({ queue: redis.url, storage: openStorage(storeDir), threads: 1, modelDir, lockSeconds: 5, name, log: quiet, fit: { sizes: [64], evaluations: [evaluations], photos } });
    workers.push(w);
    return w;
  };
  const post = async (body: object) => {
    const res = await fetch(`${server.url}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const job = await json(res);
    assert.equal(res.status, 201, JSON.stringify(job));
    return job;
  };
  const finished = (id: string) =>
    until(`job ${id} to finish`, async () => {
      const j = await json(await fetch(`${server.url}/api/jobs/${id}`));
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
    }, 180_000);

  before(async () => {
    redis = await startRedis();
    const queue = await BullJobQueue.open({ url: redis.url, storage: openStorage(storeDir), maxPixels: 1e7, reconcileMs: 500, modelDir: apiModels });
    server = await startServer({ port: 0, dataDir, samplesDir, modelDir: apiModels }, { queue, log: quiet });
  });
  after(async () => {
    for (const w of workers) await w.close();
    await server?.close();
    await redis?.stop();
    for (const d of [apiModels, fitterModels, painterModels, photos, storeDir, dataDir, samplesDir]) fs.rmSync(d, { recursive: true, force: true });
  });

  test('fitted on one worker: listed by the API, present on a worker started later, painted with there', async () => {
    const fitter = await worker('fitter', fitterModels);
    const fit = await finished((await post({ method: 'fit', styleName: 'tiny-painting', styleSample: 'style/tiny_painting.png' })).id);
    assert.equal(fit.status, 'succeeded', fit.error);
    assert.equal(fit.result.details.worker, 'fitter');
    assert.equal(fit.result.details.style, 'tiny-painting');

    const rel = path.join('fast-style', 'tiny-painting.style.json');
    const made = fs.readFileSync(path.join(fitterModels, rel));
    assert.deepEqual(fs.readFileSync(path.join(storeDir, 'models', rel)), made, 'in the shared storage');
    assert.deepEqual(fs.readFileSync(path.join(apiModels, rel)), made, "in the API's model folder");
    const { styles } = await json(await fetch(`${server.url}/api/styles`));
    assert.deepEqual(styles.filter((s: { name: string }) => s.name === 'tiny-painting').map((s: { kind: string }) => s.kind), ['fitted']);

    await fitter.close();
    workers.splice(workers.indexOf(fitter), 1);
    assert.ok(!fs.existsSync(path.join(painterModels, rel)));
    await worker('painter', painterModels);
    assert.deepEqual(fs.readFileSync(path.join(painterModels, rel)), made, 'copied when the worker started');
    const fast = await finished((await post({ method: 'fast', fastStyle: 'tiny-painting', contentSample: 'content/tiny_photo.png', size: 64, format: 'png' })).id);
    assert.equal(fast.status, 'succeeded', fast.error);
    assert.equal(fast.result.details.worker, 'painter');
    // The queue's workers finish fitted styles as the server and the page do (paint scale, palette).
    assert.deepEqual([fast.params.paintScale, fast.params.paletteMatch], [1.5, 0.5]);
    assert.deepEqual([fast.result.width, fast.result.height], [64, 48]);
  });

  test('a fit cancelled while it runs on a worker: cancelled, and its style is nowhere', async () => {
    for (const w of workers.splice(0)) await w.close();
    const slowModels = makeFitModelDir();
    try {
      await worker('slow-fitter', slowModels, 5000);
      const job = await post({ method: 'fit', styleName: 'cancel-me', styleSample: 'style/tiny_painting.png' });
      await until('the fit running', async () => ((await json(await fetch(`${server.url}/api/jobs/${job.id}`))).progress?.iteration ?? 0) >= 1, 120_000);
      assert.equal((await fetch(`${server.url}/api/jobs/${job.id}/cancel`, { method: 'POST' })).status, 202);
      const end = await finished(job.id);
      assert.equal(end.status, 'cancelled');
      assert.ok(end.result === null || end.result.iterations < 5000, JSON.stringify(end.result));
      const rel = path.join('fast-style', 'cancel-me.style.json');
      for (const dir of [path.join(storeDir, 'models'), apiModels, slowModels]) assert.ok(!fs.existsSync(path.join(dir, rel)), `no style in ${dir}`);
      const { styles } = await json(await fetch(`${server.url}/api/styles`));
      assert.ok(!styles.some((s: { name: string }) => s.name === 'cancel-me'));
    } finally {
      fs.rmSync(slowModels, { recursive: true, force: true });
    }
  });
});
