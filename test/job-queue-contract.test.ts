/**
 * The JobQueue contract (src/jobs/queue.ts): the same cases against both queues, the embedded one
 * (SQLite + worker threads) and BullMQ on a real redis-server (with the worker in the API's process,
 * one job at a time, one thread): submit with progress and previews, position of queued jobs,
 * cancel (queued and running), delete, health, and a restart that resumes a running job from its
 * last saved image. For BullMQ also: health while Redis is stopped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BullJobQueue } from '../src/queue';
import { RunningServer, startServer } from '../src/server';
import { openStorage } from '../src/storage';
import { MODELS_DIR } from './helpers/reference';
import { json, makeSamplesDir, readEvents, tempDir } from './helpers/server';
import { redisSkip, startRedis, TestRedis, until } from './helpers/queue';

const PAIR = { contentSample: 'content/tiny_photo.png', styleSample: 'style/tiny_painting.png' };
const quiet = { info: () => undefined, error: () => undefined };

interface Backend {
  name: string;
  skip: string | false;
  setUp(): Promise<void>;
  /** A server on `dataDir` with this backend's queue (a new one after a restart). */
  start(dataDir: string, samplesDir: string): Promise<RunningServer>;
  tearDown(): Promise<void>;
}

let redis: TestRedis | undefined;
const backends: Backend[] = [
  {
    name: 'embedded',
    skip: false,
    setUp: async () => undefined,
    start: (dataDir, samplesDir) => startServer({ port: 0, dataDir, samplesDir, modelDir: MODELS_DIR, workers: 1, threads: 1 }, { log: quiet }),
    tearDown: async () => undefined,
  },
  {
    name: 'bullmq',
    skip: redisSkip(),
    setUp: async () => {
      redis = await startRedis();
    },
    start: async (dataDir, samplesDir) => {
      const queue = await BullJobQueue.open({
        url: redis!.url,
        storage: openStorage(dataDir),
        maxPixels: 1e7,
        reconcileMs: 500,
        localWorker: { concurrency: 1, threads: 1, modelDir: MODELS_DIR, lockSeconds: 2, name: 'contract-worker', log: quiet },
      });
      return startServer({ port: 0, dataDir, samplesDir, modelDir: MODELS_DIR, workers: 1, threads: 1 }, { queue, log: quiet });
    },
    tearDown: async () => {
      await redis?.stop();
    },
  },
];

