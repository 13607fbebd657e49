/**
 * `nst models fetch`: downloads from a local HTTP server started here (127.0.0.1, no internet):
 * success, resume after a dropped connection (in the same run and in the next run), a checksum
 * mismatch and a wrong-size file (nothing installed), a 404, a mirror, and a read-only model
 * directory; and the whole command end to end with a tiny Keras .h5.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { NstError } from '../src/errors';
import { download } from '../src/models/fetch';
import { KERAS_VGG19_NOTOP } from '../src/models/import-keras-h5';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { MODEL_METADATA_FILE, readModelMetadata } from '../src/models/model-registry';
import { writeKerasH5 } from './fixtures/models/fixtures';

const NST = path.join(PROJECT_ROOT, 'bin', 'nst.js');
const payload = crypto.randomBytes(300_000);
const payloadSha = crypto.createHash('sha256').update(payload).digest('hex');
let tinyH5: Buffer;
let tinySha: string;
let server: http.Server;
let base: string;
let dir: string;
const requests: { path: string; range?: string }[] = [];
/** Paths whose next full (non-range) request is cut after this many bytes. */
const dropNext = new Map<string, number>();
/** Paths where every response is cut after this many bytes. */
const dropAlways = new Map<string, number>();
let counter = 0;
const fresh = () => path.join(dir, `d${++counter}`);

