/**
 * Faults of the server that a trial run found, each with real requests against a real server:
 * a full disk (a small tmpfs mounted by the test) during a job and at job creation, uploads cut
 * at their limit (an endless chunked upload; memory of 16 concurrent uploads), malformed
 * multipart and out-of-range query values, the token kept out of logs and `ps`, `Origin: null`
 * writes, and a JSON body with "__proto__".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { RunningServer } from '../src/server';
import { MODELS_DIR } from './helpers/reference';
import { CONTENT_PNG, fillFileSystem, json, killAndWait, makeSamplesDir, spawnServer, startTestServer, tempDir, waitForJob } from './helpers/server';

/** Asserts a JSON error answer: status, one-line message matching `pattern`. */
async function expectError(res: Response, status: number, pattern: RegExp): Promise<void> {
  const body = await json(res);
  assert.equal(res.status, status, `status ${res.status}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error, 'string');
  assert.ok(!body.error.includes('\n'), 'one line');
  assert.match(body.error, pattern);
}

const BOUNDARY = 'nst-test-boundary-7d2f';

function partHeader(field: string, filename: string): Buffer {
  return Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: image/png\r\n\r\n`);
}

interface UploadOutcome {
  status: number | null;
  body: string;
  /** Bytes of the body the client got onto the wire before the server closed the connection. */
  sent: number;
  closedByServer: boolean;
}

/**
 * POSTs a chunked multipart body: each of `files` is `bytesPerFile` bytes (Infinity: endless),
 * written with back-pressure, until the body ends, the server closes the connection, or `cap`
 * bytes were written.
 */
function streamUpload(base: string, files: string[], bytesPerFile: number, cap = 64 * 1024 * 1024): Promise<UploadOutcome> {
  const chunk = Buffer.alloc(64 * 1024, 7);
  chunk.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Promise((resolve) => {
    const out: UploadOutcome = { status: null, body: '', sent: 0, closedByServer: false };
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve(out);
    };
    const req = http.request(`${base}/api/jobs`, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` } });
    req.on('response', (res) => {
      out.status = res.statusCode ?? null;
      res.setEncoding('utf8');
      res.on('data', (d) => (out.body += d));
    });
    req.on('error', () => {
      out.closedByServer = true;
      finish();
    });
    req.on('close', () => {
      out.closedByServer = out.closedByServer || !req.writableFinished;
      setTimeout(finish, 200);
    });
    let file = 0;
    let inFile = -1; // bytes written of the current file; -1: its header is next
    const pump = () => {
      while (!req.destroyed && !done) {
        if (out.sent >= cap) return finish();
        let piece: Buffer;
        if (file >= files.length) {
          req.end(Buffer.from(`--${BOUNDARY}--\r\n`));
          return;
        } else if (inFile < 0) {
          piece = partHeader(files[file], `${files[file]}.png`);
          inFile = 0;
        } else if (inFile >= bytesPerFile) {
          piece = Buffer.from('\r\n');
          file++;
          inFile = -1;
        } else {
          piece = inFile + chunk.length > bytesPerFile ? chunk.subarray(0, bytesPerFile - inFile) : chunk;
          inFile += piece.length;
        }
        out.sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
    };
    pump();
  });
}

function peakRssBytes(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

describe('server hardening (in-process server)', () => {
  let server: RunningServer & { dataDir: string };
  let base: string;
  before(async () => {
    server = await startTestServer({ maxUploadBytes: 1024 * 1024 });
    base = server.url;
  });
  after(async () => {
    await server?.close();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  test('an endless chunked upload is cut off at the limit: 413, the connection closed, the rest never read', async () => {
    const t0 = Date.now();
    const endless = await streamUpload(base, ['content'], Infinity);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(endless.status, 413, endless.body);
    assert.match(JSON.parse(endless.body).error, /the photo or video is larger than the server accepts \(1 MiB at most\)/);
    assert.ok(endless.closedByServer, 'the server closed the connection');
    // What got onto the wire: the 1 MiB limit, the 2 MiB the server discards while its answer
    // goes out (lingering close), and what the socket buffers held when it closed.
    assert.ok(endless.sent < 16 * 1024 * 1024, `sent ${endless.sent} bytes before the cut`);
    process.stdout.write(`# endless upload: cut after ${(endless.sent / 1024 / 1024).toFixed(2)} MiB on the wire, ${seconds.toFixed(2)} s\n`);
    // A declared oversize body is refused before any of it is read.
    const declared = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${base}/api/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, 'Content-Length': String(300 * 1024 * 1024) },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write(partHeader('content', 'big.png'));
    });
    assert.equal(declared.status, 413);
    assert.match(JSON.parse(declared.body).error, /request body is larger than the server accepts/);
    // Nothing of these uploads stays on disk, and the server goes on answering.
    assert.deepEqual(fs.readdirSync(path.join(server.dataDir, 'uploads')), []);
    assert.equal((await json(await fetch(`${base}/api/health`))).ok, true);
  });

  test('malformed multipart bodies and out-of-range query values are 400 with a message', async () => {
    const post = (contentType: string, body: string | Buffer) => fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'Content-Type': contentType }, body: typeof body === 'string' ? body : new Uint8Array(body) });
    await expectError(await post('multipart/form-data', 'hello'), 400, /malformed multipart request/);
    await expectError(await post(`multipart/form-data; boundary=${BOUNDARY}`, `--${BOUNDARY}\r\nno header separator at all`), 400, /malformed multipart request/);
    const truncated = Buffer.concat([partHeader('content', 'a.png'), fs.readFileSync(CONTENT_PNG).subarray(0, 100)]);
    await expectError(await post(`multipart/form-data; boundary=${BOUNDARY}`, truncated), 400, /malformed multipart request/);
    await expectError(await fetch(`${base}/api/jobs?offset=9223372036854775807`), 400, /'offset' must be at most 1000000000/);
    await expectError(await fetch(`${base}/api/jobs?limit=99999999999999999999`), 400, /'limit' must be at most 200/);
    await expectError(await fetch(`${base}/api/jobs?offset=-9223372036854775807`), 400, /'offset' must be at least 0/);
    assert.equal((await fetch(`${base}/api/jobs?offset=1000000000`)).status, 200);
    assert.deepEqual(fs.readdirSync(path.join(server.dataDir, 'uploads')), []);
  });

  test("Origin: null writes are refused on a loopback server without a token", async () => {
    const body = JSON.stringify({ method: 'fast', contentSample: 'content/tiny_photo.png', fastStyle: 'wave', size: 32 });
    await expectError(await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'null' }, body }), 403, /cross-origin requests are refused \(Origin: null/);
    const some = await json(await fetch(`${base}/api/jobs`));
    assert.equal(some.total, 0, 'no job was created');
    // Reads stay open, and a client without Origin (curl, scripts) still writes.
    assert.equal((await fetch(`${base}/api/health`, { headers: { Origin: 'null' } })).status, 200);
  });

  test('a JSON body with "__proto__" is refused with a message that says so', async () => {
    const post = (body: string) => fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    await expectError(await post('{"method":"fast","__proto__":{"admin":true}}'), 400, /"__proto__" key, which is refused/);
    await expectError(await post('{"method":"fast","constructor":{"prototype":{"x":1}}}'), 400, /"constructor.prototype" key/);
    await expectError(await post('{"size": '), 400, /not valid JSON \(.+\)/);
    await expectError(await post('  '), 400, /JSON body is empty/);
    assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype was touched');
  });
});