for (const backend of backends) {
  describe(`JobQueue contract: ${backend.name}`, { skip: backend.skip }, () => {
    const dataDir = tempDir(`nst-contract-${backend.name}-`);
    const samplesDir = makeSamplesDir();
    let server: RunningServer;

    const post = async (body: object) => {
      const res = await fetch(`${server.url}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const job = await json(res);
      assert.equal(res.status, 201, JSON.stringify(job));
      return job;
    };
    const get = async (id: string) => json(await fetch(`${server.url}/api/jobs/${id}`));
    const finished = (id: string, timeoutMs = 180_000) =>
      until(`job ${id} to finish`, async () => {
        const j = await get(id);
        return ['succeeded', 'failed', 'cancelled', 'interrupted'].includes(j.status) ? j : undefined;
      }, timeoutMs);

    before(async () => {
      await backend.setUp();
      server = await backend.start(dataDir, samplesDir);
    });
    after(async () => {
      await server?.close();
      await backend.tearDown();
      for (const d of [dataDir, samplesDir]) fs.rmSync(d, { recursive: true, force: true });
    });

    test('health: ok, 200, nothing down, nothing queued', async () => {
      const res = await fetch(`${server.url}/api/health`);
      const h = await json(res);
      assert.equal(res.status, 200);
      assert.equal(h.ok, true);
      assert.equal(h.down, undefined);
      assert.equal(h.queued, 0);
      assert.equal(h.running, 0);
    });

    test('submit: progress and previews stream live; the result, history and report agree', async () => {
      const job = await post({ ...PAIR, size: 64, iterations: 8, previewEvery: 4, seed: 1, format: 'png' });
      const events = await readEvents(`${server.url}/api/jobs/${job.id}/events`, { until: (e) => e.event === 'end' });
      const end = await finished(job.id);
      assert.equal(end.status, 'succeeded', end.error);
      assert.equal(end.result.iterations, 8);
      const progress = events.filter((e) => e.event === 'progress').map((e) => e.data.iteration);
      const previews = events.filter((e) => e.event === 'preview').map((e) => e.data.iteration);
      assert.ok(progress.length > 0 && progress.at(-1) === 8, `progress ${progress}`);
      assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'in order');
      assert.ok(previews.length >= 1 && previews.every((i) => i % 4 === 0), `previews ${previews}`);
      assert.equal(events.at(-1)!.data.job.status, 'succeeded');
      const result = Buffer.from(await (await fetch(`${server.url}/api/jobs/${job.id}/result`)).arrayBuffer());
      assert.deepEqual([...result.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
      const preview = await fetch(`${server.url}/api/jobs/${job.id}/preview`);
      assert.equal(preview.status, 200);
      const report = await json(await fetch(`${server.url}/api/jobs/${job.id}/report`));
      assert.equal(report.lossHistory.rows.length, 8, 'one loss row per iteration');
      assert.equal(report.lossHistory.rows.at(-1)[0], 8);
    });

    test('position, cancel (queued and running) and delete', async () => {
      const a = await post({ ...PAIR, size: 64, iterations: 3000, previewEvery: 2, seed: 5 });
      const b = await post({ ...PAIR, size: 64, iterations: 3000, previewEvery: 2, seed: 6 });
      const c = await post({ ...PAIR, size: 64, iterations: 3000, previewEvery: 2, seed: 7 });
      await until('a running', async () => (await get(a.id)).checkpointIteration >= 2);
      assert.equal((await get(b.id)).queuePosition, 1);
      assert.equal((await get(c.id)).queuePosition, 2);
      const h = await json(await fetch(`${server.url}/api/health`));
      assert.deepEqual([h.queued, h.running], [2, 1]);

      // Queued: cancelled at once, never runs.
      const cancelled = await json(await fetch(`${server.url}/api/jobs/${c.id}/cancel`, { method: 'POST' }));
      assert.equal(cancelled.status, 'cancelled');
      assert.equal((await get(c.id)).startedAt, null);
      assert.equal((await get(b.id)).queuePosition, 1);

      // Running: stops after its iteration, its last image kept as a partial result.
      assert.equal((await fetch(`${server.url}/api/jobs/${a.id}/cancel`, { method: 'POST' })).status, 202);
      const stopped = await finished(a.id, 60_000);
      assert.equal(stopped.status, 'cancelled');
      assert.equal(stopped.result.partial, true);
      assert.ok(stopped.result.iterations >= 2 && stopped.result.iterations < 3000, `${stopped.result.iterations}`);

      // Delete the next one once it runs: record, files and queue entry go.
      await until('b running', async () => (await get(b.id)).checkpointIteration >= 2, 120_000);
      assert.equal((await fetch(`${server.url}/api/jobs/${b.id}`, { method: 'DELETE' })).status, 204);
      assert.equal((await fetch(`${server.url}/api/jobs/${b.id}`)).status, 404);
      await until('its files to go', async () => !fs.existsSync(path.join(dataDir, 'jobs', b.id)), 60_000);
      const idle = await until('an idle queue', async () => {
        const x = await json(await fetch(`${server.url}/api/health`));
        return x.queued === 0 && x.running === 0 ? x : undefined;
      }, 60_000);
      assert.equal(idle.ok, true);
    });

    test('restart: a running job resumes from its last saved image and runs to its end', async () => {
      const job = await post({ ...PAIR, size: 64, iterations: 24, previewEvery: 4, seed: 3 });
      const seen = await until('a saved image', async () => {
        const j = await get(job.id);
        return (j.checkpointIteration ?? 0) >= 8 ? j : undefined;
      });
      await server.close();
      server = await backend.start(dataDir, samplesDir);
      const end = await finished(job.id);
      assert.equal(end.status, 'succeeded', end.error);
      assert.equal(end.result.iterations, 24);
      assert.equal(end.resumes.length, 1, JSON.stringify(end.resumes));
      const from = end.resumes[0].fromIteration;
      // The image saved on the way out (at whatever iteration the job had reached), not an older preview.
      assert.ok(from >= seen.checkpointIteration && from < 24, `resumed from ${from}, saw ${seen.checkpointIteration}`);
      const report = await json(await fetch(`${server.url}/api/jobs/${job.id}/report`));
      assert.equal(report.lossHistory.rows.at(-1)[0], 24);
    });

    if (backend.name === 'bullmq') {
      test('health while Redis is stopped: 503, ok false, names Redis as what is down; 200 once it is back', async () => {
        await redis!.kill();
        try {
          const down = await until('the API to notice', async () => {
            const res = await fetch(`${server.url}/api/health`);
            return res.status === 503 ? { res, body: await json(res) } : undefined;
          }, 20_000);
          assert.equal(down.body.ok, false);
          assert.deepEqual(down.body.down, [`the job queue's Redis at ${redis!.url}`]);
          assert.equal(down.res.headers.get('retry-after'), '5');
        } finally {
          await redis!.start();
        }
        const back = await until('health back', async () => {
          const res = await fetch(`${server.url}/api/health`);
          return res.status === 200 ? await json(res) : undefined;
        }, 30_000);
        assert.equal(back.ok, true);
        assert.equal(back.down, undefined);
      });
    }
  });
}
