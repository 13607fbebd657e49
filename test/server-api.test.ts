/**
 * The HTTP API with real requests against a server started by the test (127.0.0.1, a free port):
 * jobs of both methods end to end (multipart upload and sample ids, live events, result, report,
 * list, delete), cancel, and bad input — every refusal a 4xx with a one-line JSON message:
 * content-type sniffing, decompression bombs, size limits, unknown fields, path traversal, the
 * token, cross-origin requests, and refusing to bind beyond loopback without a token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { cpuHasBf16 } from '../src/engine';
import { resolveServeOptions } from '../src/server';
import type { RunningServer } from '../src/server';
import { CONTENT_PNG, jobForm, json, readEvents, startTestServer, STYLE_PNG, waitForJob } from './helpers/server';
import * as os from 'node:os';
import { attachment, downloadName } from '../src/server/routes/download-name';
import { fittedStyleName } from '../src/jobs/fitted-style-name';
import { writeStyleFile } from '../src/transfer/arbitrary';

/** Asserts a JSON error answer: status, one-line message matching `pattern`. */
async function expectError(res: Response, status: number, pattern: RegExp): Promise<void> {
  const body = await json(res);
  assert.equal(res.status, status, `status ${res.status}: ${JSON.stringify(body)}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(typeof body.error, 'string');
  assert.ok(!body.error.includes('\n'), 'one line');
  assert.match(body.error, pattern);
  assert.equal(body.statusCode, status);
}

/** A PNG whose header claims width×height (only a tiny IDAT follows): a decompression bomb's header. */
function pngClaiming(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

describe('HTTP API', () => {
  let server: RunningServer;
  let base: string;

  before(async () => {
    server = await startTestServer({ maxUploadBytes: 300 * 1024, maxSize: 256, maxIterations: 400 });
    base = server.url;
  });
  after(async () => {
    await server?.close();
    if (server) fs.rmSync((server as any).dataDir, { recursive: true, force: true });
  });

  test('health, options, samples, styles and the OpenAPI document', async () => {
    const health = await json(await fetch(`${base}/api/health`));
    assert.equal(health.ok, true);
    const spec = await json(await fetch(`${base}/api/openapi.json`));
    assert.equal(spec.openapi, '3.0.3');
    for (const p of ['/api/jobs', '/api/jobs/{id}', '/api/jobs/{id}/events', '/api/jobs/{id}/result', '/api/jobs/{id}/report', '/api/jobs/{id}/cancel']) {
      assert.ok(spec.paths[p], `documented: ${p}`);
    }
    const options = await json(await fetch(`${base}/api/options`));
    assert.deepEqual(options.qualities.map((q: any) => q.name), ['draft', 'standard', 'high']);
    assert.ok(options.presets.some((p: any) => p.name === 'gatys' && p.description));
    assert.equal(options.defaultPreset, 'gatys');
    assert.equal(options.limits.maxSize, 256);
    const { samples } = await json(await fetch(`${base}/api/samples`));
    assert.deepEqual(samples.map((s: any) => s.id), ['content/tiny_photo.png', 'style/tiny_painting.png']);
    const thumb = await fetch(`${base}${samples[0].url}?size=32`);
    assert.equal(thumb.headers.get('content-type'), 'image/jpeg');
    assert.equal((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).width, 32);
    const { styles } = await json(await fetch(`${base}/api/styles`));
    assert.ok(styles.some((s: any) => s.name === 'wave' && s.kind === 'pretrained'));
    const weights = Buffer.from(await (await fetch(`${base}/api/styles/wave/weights`)).arrayBuffer());
    const headerLen = Number(weights.readBigUInt64LE(0));
    const header = JSON.parse(weights.subarray(8, 8 + headerLen).toString('utf8'));
    assert.deepEqual(header['conv_in.weight'].shape, [9, 9, 3, 32]);
    assert.equal(JSON.parse(header.__metadata__.nst).architecture.variant, 'johnson-ml5');
    // The page is served, with a content security policy.
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal((await fetch(`${base}/vendor/tf.min.js`)).status, 200);
  });

  test('an optimisation job from uploads: live events, preview, result, report, list, delete', async () => {
    const res = await fetch(`${base}/api/jobs`, {
      method: 'POST',
      body: jobForm({ size: 48, iterations: 10, previewEvery: 3, preserveColors: true, format: 'png', preset: 'high-level' }, { content: CONTENT_PNG, style: STYLE_PNG }),
    });
    const job = await json(res);
    assert.equal(res.status, 201, JSON.stringify(job));
    assert.equal(res.headers.get('location'), `/api/jobs/${job.id}`);
    assert.match(job.id, /^[0-9a-f]{16}$/);
    assert.equal(job.method, 'stylize');
    assert.deepEqual([job.inputs.content.width, job.inputs.content.height, job.inputs.content.format], [128, 96, 'png']);
    assert.equal(job.params.styleWeight, 100);
    assert.deepEqual([job.params.preset, job.params.quality, job.params.preserveColors], ['high-level', 'standard', 'luminance']);

    const events = await readEvents(`${base}/api/jobs/${job.id}/events`);
    const names = events.map((e) => e.event);
    assert.equal(names[0], 'snapshot');
    assert.equal(names[names.length - 1], 'end');
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data);
    assert.ok(progress.length >= 1, names.join(','));
    const last = progress[progress.length - 1];
    assert.equal(last.iteration, 10);
    assert.equal(last.iterations, 10);
    for (const key of ['content', 'style', 'tv', 'total']) assert.equal(typeof last.losses[key], 'number');
    assert.equal(typeof last.etaSeconds, 'number');
    const previews = events.filter((e) => e.event === 'preview').map((e) => e.data.iteration);
    assert.deepEqual(previews.filter((i) => i % 3 === 0).slice(0, 1), [3], `previews at ${previews}`);
    const end = events[events.length - 1].data.job;
    assert.equal(end.status, 'succeeded');

    const preview = await fetch(`${base}/api/jobs/${job.id}/preview`);
    assert.equal(preview.headers.get('content-type'), 'image/jpeg');
    const result = await fetch(`${base}/api/jobs/${job.id}/result`);
    assert.equal(result.headers.get('content-type'), 'image/png');
    const meta = await sharp(Buffer.from(await result.arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [48, 36]);
    const report = await json(await fetch(`${base}/api/jobs/${job.id}/report`));
    assert.equal(report.status, 'succeeded');
    assert.equal(report.result.iterations, 10);
    assert.equal(report.lossHistory.rows.length, 10);
    assert.equal(typeof report.result.details.seed, 'number');
    assert.equal(report.result.details.precision, cpuHasBf16() ? 'bf16' : 'fp32', "the server's default precision, auto");
    const input = await fetch(`${base}/api/jobs/${job.id}/inputs/style`);
    assert.deepEqual(Buffer.from(await input.arrayBuffer()), fs.readFileSync(STYLE_PNG));

    const list = await json(await fetch(`${base}/api/jobs?status=succeeded&method=stylize`));
    assert.ok(list.jobs.some((j: any) => j.id === job.id));
    // The stream of a finished job gives its snapshot and its end at once.
    assert.deepEqual((await readEvents(`${base}/api/jobs/${job.id}/events`)).map((e) => e.event), ['snapshot', 'end']);

    const del = await fetch(`${base}/api/jobs/${job.id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    await expectError(await fetch(`${base}/api/jobs/${job.id}`), 404, /no such job/);
    await expectError(await fetch(`${base}/api/jobs/${job.id}/result`), 404, /no such job/);
    assert.equal(fs.existsSync(path.join((server as any).dataDir, 'jobs', job.id)), false, 'files removed');
  });

  test('a fast job from a sample id (JSON), with strength and colour preservation', async () => {
    const res = await fetch(`${base}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ method: 'fast', contentSample: 'content/tiny_photo.png', fastStyle: 'wave', size: 64, strength: 0.5, preserveColors: true }),
    });
    const created = await json(res);
    assert.equal(res.status, 201, JSON.stringify(created));
    assert.equal(created.inputs.content.source, 'sample');
    const job = await waitForJob(base, created.id, (j) => j.status !== 'queued' && j.status !== 'running');
    assert.equal(job.status, 'succeeded', job.error);
    assert.deepEqual([job.result.width, job.result.height], [64, 48]);
    assert.equal(job.result.details.style, 'wave');
    const result = await fetch(`${base}/api/jobs/${job.id}/result?download`);
    // Named photo × painting, in words.
    assert.equal(result.headers.get('content-disposition'), 'attachment; filename="tiny-photo-x-wave.jpg"');
  });

  test('cancel: a running job stops after its current iteration and keeps its image; a queued one is cancelled at once', async () => {
    const make = async () =>
      json(await fetch(`${base}/api/jobs`, { method: 'POST', body: jobForm({ size: 48, iterations: 400, previewEvery: 50, contentSample: 'content/tiny_photo.png', preserveColors: 'histogram', quality: 'draft' }, { style: STYLE_PNG }) }));
    const running = await make();
    const queued = await make();
    assert.equal(queued.status, 'queued');
    await waitForJob(base, running.id, (j) => (j.progress?.iteration ?? 0) >= 2);
    const q = await fetch(`${base}/api/jobs/${queued.id}/cancel`, { method: 'POST' });
    assert.equal(q.status, 202);
    assert.equal((await json(q)).status, 'cancelled');
    const r = await fetch(`${base}/api/jobs/${running.id}/cancel`, { method: 'POST' });
    assert.equal(r.status, 202);
    const done = await waitForJob(base, running.id, (j) => j.status !== 'running');
    assert.equal(done.status, 'cancelled');
    assert.equal(done.result.partial, true);
    assert.ok(done.result.iterations >= 2 && done.result.iterations < 400, `stopped at ${done.result.iterations}`);
    assert.equal((await fetch(`${base}/api/jobs/${running.id}/result`)).status, 200);
    await expectError(await fetch(`${base}/api/jobs/${running.id}/cancel`, { method: 'POST' }), 409, /already finished/);
  });

  test('uploads are checked by content, pixels and size', async () => {
    const post = (files: Record<string, any>, fields: Record<string, any> = { method: 'fast', fastStyle: 'wave' }) =>
      fetch(`${base}/api/jobs`, { method: 'POST', body: jobForm(fields, files) });
    // A text file named .png with an image type is not an image.
    // Messages name the input as a painter does: the photo, the painting.
    await expectError(await post({ content: { name: 'photo.png', bytes: Buffer.from('not an image at all, just text'), type: 'image/png' } }), 415, /^the photo file is not a supported image \(/);
    // An SVG/HTML payload is refused too.
    await expectError(await post({ content: { name: 'x.jpg', bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), type: 'image/jpeg' } }), 415, /not a supported image/);
    // A real PNG named .txt with a text type is accepted: the bytes decide.
    const ok = await post({ content: { name: 'photo.txt', bytes: fs.readFileSync(CONTENT_PNG), type: 'text/plain' } }, { method: 'fast', fastStyle: 'wave', size: 32 });
    assert.equal(ok.status, 201);
    // Truncated.
    const png = fs.readFileSync(CONTENT_PNG);
    await expectError(await post({ content: { name: 'cut.png', bytes: png.subarray(0, Math.floor(png.length / 2)), type: 'image/png' } }), 400, /truncated or corrupt/);
    // A decompression bomb: a 100000×100000 header is refused before decoding.
    await expectError(await post({ content: { name: 'bomb.png', bytes: pngClaiming(100_000, 100_000), type: 'image/png' } }), 413, /100000x100000.*over the server's limit/);
    // Over the upload size limit (300 KiB in this test).
    await expectError(await post({ content: { name: 'big.png', bytes: Buffer.alloc(400 * 1024, 1), type: 'image/png' } }), 413, /larger than the server accepts/);
    // Empty.
    await expectError(await post({ content: { name: 'empty.png', bytes: Buffer.alloc(0), type: 'image/png' } }), 400, /^the photo is empty$/);
    await expectError(await post({ content: CONTENT_PNG, style: { name: 'empty.png', bytes: Buffer.alloc(0), type: 'image/png' } }, { method: 'stylize', size: 32 }), 400, /^the painting is empty$/);
    // Too many files, an unknown file field, a file twice.
    await expectError(await post({ content: CONTENT_PNG, style: STYLE_PNG, extra: STYLE_PNG }), 413, /too many files/);
    await expectError(await post({ photo: CONTENT_PNG }), 400, /unknown file field 'photo'/);
    await expectError(await post({ style: STYLE_PNG }), 400, /takes no style image/);
  });

  test('fields are validated: unknown, out of range, missing, conflicting; query parameters too', async () => {
    const postJson = (body: unknown) => fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const sample = { contentSample: 'content/tiny_photo.png', styleSample: 'style/tiny_painting.png' };
    await expectError(await postJson({ ...sample, colour: 'blue' }), 400, /unknown field 'colour'/);
    await expectError(await postJson({ ...sample, fastStyle: 'wave' }), 400, /unknown field 'fastStyle' for method 'stylize'/);
    await expectError(await postJson({ method: 'fast', fastStyle: 'wave', ...sample }), 400, /unknown field 'styleSample' for method 'fast'/);
    await expectError(await postJson({ ...sample, size: 4096 }), 400, /'size' must be at most 256/);
    await expectError(await postJson({ ...sample, size: 8 }), 400, /'size' must be at least 32/);
    await expectError(await postJson({ ...sample, iterations: 2.5 }), 400, /'iterations' must be an integer/);
    await expectError(await postJson({ ...sample, iterations: 100000 }), 400, /at most 400/);
    await expectError(await postJson({ ...sample, styleWeight: -1 }), 400, /'styleWeight' must be at least 0/);
    await expectError(await postJson({ ...sample, optimizer: 'sgd' }), 400, /'optimizer' must be one of lbfgs, adam/);
    await expectError(await postJson({ ...sample, lbfgsHistory: 0 }), 400, /'lbfgsHistory' must be at least 1/);
    await expectError(await postJson({ ...sample, preserveColors: 'maybe' }), 400, /'preserveColors' must be true, false or one of none, luminance, histogram/);
    await expectError(await postJson({ method: 'fast', fastStyle: 'wave', contentSample: 'content/tiny_photo.png', preserveColors: 'histogram' }), 400, /one of none, luminance \(got "histogram"\)/);
    await expectError(await postJson({ ...sample, preset: 'monet' }), 400, /'preset' must be one of gatys/);
    await expectError(await postJson({ ...sample, quality: 'ultra' }), 400, /'quality' must be one of draft, standard, high/);
    await expectError(await postJson({ ...sample, method: 'magic' }), 400, /'method' must be one of stylize, fast/);
    await expectError(await postJson({ ...sample, size: { $gt: 1 } }), 400, /must be a string, a number or a boolean/);
    await expectError(await postJson({ contentSample: 'content/tiny_photo.png' }), 400, /a style image is required/);
    await expectError(await postJson({ styleSample: 'style/tiny_painting.png' }), 400, /^a photo is required: upload it as the 'content' file or name a sample with 'contentSample'$/);
    await expectError(await postJson({ ...sample, contentSample: '../../../etc/passwd' }), 400, /unknown sample/);
    await expectError(await postJson({ method: 'fast', contentSample: 'content/tiny_photo.png', fastStyle: 'monet' }), 400, /unknown fast style 'monet' \(available: .*wave/);
    await expectError(await postJson({ method: 'fast', contentSample: 'content/tiny_photo.png' }), 400, /needs 'fastStyle'/);
    await expectError(await postJson([1, 2]), 400, /must be an object/);
    await expectError(await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"size": ' }), 400, /JSON/i);
    await expectError(await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'hello' }), 415, /unsupported content type/);
    await expectError(
      await fetch(`${base}/api/jobs`, { method: 'POST', body: jobForm({ ...sample, size: 64 }, { content: CONTENT_PNG }) }),
      400,
      /^give either a photo as the 'content' file or contentSample, not both$/,
    );
    await expectError(await fetch(`${base}/api/jobs`, { method: 'POST', body: jobForm({ size: '64', ...sample, extra: 'x' }) }), 400, /unknown field 'extra'/);
    await expectError(await fetch(`${base}/api/jobs?limit=100000`), 400, /'limit' must be at most 200/);
    await expectError(await fetch(`${base}/api/jobs?sort=name`), 400, /unknown field 'sort' in the query/);
    await expectError(await fetch(`${base}/api/jobs?status=done`), 400, /'status' must be one of/);
  });

  test('no path traversal: files are served by job id only; unknown routes are JSON 404s', async () => {
    for (const url of [
      '/api/jobs/..%2F..%2F..%2Fetc%2Fpasswd/result',
      '/api/jobs/../../package.json',
      '/api/jobs/0123456789abcdef/result',
      '/api/jobs/0123456789ABCDEF',
      '/api/jobs/0123456789abcdef/inputs/..%2Fjobs.db',
      '/api/samples/content/..%2F..%2F..%2Fpackage.json',
      '/api/samples/..%2Fmodels/x.jpg',
      '/api/styles/..%2F..%2Fvgg19/weights',
      '/vendor/..%2F..%2Fpackage.json',
      '/..%2F..%2Fpackage.json',
      '/jobs.db',
      '/nope',
    ]) {
      const res = await fetch(`${base}${url}`);
      assert.ok(res.status === 404 || res.status === 400, `${url}: ${res.status}`);
      const body = await json(res);
      assert.equal(typeof body.error, 'string', url);
    }
  });

  test('cross-origin writes and foreign Host headers are refused', async () => {
    const body = JSON.stringify({ method: 'fast', contentSample: 'content/tiny_photo.png', fastStyle: 'wave', size: 32 });
    await expectError(
      await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example' }, body }),
      403,
      /cross-origin/,
    );
    const sameOrigin = await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: base }, body });
    assert.equal(sameOrigin.status, 201);
    // DNS rebinding: a request addressed to another name.
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.get(`${base}/api/health`, { headers: { Host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
    });
    assert.equal(status, 403);
  });
});

describe('HTTP API with a token', () => {
  let server: RunningServer;
  const token = 'test-token-0123456789';
  before(async () => {
    server = await startTestServer({ token });
  });
  after(async () => {
    await server?.close();
    if (server) fs.rmSync((server as any).dataDir, { recursive: true, force: true });
  });

  test('every request needs the bearer token (or the cookie the page gets with ?token=)', async () => {
    const base = server.url;
    await expectError(await fetch(`${base}/api/health`), 401, /needs a token/);
    await expectError(await fetch(`${base}/`), 401, /needs a token/);
    await expectError(await fetch(`${base}/api/jobs`, { headers: { Authorization: 'Bearer wrong-token-xxxx' } }), 401, /invalid bearer token/);
    const res = await fetch(`${base}/api/jobs`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const page = await fetch(`${base}/?token=${token}`);
    assert.equal(page.status, 200);
    const cookie = page.headers.get('set-cookie') ?? '';
    assert.match(cookie, /nst_token=.*HttpOnly; SameSite=Strict/);
    const withCookie = await fetch(`${base}/api/health`, { headers: { Cookie: cookie.split(';')[0] } });
    assert.equal(withCookie.status, 200);
  });
});

describe('serve options', () => {
  test('listening beyond loopback needs --token or --insecure', () => {
    assert.throws(() => resolveServeOptions({ host: '0.0.0.0', dataDir: '/tmp/x' }), /--token <secret>.*--insecure/);
    assert.equal(resolveServeOptions({ host: '0.0.0.0', token: 'long-enough-token', dataDir: '/tmp/x' }).host, '0.0.0.0');
    assert.equal(resolveServeOptions({ host: '0.0.0.0', insecure: true, dataDir: '/tmp/x' }).insecure, true);
    assert.equal(resolveServeOptions({ dataDir: '/tmp/x' }).host, '127.0.0.1');
    assert.equal(resolveServeOptions({ dataDir: '/tmp/x' }).port, 8080);
    assert.throws(() => resolveServeOptions({ token: 'short' }), /at least 8 characters/);
    assert.throws(() => resolveServeOptions({ workers: 0 }), /--workers must be a positive integer/);
  });
});

describe('names in words: downloads and fitted styles', () => {
  test('a download is named photo × painting, ASCII, from the inputs or the quick style', () => {
    const job = (inputs: Record<string, { name: string }>, params: Record<string, unknown> = {}) => ({ method: 'stylize', inputs, params }) as any;
    assert.equal(downloadName(job({ content: { name: 'content/Tübingen.JPG' }, style: { name: 'style/starry_night.jpg' } }), '.jpg'), 'tubingen-x-starry-night.jpg');
    assert.equal(downloadName(job({ content: { name: 'IMG 2041 (1).heic.png' } }, { fastStyle: 'wave' }), '.png'), 'img-2041-1-heic-x-wave.png');
    assert.equal(downloadName(job({ content: { name: '写真.png' } }, { fastStyle: 'feathers-2' }), '.webp'), 'photo-x-feathers-2.webp');
    assert.equal(attachment('a-x-b.jpg'), 'attachment; filename="a-x-b.jpg"');
  });

  test("a fitted painting is named after its file; a name taken by a network or another painting gets a number; the same painting keeps its name", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-names-'));
    try {
      const fitted = async (name: string, sha256: string) => {
        const file = path.join(dir, `${name}.style.json`);
        await writeStyleFile(file, { name, model: 'magenta-transformer-separable', vector: Array(100).fill(0), painting: { file: `${name}.jpg`, sha256, width: 1, height: 1, thumbnail: '' }, settings: {}, created: new Date().toISOString() });
        return { name, kind: 'fitted' as const, path: file, description: '' };
      };
      const styles = [{ name: 'wave', kind: 'pretrained' as const, path: dir, description: '' }, await fitted('feathers', 'a'.repeat(64))];
      assert.equal(fittedStyleName('Feathers.JPG', 'a'.repeat(64), styles), 'feathers', 'the same painting');
      assert.equal(fittedStyleName('feathers.png', 'b'.repeat(64), styles), 'feathers-2', 'another painting of that name');
      assert.equal(fittedStyleName('wave.jpg', 'c'.repeat(64), styles), 'wave-2', "a network's name");
      assert.equal(fittedStyleName('La Vague — Hokusai.jpg', 'c'.repeat(64), styles), 'la-vague-hokusai');
      assert.equal(fittedStyleName('???.jpg', 'c'.repeat(64), styles), 'painting');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