describe('server hardening (nst serve processes)', () => {
  const samplesDir = makeSamplesDir();
  const dirs: string[] = [samplesDir];
  const children: import('node:child_process').ChildProcess[] = [];
  after(async () => {
    for (const c of children) await killAndWait(c);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  const serve = async (extra: string[], env: Record<string, string> = {}) => {
    const dataDir = tempDir('nst-hard-');
    dirs.push(dataDir);
    Object.assign(process.env, env); // the child inherits it at spawn
    try {
      const s = await spawnServer(['--data-dir', dataDir, '--samples-dir', samplesDir, '--model-dir', MODELS_DIR, '--threads', '2', ...extra]);
      children.push(s.child);
      return { ...s, dataDir };
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
  };

  test('the token: from a file or $NST_TOKEN, never in ps, redacted in request logs', async () => {
    const token = 'file-token-0123456789';
    const dir = tempDir('nst-token-');
    dirs.push(dir);
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
    const s = await serve(['--token-file', file, '--log-requests']);
    let stdout = '';
    s.child.stdout!.on('data', (d) => (stdout += d));
    const cmdline = fs.readFileSync(`/proc/${s.child.pid}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(token), 'the token is not on the command line');
    assert.equal((await fetch(`${s.url}/api/health`)).status, 401);
    assert.equal((await fetch(`${s.url}/api/health`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await fetch(`${s.url}/?token=${token}`)).status, 200);
    assert.equal((await fetch(`${s.url}/api/jobs?limit=5&token=${token}`)).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.match(stdout, /"url":"\/\?token=\[redacted\]"/);
    assert.match(stdout, /"url":"\/api\/jobs\?limit=5&token=\[redacted\]"/);
    assert.ok(!stdout.includes(token), 'the token is not in the logs');
    await killAndWait(s.child, 'SIGTERM');

    const envToken = 'env-token-0123456789';
    const e = await serve([], { NST_TOKEN: envToken });
    assert.ok(!fs.readFileSync(`/proc/${e.child.pid}/cmdline`, 'utf8').includes(envToken));
    assert.equal((await fetch(`${e.url}/api/health`)).status, 401);
    assert.equal((await fetch(`${e.url}/api/health`, { headers: { Authorization: `Bearer ${envToken}` } })).status, 200);
    await killAndWait(e.child, 'SIGTERM');
  });

  test('16 concurrent uploads of 2 × 4 MiB: streamed to disk, a few at a time, memory bounded', async () => {
    const s = await serve(['--max-upload-mb', '5', '--max-concurrent-uploads', '4']);
    assert.equal((await fetch(`${s.url}/api/health`)).status, 200);
    const before = peakRssBytes(s.child.pid!);
    const outcomes = await Promise.all(Array.from({ length: 16 }, () => streamUpload(s.url, ['content', 'style'], 4 * 1024 * 1024)));
    const growth = peakRssBytes(s.child.pid!) - before;
    process.stdout.write(`# 16 concurrent 2×4 MiB uploads: peak RSS ${(before / 1024 / 1024).toFixed(0)} → +${(growth / 1024 / 1024).toFixed(1)} MiB\n`);
    // Every upload was read to its end and then judged (these bytes are no image: 400), none lost.
    for (const o of outcomes) {
      assert.equal(o.status, 400, o.body);
      assert.match(JSON.parse(o.body).error, /cannot be read|not a supported image/);
    }
    // 128 MiB were uploaded; holding them in memory would add at least that much.
    assert.ok(growth < 64 * 1024 * 1024, `peak RSS grew by ${(growth / 1024 / 1024).toFixed(1)} MiB`);
    assert.deepEqual(fs.readdirSync(path.join(s.dataDir, 'uploads')), [], 'temporary uploads removed');
    await killAndWait(s.child, 'SIGTERM');
  });

  test('a full disk fails the running job with a message, refuses new jobs with 507 leaving nothing, and freeing space brings it back', async (t) => {
    const mnt = tempDir('nst-tmpfs-');
    dirs.push(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      t.skip('cannot mount a tmpfs here (needs root): the disk-full test did not run');
      return;
    }
    try {
      const dataDir = path.join(mnt, 'data');
      let s = await spawnServer(['--data-dir', dataDir, '--samples-dir', samplesDir, '--model-dir', MODELS_DIR, '--threads', '2']);
      children.push(s.child);
      const postJson = (body: object) => fetch(`${s.url}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const created = await json(await postJson({ contentSample: 'content/tiny_photo.png', styleSample: 'style/tiny_painting.png', size: 48, iterations: 3000, previewEvery: 2, seed: 1 }));
      assert.match(created.id ?? '', /^[0-9a-f]{16}$/, JSON.stringify(created));
      await waitForJob(s.url, created.id, (j) => (j.progress?.iteration ?? 0) >= 3 && j.checkpointIteration !== null);

      const filler = fillFileSystem(mnt);

      const failed = await waitForJob(s.url, created.id, (j) => j.status !== 'running' && j.status !== 'queued', 60_000);
      assert.equal(failed.status, 'failed');
      assert.match(failed.error, /^the disk is full: the job stopped at iteration \d+; free space on the server and run it again$/);
      assert.ok(failed.progress.iteration < 3000);
      assert.equal(s.child.exitCode, null, 'the server is still running');
      assert.equal((await json(await fetch(`${s.url}/api/health`))).ok, true);
      assert.match(s.stderr(), new RegExp(`job ${created.id}: the disk of .* is full; stopping the job`));

      // Creating a job on a full disk: 507 with a message, and no folder left behind.
      const jobsDir = path.join(dataDir, 'jobs');
      await expectError(await postJson({ method: 'fast', contentSample: 'content/tiny_photo.png', fastStyle: 'wave', size: 32 }), 507, /disk is full/);
      const upload = new FormData();
      upload.append('method', 'fast');
      upload.append('fastStyle', 'wave');
      upload.append('content', new Blob([fs.readFileSync(CONTENT_PNG)], { type: 'image/png' }), 'photo.png');
      await expectError(await fetch(`${s.url}/api/jobs`, { method: 'POST', body: upload }), 507, /disk is full/);
      assert.deepEqual(fs.readdirSync(jobsDir), [created.id], 'only the first job has a folder');
      assert.deepEqual(fs.readdirSync(path.join(dataDir, 'uploads')), []);

      // Free space: the server takes jobs again, and the failure is recorded for good.
      fs.rmSync(filler);
      const again = await json(await postJson({ method: 'fast', contentSample: 'content/tiny_photo.png', fastStyle: 'wave', size: 32 }));
      assert.match(again.id ?? '', /^[0-9a-f]{16}$/, JSON.stringify(again));
      assert.equal((await waitForJob(s.url, again.id, (j) => j.status === 'succeeded' || j.status === 'failed')).status, 'succeeded');
      await new Promise((r) => setTimeout(r, 2500)); // the retry of unsaved records
      await killAndWait(s.child, 'SIGTERM');
      s = await spawnServer(['--data-dir', dataDir, '--samples-dir', samplesDir, '--model-dir', MODELS_DIR, '--threads', '2']);
      children.push(s.child);
      const stored = await json(await fetch(`${s.url}/api/jobs/${created.id}`));
      assert.equal(stored.status, 'failed', 'recorded as failed, not resumed after the restart');
      assert.match(stored.error, /disk is full/);
      await killAndWait(s.child, 'SIGTERM');
    } finally {
      for (const c of children) await killAndWait(c);
      execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
    }
  });
});
