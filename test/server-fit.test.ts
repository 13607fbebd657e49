/**
 * "Any painting" on the server, with real HTTP requests: a painting uploaded as a fit job shows
 * its loss evaluations as progress and ends as a named style in GET /api/styles, which a fast job
 * then paints with; the same painting again is not fitted again (cache by hash); a fast job with
 * an uploaded painting fits it on the fly and reports that fit; the styles outlive a restart; the
 * transformer's graph model is served for the page; bad input is a 4xx with one line. The fits are
 * short (one stage, 4 evaluations at 64 px, two training photos).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { RunningServer } from '../src/server';
import { makeFitModelDir, makeFitPhotosDir, SHORT_FIT } from './helpers/fit-models';
import { jobForm, json, readEvents, startTestServer, STYLE_PNG, tempDir, waitForJob } from './helpers/server';

async function expectError(res: Response, status: number, pattern: RegExp): Promise<void> {
  const body = await json(res);
  assert.equal(res.status, status, `status ${res.status}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error, 'string');
  assert.ok(!body.error.includes('\n'), 'one line');
  assert.match(body.error, pattern);
}

const finished = (j: any) => j.status !== 'queued' && j.status !== 'running';

describe('fitting uploaded paintings (HTTP)', () => {
  let server: RunningServer & { dataDir: string };
  let modelDir: string;
  let photos: string;
  let dataDir: string;
  const serverOptions = () => ({ modelDir, dataDir, fitPhotos: photos, ...SHORT_FIT });

  before(async () => {
    modelDir = makeFitModelDir();
    photos = makeFitPhotosDir();
    dataDir = tempDir('nst-fit-data-');
    server = await startTestServer(serverOptions());
  });

  after(async () => {
    await server?.close();
    for (const d of [modelDir, photos, dataDir]) fs.rmSync(d, { recursive: true, force: true });
  });

  test('upload a painting: the fit job progresses to success, the style is listed, a fast job paints with it', async () => {
    const created = await fetch(`${server.url}/api/jobs`, { method: 'POST', body: jobForm({ method: 'fit', styleName: 'tiny-painting' }, { style: STYLE_PNG }) });
    assert.equal(created.status, 201);
    const job = await json(created);
    const events = await readEvents(`${server.url}/api/jobs/${job.id}/events`);
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data);
    assert.ok(progress.length >= 2, `progress events: ${progress.length}`);
    for (const p of progress) {
      assert.equal(p.phase, 'fitting');
      assert.equal(p.iterations, 4);
      assert.ok(p.iteration >= 1 && p.iteration <= 4);
      assert.ok(Number.isFinite(p.losses.total) && p.losses.total > 0);
    }
    assert.equal(progress.at(-1).iteration, 4);
    const end = events.at(-1)!;
    assert.equal(end.event, 'end');
    assert.equal(end.data.job.status, 'succeeded', end.data.job.error);
    assert.equal(end.data.job.result.details.style, 'tiny-painting');
    assert.equal(end.data.job.result.details.cached, false);
    assert.equal(end.data.job.result.details.evaluations, 4);

    const { styles, arbitraryModel } = await json(await fetch(`${server.url}/api/styles`));
    const listed = styles.find((s: any) => s.name === 'tiny-painting');
    assert.equal(listed?.kind, 'fitted');
    assert.equal(listed.vector, '/api/styles/tiny-painting/vector');
    assert.equal(arbitraryModel, '/api/models/arbitrary/model.json');
    const vector = await json(await fetch(`${server.url}${listed.vector}`));
    assert.equal(vector.vector.length, 100);
    assert.equal(vector.painting.file, 'style.png', 'the uploaded file name');
    await expectError(await fetch(`${server.url}/api/styles/tiny-painting/weights`), 404, /fitted style/);

    const fast = await json(
      await fetch(`${server.url}/api/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ method: 'fast', fastStyle: 'tiny-painting', contentSample: 'content/tiny_photo.png', size: 64, format: 'png' }),
      }),
    );
    const painted = await waitForJob(server.url, fast.id, finished);
    assert.equal(painted.status, 'succeeded', painted.error);
    assert.equal(painted.result.details.model, 'fitted-vector');
    // Fitted styles are finished as `nst fast` finishes them (paint scale, palette), recorded with the job.
    // (The style's own finish, chosen by its fit: a 4-evaluation vector paints a close-up as a flat page.)
    assert.deepEqual([painted.params.paintScale, painted.params.paletteMatch], [1.5, 0.5]);
    assert.deepEqual(painted.result.details.finish, { paintScale: 1.5, paletteMatch: 0.5 });
    const meta = await sharp(Buffer.from(await (await fetch(`${server.url}/api/jobs/${fast.id}/result`)).arrayBuffer())).metadata();
    assert.equal(Math.max(meta.width!, meta.height!), 64);
    // The page gets the same finish with the vector, and the palette the server matches.
    const { finish } = await json(await fetch(`${server.url}/api/styles/tiny-painting/vector`));
    assert.deepEqual([finish.paintScale, finish.paletteMatch, finish.palette.mean.length, finish.palette.cov.length], [1.5, 0.5, 3, 3]);
    assert.ok(finish.palette.mean[0] > 0 && finish.palette.mean[0] < 1, `OkLAB lightness ${finish.palette.mean[0]}`);
    // Keeping the photo's colours would undo the palette: not matched then (as `nst fast`).
    const kept = await json(
      await fetch(`${server.url}/api/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ method: 'fast', fastStyle: 'tiny-painting', contentSample: 'content/tiny_photo.png', size: 64, preserveColors: 'luminance', paletteMatch: 0.8 }),
      }),
    );
    assert.deepEqual([kept.params.paintScale, kept.params.paletteMatch], [1.5, 0]);
    assert.equal((await waitForJob(server.url, kept.id, finished)).status, 'succeeded');
  });

  test('the same painting again is not fitted again (cache by its hash), under another name too', async () => {
    const job = await json(await fetch(`${server.url}/api/jobs`, { method: 'POST', body: jobForm({ method: 'fit', styleName: 'tiny-again' }, { style: STYLE_PNG }) }));
    const done = await waitForJob(server.url, job.id, finished);
    assert.equal(done.status, 'succeeded', done.error);
    assert.equal(done.result.details.cached, true);
    assert.equal(done.result.details.evaluations, 0);
    const a = await json(await fetch(`${server.url}/api/styles/tiny-painting/vector`));
    const b = await json(await fetch(`${server.url}/api/styles/tiny-again/vector`));
    assert.deepEqual(a.vector, b.vector);
  });

  test('a fast job with an uploaded painting fits it on the fly and reports the fit as progress', async () => {
    // Another painting (the same one mirrored), so that nothing is cached yet.
    const mirrored = await sharp(STYLE_PNG).flop().png().toBuffer();
    const form = jobForm({ method: 'fast', contentSample: 'content/tiny_photo.png', size: 64 }, { style: { name: 'mirrored.png', bytes: mirrored, type: 'image/png' } });
    const job = await json(await fetch(`${server.url}/api/jobs`, { method: 'POST', body: form }));
    const events = await readEvents(`${server.url}/api/jobs/${job.id}/events`);
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data);
    const fitting = progress.filter((p) => p.phase === 'fitting');
    assert.ok(fitting.length >= 2, `fit progress events: ${fitting.length}`);
    assert.ok(fitting.every((p) => p.iterations === 4 && p.losses.total > 0));
    assert.equal(progress.at(-1).phase, 'painting');
    assert.equal(events.at(-1)!.data.job.status, 'succeeded', events.at(-1)!.data.job.error);
  });

  test('the graph model is served for the page: model.json and the weight files it names, nothing else', async () => {
    const model = await fetch(`${server.url}/api/models/arbitrary/model.json`);
    assert.equal(model.status, 200);
    const paths = (await json(model)).weightsManifest.flatMap((g: any) => g.paths);
    assert.deepEqual(paths, ['group1-shard1of1']);
    const shard = await fetch(`${server.url}/api/models/arbitrary/group1-shard1of1`);
    assert.equal(shard.status, 200);
    assert.equal((await shard.arrayBuffer()).byteLength, 2_277_720);
    await expectError(await fetch(`${server.url}/api/models/arbitrary/LICENSE`), 404, /no such model file/);
    await expectError(await fetch(`${server.url}/api/models/arbitrary/..%2F..%2Fvgg19%2Fmodel.json`), 404, /no such model file/);
  });

  test('bad input: not an image, a name of a network, a bad name, a name taken by another painting', async () => {
    const text = { name: 'painting.png', bytes: Buffer.from('this is not an image\n'), type: 'image/png' };
    await expectError(await fetch(`${server.url}/api/jobs`, { method: 'POST', body: jobForm({ method: 'fit' }, { style: text }) }), 415, /not a supported image/);
    await expectError(await fetch(`${server.url}/api/jobs`, { method: 'POST', body: jobForm({ method: 'fit', styleName: 'wave' }, { style: STYLE_PNG }) }), 400, /belongs to a pretrained style network/);
    await expectError(await fetch(`${server.url}/api/jobs`, { method: 'POST', body: jobForm({ method: 'fit', styleName: '../x' }, { style: STYLE_PNG }) }), 400, /styleName/);
    await expectError(await fetch(`${server.url}/api/jobs`, { method: 'POST', body: jobForm({ method: 'fit' }) }), 400, /style image is required/);
    // The finish's fields: in range, and for fitted styles only (the networks paint as they always did).
    const fastJob = (fields: Record<string, string | number>) => fetch(`${server.url}/api/jobs`, { method: 'POST', body: jobForm({ method: 'fast', contentSample: 'content/tiny_photo.png', size: 64, ...fields }) });
    await expectError(await fastJob({ fastStyle: 'tiny-painting', paintScale: 0 }), 400, /'paintScale' must be greater than 0/);
    await expectError(await fastJob({ fastStyle: 'tiny-painting', paintScale: 5 }), 400, /'paintScale' must be at most 4/);
    await expectError(await fastJob({ fastStyle: 'tiny-painting', paintScale: 'big' }), 400, /'paintScale' must be a number/);
    await expectError(await fastJob({ fastStyle: 'tiny-painting', paletteMatch: 1.5 }), 400, /'paletteMatch' must be at most 1/);
    await expectError(await fastJob({ fastStyle: 'tiny-painting', paletteMatch: -0.1 }), 400, /'paletteMatch' must be at least 0/);
    await expectError(await fastJob({ fastStyle: 'wave', paintScale: 1.5 }), 400, /paintScale and paletteMatch work with fitted styles \('wave' is a style network\)/);
    await expectError(await fastJob({ fastStyle: 'wave', paletteMatch: 0 }), 400, /work with fitted styles/);
    const other = await sharp(STYLE_PNG).flip().png().toBuffer();
    const job = await json(await fetch(`${server.url}/api/jobs`, { method: 'POST', body: jobForm({ method: 'fit', styleName: 'tiny-painting' }, { style: { name: 'other.png', bytes: other, type: 'image/png' } }) }));
    const done = await waitForJob(server.url, job.id, finished);
    assert.equal(done.status, 'failed');
    assert.match(done.error, /a style named 'tiny-painting' exists already \(fitted to style\.png\)/);
  });

  test('a model folder that cannot be written: the fit fails at once, in one line, and fits nothing', async () => {
    // A file where the cache folder belongs (chmod would not stop root).
    const blocked = makeFitModelDir();
    fs.writeFileSync(path.join(blocked, 'style-cache'), 'not a folder\n');
    const other = await startTestServer({ modelDir: blocked, fitPhotos: photos, ...SHORT_FIT });
    try {
      const job = await json(await fetch(`${other.url}/api/jobs`, { method: 'POST', body: jobForm({ method: 'fit' }, { style: STYLE_PNG }) }));
      const done = await waitForJob(other.url, job.id, finished);
      assert.equal(done.status, 'failed');
      assert.match(done.error, /^cannot save fitted styles: \S+style-cache cannot be written \(choose a writable model folder: --model-dir or \$NST_MODEL_DIR\)$/);
      assert.equal(done.progress, null, 'no evaluation ran');
    } finally {
      await other.close();
      for (const d of [other.dataDir, blocked]) fs.rmSync(d, { recursive: true, force: true });
    }
  });

  test('after a restart the fitted styles are still listed and paint', async () => {
    await server.close();
    server = await startTestServer(serverOptions());
    const { styles } = await json(await fetch(`${server.url}/api/styles`));
    assert.ok(styles.some((s: any) => s.name === 'tiny-painting' && s.kind === 'fitted'));
    const { jobs } = await json(await fetch(`${server.url}/api/jobs?method=fit&status=succeeded`));
    assert.ok(jobs.some((j: any) => j.result?.details.style === 'tiny-painting'));
    const fast = await json(
      await fetch(`${server.url}/api/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ method: 'fast', fastStyle: 'tiny-painting', contentSample: 'content/tiny_photo.png', size: 64 }),
      }),
    );
    assert.equal((await waitForJob(server.url, fast.id, finished)).status, 'succeeded');
    assert.ok(fs.existsSync(path.join(modelDir, 'fast-style', 'tiny-painting.style.json')));
  });
});
