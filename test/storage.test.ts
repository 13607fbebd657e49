/**
 * Job storage: the same contract for a directory and for S3 (against s3rver, a real S3-protocol
 * server started here on a free port), then one job through API + worker with its files in S3.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { BullJobQueue } from '../src/queue';
import { startServer } from '../src/server';
import { DirectoryStorage, openStorage, Storage, StorageError } from '../src/storage';
import { MODELS_DIR } from './helpers/reference';
import { json, makeSamplesDir, tempDir } from './helpers/server';
import { redisSkip, startRedis, until } from './helpers/queue';

// s3rver's fixed credentials; the SDK reads them from the environment like real ones.
process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
// eslint-disable-next-line @typescript-eslint/no-var-requires
const S3rver = require('s3rver');
const BUCKET = 'nst-test';

let s3server: { close(): Promise<void> };
let endpoint = '';
const s3dir = tempDir('nst-s3rver-');

before(async () => {
  s3server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3dir, configureBuckets: [{ name: BUCKET }] });
  const { port } = await (s3server as unknown as { run(): Promise<{ port: number }> }).run();
  endpoint = `http://127.0.0.1:${port}`;
});

after(async () => {
  await s3server?.close();
  fs.rmSync(s3dir, { recursive: true, force: true });
});

async function contract(storage: Storage): Promise<void> {
  try {
    await roundTrip(storage);
  } finally {
    storage.close?.();
  }
}

async function roundTrip(storage: Storage): Promise<void> {
  await storage.check();
  const big = randomBytes(300_000);
  await storage.put('jobs/aaaa/result.png', big);
  await storage.put('jobs/aaaa/preview.jpg', Buffer.from('first'));
  await storage.put('jobs/aaaa/preview.jpg', Buffer.from('second'));
  await storage.put('jobs/aaab/content.png', Buffer.from('sibling'));
  assert.deepEqual(await storage.get('jobs/aaaa/result.png'), big);
  assert.equal((await storage.get('jobs/aaaa/preview.jpg'))!.toString(), 'second', 'a put replaces');
  assert.equal(await storage.get('jobs/aaaa/missing.png'), null);
  await storage.removePrefix('jobs/aaaa/');
  assert.equal(await storage.get('jobs/aaaa/result.png'), null);
  assert.equal(await storage.get('jobs/aaaa/preview.jpg'), null);
  assert.equal((await storage.get('jobs/aaab/content.png'))!.toString(), 'sibling', 'only the prefix is removed');
  await storage.removePrefix('jobs/nothing-here/');
  // Listing a folder-like prefix: every key under it, at any depth, nothing beside it.
  await storage.put('models/fast-style/a.style.json', Buffer.from('a'));
  await storage.put('models/deeper/b/c.bin', Buffer.from('c'));
  assert.deepEqual((await storage.list('models/')).sort(), ['models/deeper/b/c.bin', 'models/fast-style/a.style.json']);
  assert.deepEqual(await storage.list('nothing-here/'), []);
  await storage.removePrefix('models/');
}

describe('storage', () => {
  test('a directory: round trip, replace, missing, remove by prefix, list', async () => {
    const dir = tempDir('nst-dirstore-');
    try {
      await contract(new DirectoryStorage(dir));
      assert.deepEqual(fs.readdirSync(path.join(dir, 'jobs')), ['aaab'], 'no temp files left');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a storage error says what failed in one line: the code once, no file path', async () => {
    const dir = tempDir('nst-dirstore-');
    try {
      const storage = new DirectoryStorage(dir);
      fs.mkdirSync(path.join(dir, 'jobs', 'aaaa', 'result.png'), { recursive: true });
      const err = await storage.put('jobs/aaaa/result.png', Buffer.from('x')).then(() => null, (e: StorageError) => e);
      assert.ok(err instanceof StorageError);
      assert.equal(err.message, `cannot write jobs/aaaa/result.png in the storage ${dir}: EISDIR: illegal operation on a directory`);
      assert.equal(err.publicMessage, 'cannot write jobs/aaaa/result.png in the job storage: EISDIR: illegal operation on a directory');
      // A real EPERM (a hard link to a folder): "EPERM: EPERM: …" was the message.
      const eperm = (() => {
        try {
          fs.linkSync(path.join(dir, 'jobs'), path.join(dir, 'link'));
        } catch (e) {
          return e as NodeJS.ErrnoException;
        }
        throw new Error('linking a folder succeeded');
      })();
      assert.equal(eperm.code, 'EPERM');
      assert.equal(new StorageError(dir, 'write', 'jobs/aaaa/x.png', eperm).message, `cannot write jobs/aaaa/x.png in the storage ${dir}: EPERM: operation not permitted`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('S3 (s3rver): the same round trip; a missing bucket and bad addresses are one-line errors', async () => {
    await contract(openStorage(`s3://${BUCKET}/studio/one?endpoint=${endpoint}`));
    // Keys live under the prefix.
    const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true });
    const list = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    assert.deepEqual(list.Contents!.map((o) => o.Key), ['studio/one/jobs/aaab/content.png']);
    client.destroy();
    const missing = openStorage(`s3://no-such-bucket/x?endpoint=${endpoint}`);
    await assert.rejects(missing.check(), /^NstError: the storage s3:\/\/no-such-bucket\/x\/ at http:\/\/127\.0\.0\.1:\d+ is not usable: no such bucket$/);
    missing.close?.();
    assert.throws(() => openStorage('s3://A_B/x'), /is not an s3:\/\/BUCKET\/PREFIX address/);
    assert.throws(() => openStorage('ftp://host/x'), /unsupported address 'ftp:\/\/host\/x'/);
    assert.throws(() => openStorage(`s3://${BUCKET}/x?endpoint=localhost:9000`), /the S3 endpoint must be an http\(s\) URL/);
  });

  test('a job through API + worker with its files in S3', { skip: redisSkip() }, async () => {
    const redis = await startRedis();
    const samplesDir = makeSamplesDir();
    const dataDir = tempDir('nst-s3api-');
    const storage = openStorage(`s3://${BUCKET}/studio/two?endpoint=${endpoint}`);
    const queue = await BullJobQueue.open({ url: redis.url, storage, maxPixels: 1e7, localWorker: { concurrency: 1, threads: 1, modelDir: MODELS_DIR, lockSeconds: 5 } });
    const server = await startServer({ port: 0, dataDir, samplesDir, modelDir: MODELS_DIR }, { queue });
    const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true });
    try {
      const res = await fetch(`${server.url}/api/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ method: 'fast', contentSample: 'content/tiny_photo.png', fastStyle: 'wave', size: 64 }),
      });
      const job = await json(res);
      assert.equal(res.status, 201, JSON.stringify(job));
      const end = await until('the job', async () => {
        const j = await json(await fetch(`${server.url}/api/jobs/${job.id}`));
        return j.status === 'succeeded' || j.status === 'failed' ? j : undefined;
      });
      assert.equal(end.status, 'succeeded', end.error);
      const keys = async () => ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `studio/two/jobs/${job.id}/` }))).Contents ?? []).map((o) => o.Key).sort();
      assert.deepEqual(await keys(), [`studio/two/jobs/${job.id}/content.png`, `studio/two/jobs/${job.id}/result.jpg`]);
      const fromApi = Buffer.from(await (await fetch(`${server.url}/api/jobs/${job.id}/result`)).arrayBuffer());
      const obj = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `studio/two/jobs/${job.id}/result.jpg` }));
      assert.deepEqual(Buffer.from(await obj.Body!.transformToByteArray()), fromApi, 'the API serves what the worker stored');
      assert.equal(fromApi.subarray(0, 3).toString('hex'), 'ffd8ff');
      assert.equal((await fetch(`${server.url}/api/jobs/${job.id}`, { method: 'DELETE' })).status, 204);
      assert.deepEqual(await keys(), [], 'deleting the job removes its objects');
    } finally {
      client.destroy();
      await server.close();
      await redis.stop();
      for (const d of [samplesDir, dataDir]) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