function serve(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, p: string): void {
  const m = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
  let start = 0;
  if (m) {
    start = Number(m[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` });
      res.end();
      return;
    }
    res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
  } else {
    res.writeHead(200, { 'content-length': body.length });
  }
  const rest = body.subarray(start);
  const cut = dropAlways.get(p) ?? (!m ? dropNext.get(p) : undefined);
  if (cut !== undefined) {
    dropNext.delete(p);
    res.write(rest.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
    return;
  }
  res.end(rest);
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-models-fetch-'));
  fs.chmodSync(dir, 0o755);
  const h5 = path.join(dir, 'tiny.h5');
  await writeKerasH5(h5);
  tinyH5 = fs.readFileSync(h5);
  tinySha = crypto.createHash('sha256').update(tinyH5).digest('hex');
  server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://localhost').pathname;
    requests.push({ path: p, range: req.headers.range });
    if (p.endsWith('.h5')) {
      if (p.includes('missing')) {
        res.writeHead(404).end('not found');
        return;
      }
      serve(req, res, tinyH5, p);
    } else if (p.startsWith('/payload')) {
      serve(req, res, payload, p);
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs nst without blocking this process's event loop (the server lives here). */
function nst(args: string[], options: { env?: Record<string, string>; uid?: number; gid?: number } = {}) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [NST, ...args], {
      env: { ...process.env, NST_DEBUG: '', NST_MODEL_DIR: '', NST_MODEL_MIRROR: '', XDG_CACHE_HOME: path.join(dir, 'cache'), ...options.env },
      uid: options.uid,
      gid: options.gid,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function rejectsWith(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(fn, (err: unknown) => {
    assert.ok(err instanceof NstError, `expected an NstError, got ${String(err)}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
}

function assertEmptyOrMissing(target: string, allowed: string[] = []): void {
  const left = fs.existsSync(target) ? fs.readdirSync(target).filter((n) => !allowed.includes(n)) : [];
  assert.deepEqual(left, [], `left in ${target}`);
}

describe('download()', () => {
  test('downloads, reports progress, checks the SHA-256 and renames into place', async () => {
    const target = path.join(fresh(), 'weights.bin');
    const seen: number[] = [];
    const r = await download({ url: `${base}/payload/ok`, file: target, expected: { sha256: payloadSha, bytes: payload.length }, onProgress: (n) => seen.push(n) });
    assert.ok(fs.readFileSync(target).equals(payload));
    assert.equal(r.sha256, payloadSha);
    assert.equal(r.resumedFrom, 0);
    assert.equal(r.checked, 'size + SHA-256');
    assert.equal(seen[seen.length - 1], payload.length);
    assert.ok(!fs.existsSync(`${target}.part`));
  });

  test('a dropped connection is resumed with a Range request in the same run', async () => {
    const target = path.join(fresh(), 'weights.bin');
    dropNext.set('/payload/drop-once', 100_000);
    const logs: string[] = [];
    const before = requests.length;
    await download({ url: `${base}/payload/drop-once`, file: target, expected: { sha256: payloadSha }, onLog: (l) => logs.push(l) });
    assert.ok(fs.readFileSync(target).equals(payload));
    const mine = requests.slice(before);
    assert.equal(mine.length, 2);
    assert.equal(mine[0].range, undefined);
    assert.match(mine[1].range ?? '', /^bytes=\d+-$/);
    assert.match(logs.join('\n'), /connection dropped at \d+ of 300000 bytes .*resuming \(1\/3\)/);
  });

  test('an interrupted download keeps its .part and the next run resumes it', async () => {
    const target = path.join(fresh(), 'weights.bin');
    dropNext.set('/payload/next-run', 120_000);
    await rejectsWith(
      () => download({ url: `${base}/payload/next-run`, file: target, expected: { sha256: payloadSha }, retries: 0 }),
      /was interrupted at \d+ of 300000 bytes .*run the command again to resume/,
    );
    const partial = fs.statSync(`${target}.part`).size;
    assert.ok(partial > 0 && partial <= 120_000, `partial ${partial}`);
    assert.ok(!fs.existsSync(target));
    const before = requests.length;
    const r = await download({ url: `${base}/payload/next-run`, file: target, expected: { sha256: payloadSha }, retries: 0 });
    assert.equal(r.resumedFrom, partial);
    assert.equal(requests[before].range, `bytes=${partial}-`);
    assert.ok(fs.readFileSync(target).equals(payload));
    // A complete .part (the server answers 416 with the full size) is verified without downloading.
    fs.copyFileSync(target, `${target}2.part`);
    const again = await download({ url: `${base}/payload/next-run`, file: `${target}2`, expected: { sha256: payloadSha } });
    assert.equal(again.resumedFrom, payload.length);
  });

  test('a checksum mismatch deletes the download: nothing is installed', async () => {
    const folder = fresh();
    await rejectsWith(
      () => download({ url: `${base}/payload/bad-sum`, file: path.join(folder, 'weights.bin'), expected: { sha256: '0'.repeat(64) } }),
      /is not the expected one: its SHA-256 is [0-9a-f]{64}, the pinned one 0{64} .*nothing was installed/,
    );
    assertEmptyOrMissing(folder);
  });

  test('a 404 and a file of the wrong size are one-line errors', async () => {
    const folder = fresh();
    await rejectsWith(() => download({ url: `${base}/missing.h5`, file: path.join(folder, 'w.h5') }), /cannot download .*missing\.h5: HTTP 404 Not Found/);
    await rejectsWith(
      () => download({ url: `${base}/payload/short`, file: path.join(folder, 'w.bin'), expected: { bytes: payload.length + 1 } }),
      /serves 300000 bytes, the pinned file has 300001 .*nothing was installed/,
    );
    assertEmptyOrMissing(folder);
  });
});

describe('nst models fetch vgg19', () => {
  test('downloads, verifies and installs; the metadata records where from; a second fetch is a no-op', async () => {
    const modelDir = fresh();
    const url = `${base}/tiny.h5`;
    const r = await nst(['models', 'fetch', 'vgg19', '--url', url, '--sha256', tinySha, '--model-dir', modelDir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^installed vgg19 in .*vgg19 \(16 layers/m);
    assert.match(r.stderr, new RegExp(`downloaded ${url} .*checked: SHA-256; sha256 ${tinySha}`));
    const meta = readModelMetadata(path.join(modelDir, 'vgg19', MODEL_METADATA_FILE));
    assert.equal(meta.source.url, url);
    assert.equal(meta.source.sha256, tinySha);
    assert.equal(meta.source.pinned, 'SHA-256 (--sha256)');
    assert.equal(meta.preprocessing, 'caffe');
    assert.deepEqual(fs.readdirSync(modelDir), ['vgg19'], 'the download itself is not kept');
    const again = await nst(['models', 'fetch', 'vgg19', '--url', url, '--sha256', tinySha, '--model-dir', modelDir]);
    assert.equal(again.status, 0);
    assert.match(again.stdout, /vgg19 is already installed in .* \(--force to fetch it again\)/);
    const list = await nst(['models', 'list', '--model-dir', modelDir]);
    assert.match(list.stdout, new RegExp(`provenance: .*from ${url.replace(/[.]/g, '\\.')}`));
  });

  test('a mirror serving another file fails the pinned size before downloading: exit 2, nothing installed', async () => {
    const modelDir = fresh();
    const before = requests.length;
    const r = await nst(['models', 'fetch', 'vgg19', '--model-dir', modelDir], { env: { NST_MODEL_MIRROR: `${base}/mirror/` } });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(requests[before].path, `/mirror/${KERAS_VGG19_NOTOP.file}`);
    assert.match(r.stderr, new RegExp(`^nst: error: .*serves ${tinyH5.length} bytes, the pinned file has ${KERAS_VGG19_NOTOP.bytes} .*nothing was installed\\n$`));
    assertEmptyOrMissing(modelDir);
  });

  test('a checksum mismatch, a 404 and a truncated download: exit 2, one line, no model', async () => {
    const cases: [string[], RegExp, string[]][] = [
      [['--url', `${base}/tiny.h5`, '--sha256', 'f'.repeat(64)], /its SHA-256 is [0-9a-f]{64}, the pinned one f{64}.*nothing was installed/, []],
      [['--url', `${base}/missing.h5`], /HTTP 404 Not Found/, []],
      [['--url', `${base}/cut.h5`, '--sha256', tinySha, '--retries', '1'], /interrupted at \d+ of \d+ bytes .*run the command again to resume/, [`${KERAS_VGG19_NOTOP.file}.part`]],
    ];
    dropAlways.set('/cut.h5', 1000);
    for (const [args, pattern, allowed] of cases) {
      const modelDir = fresh();
      const r = await nst(['models', 'fetch', 'vgg19', ...args, '--model-dir', modelDir]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('nst: error:')).length, 1, r.stderr);
      assert.match(r.stderr, pattern);
      assertEmptyOrMissing(modelDir, allowed);
    }
    dropAlways.delete('/cut.h5');
    const bad = await nst(['models', 'fetch', 'vgg19', '--sha256', 'xyz', '--model-dir', fresh()]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--sha256 must be 64 hexadecimal digits/);
  });

  test('a read-only model directory is refused before downloading', async () => {
    const parent = path.join(dir, 'readonly');
    fs.mkdirSync(parent, { mode: 0o755 });
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) fs.chmodSync(parent, 0o555);
    const before = requests.length;
    try {
      const r = await nst(['models', 'fetch', 'vgg19', '--url', `${base}/tiny.h5`, '--model-dir', path.join(parent, 'models')], asRoot ? { uid: 65534, gid: 65534 } : {});
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^nst: error: cannot write to the model directory .*readonly\/models \(permission denied\)/);
      assert.equal(requests.length, before, 'nothing was requested');
    } finally {
      fs.chmodSync(parent, 0o755);
    }
  });
});
