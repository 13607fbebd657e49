/**
 * Faults of the HTTP server that a fault and load suite found, each with real requests against a
 * real server: a token spelled with percent escapes in the request log, deleting on a full disk
 * (a small tmpfs mounted by the test), the server's paths in job errors, a video with more frames
 * than the server paints, and slow uploads holding every upload slot.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { hideServerPaths } from '../src/server/hide-paths';
import { MODELS_DIR } from './helpers/reference';
import { CONTENT_PNG, fillFileSystem, jobForm, json, killAndWait, makeSamplesDir, spawnServer, startTestServer, tempDir, waitForJob } from './helpers/server';

const HAS_FFMPEG = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0 && spawnSync('ffprobe', ['-version'], { stdio: 'ignore' }).status === 0;
const needsFfmpeg = HAS_FFMPEG ? {} : { skip: 'ffmpeg is not installed (apt-get install ffmpeg)' };

const postJson = (base: string, body: object) => fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

/** A tiny test clip from ffmpeg's test source: `frames` frames at `fps`, `size` (WxH). */
function makeClip(file: string, o: { frames: number; fps: number; size: string }): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${o.size}:rate=${o.fps}`, '-frames:v', String(o.frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
}

describe('the token in request logs', () => {
  const samplesDir = makeSamplesDir();
  const dataDir = tempDir('nst-faults-log-');
  let child: import('node:child_process').ChildProcess | undefined;
  after(async () => {
    if (child) await killAndWait(child);
    for (const d of [samplesDir, dataDir]) fs.rmSync(d, { recursive: true, force: true });
  });

  test('?tok%65n= and ?%74oken= authenticate and are redacted in the log, whatever the spelling', async () => {
    const token = 'spelled-token-0123456789';
    // The token in the environment (not in ps); request logging on.
    process.env.NST_TOKEN = token;
    let server: Awaited<ReturnType<typeof spawnServer>>;
    try {
      server = await spawnServer(['--data-dir', dataDir, '--samples-dir', samplesDir, '--model-dir', MODELS_DIR, '--threads', '1', '--log-requests']);
    } finally {
      delete process.env.NST_TOKEN;
    }
    child = server.child;
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    const spellings = [
      `/?tok%65n=${token}`,
      `/api/jobs?%74oken=${token}`,
      `/api/jobs?limit=5&%74%6F%6B%65%6E=${token}`,
      `/api/jobs?limit=5&t%6Fken=%73${token.slice(1)}`,
    ];
    for (const url of spellings) assert.equal((await fetch(`${server.url}${url}`)).status, 200, `${url} authenticates`);
    // Spellings that do not authenticate are kept out of the log all the same.
    assert.equal((await fetch(`${server.url}/api/health?TOKEN=${token}`)).status, 401);
    await new Promise((r) => setTimeout(r, 300));
    const urls = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).req?.url).filter(Boolean);
    assert.ok(urls.length >= spellings.length + 1, stdout);
    assert.ok(!stdout.includes(token) && !stdout.includes(token.slice(1)), `the token is not in the log:\n${stdout}`);
    assert.ok(urls.includes('/?tok%65n=[redacted]'), urls.join('\n'));
    assert.ok(urls.includes('/api/jobs?%74oken=[redacted]'), urls.join('\n'));
    assert.ok(urls.includes('/api/jobs?limit=5&%74%6F%6B%65%6E=[redacted]'), urls.join('\n'));
    assert.ok(urls.includes('/api/jobs?limit=5&t%6Fken=[redacted]'), urls.join('\n'));
    assert.ok(urls.includes('/api/health?TOKEN=[redacted]'), urls.join('\n'));
  });
});

describe('deleting on a full disk', () => {
  const samplesDir = makeSamplesDir();
  const mnt = tempDir('nst-tmpfs-');
  after(() => {
    for (const d of [samplesDir, mnt]) fs.rmSync(d, { recursive: true, force: true });
  });

  test('DELETE /api/jobs/{id} works on a full disk (it is how space is freed), and the job stays deleted after a restart', async (t) => {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      t.skip('cannot mount a tmpfs here (needs root): the test did not run');
      return;
    }
    const dataDir = path.join(mnt, 'data');
    let server = await startTestServer({ dataDir, samplesDir, threads: 1 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const job = await json(await postJson(server.url, { method: 'fast', contentSample: 'content/tiny_photo.png', fastStyle: 'wave', size: 32 }));
        assert.match(job.id ?? '', /^[0-9a-f]{16}$/, JSON.stringify(job));
        ids.push(job.id);
      }
      for (const id of ids) assert.equal((await waitForJob(server.url, id, (j) => j.status === 'succeeded' || j.status === 'failed')).status, 'succeeded');

      // The files are linked elsewhere too: deleting them frees no space, so the records cannot be
      // deleted from the database either until there is room (SQLite needs journal space).
      const links = path.join(mnt, 'links');
      fs.mkdirSync(links);
      for (const id of ids.slice(0, 2)) for (const f of fs.readdirSync(path.join(dataDir, 'jobs', id))) fs.linkSync(path.join(dataDir, 'jobs', id, f), path.join(links, `${id}-${f}`));

      const filler = fillFileSystem(mnt);

      for (const id of ids.slice(0, 2)) {
        const res = await fetch(`${server.url}/api/jobs/${id}`, { method: 'DELETE' });
        assert.equal(res.status, 204, `DELETE on a full disk: ${res.status} ${await res.text()}`);
        assert.equal((await fetch(`${server.url}/api/jobs/${id}`)).status, 404);
        assert.ok(!fs.existsSync(path.join(dataDir, 'jobs', id)), 'its files are gone');
      }
      const list = await json(await fetch(`${server.url}/api/jobs`));
      assert.deepEqual(list.jobs.map((j: { id: string }) => j.id), [ids[2]]);
      assert.equal(list.total, 1);

      // Stopped while the disk is still full, restarted once there is room: the deleted jobs stay deleted.
      await server.close();
      fs.rmSync(filler);
      fs.rmSync(links, { recursive: true });
      server = await startTestServer({ dataDir, samplesDir, threads: 1 });
      const again = await json(await fetch(`${server.url}/api/jobs`));
      assert.deepEqual(again.jobs.map((j: { id: string }) => j.id), [ids[2]]);
      assert.equal(again.total, 1);
    } finally {
      await server.close();
      execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
    }
  });
});

describe('the startup sweep', () => {
  const samplesDir = makeSamplesDir();
  const dataDir = tempDir('nst-sweep-');
  const elsewhere = tempDir('nst-sweep-moved-');
  after(() => {
    for (const d of [samplesDir, dataDir, elsewhere]) fs.rmSync(d, { recursive: true, force: true });
  });

  test('a job whose folder is a symlink keeps its record across a restart', async () => {
    let server = await startTestServer({ dataDir, samplesDir, threads: 1 });
    let id: string;
    try {
      const job = await json(await postJson(server.url, { method: 'fast', contentSample: 'content/tiny_photo.png', fastStyle: 'wave', size: 32 }));
      id = job.id;
      assert.equal((await waitForJob(server.url, id, (j) => j.status === 'succeeded' || j.status === 'failed')).status, 'succeeded');
    } finally {
      await server.close();
    }
    const folder = path.join(dataDir, 'jobs', id);
    fs.renameSync(folder, path.join(elsewhere, id));
    fs.symlinkSync(path.join(elsewhere, id), folder);
    server = await startTestServer({ dataDir, samplesDir, threads: 1 });
    try {
      const res = await fetch(`${server.url}/api/jobs/${id}`);
      assert.equal(res.status, 200, 'the record is kept');
      assert.equal((await json(res)).status, 'succeeded');
    } finally {
      await server.close();
    }
  });
});

describe('hideServerPaths', () => {
  test('hides the data directory and what is inside it, not a sibling that starts with its name', () => {
    assert.equal(hideServerPaths("cannot write '/var/nst/jobs/0123456789abcdef/result.mp4': it is a directory", '/var/nst'), "cannot write 'result.mp4': it is a directory");
    assert.equal(hideServerPaths('cannot write /var/nst/uploads/x.tmp', '/var/nst'), 'cannot write uploads/x.tmp');
    assert.equal(hideServerPaths("no room in '/var/nst'", '/var/nst'), "no room in 'the data directory'");
    assert.equal(hideServerPaths('/var/nst', '/var/nst'), 'the data directory');
    assert.equal(hideServerPaths('cannot read /var/nst-old/x and /var/nstx', '/var/nst'), 'cannot read /var/nst-old/x and /var/nstx');
  });
});

describe("the server's paths stay out of API answers", needsFfmpeg, () => {
  const tmp = tempDir('nst-faults-paths-');
  let server: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    makeClip(path.join(tmp, 'clip.mp4'), { frames: 6, fps: 12, size: '64x48' });
    server = await startTestServer({ threads: 1 });
  });
  after(async () => {
    await server?.close();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a video job that cannot write its result fails with a message that names no path of the server', async () => {
    // A long job holds the only worker while the video job's folder is prepared.
    const blocker = await json(await postJson(server.url, { contentSample: 'content/tiny_photo.png', styleSample: 'style/tiny_painting.png', size: 48, iterations: 3000, seed: 1 }));
    await waitForJob(server.url, blocker.id, (j) => j.status === 'running');
    const form = jobForm({ method: 'video', fastStyle: 'wave' }, { content: { name: 'clip.mp4', bytes: fs.readFileSync(path.join(tmp, 'clip.mp4')), type: 'video/mp4' } });
    const res = await fetch(`${server.url}/api/jobs`, { method: 'POST', body: form });
    const video = await json(res);
    assert.equal(res.status, 201, JSON.stringify(video));
    // Its result's place is taken by a folder.
    fs.mkdirSync(path.join(server.dataDir, 'jobs', video.id, 'result.mp4'));
    assert.equal((await fetch(`${server.url}/api/jobs/${blocker.id}/cancel`, { method: 'POST' })).status, 202);
    const failed = await waitForJob(server.url, video.id, (j) => j.status === 'failed' || j.status === 'succeeded');
    assert.equal(failed.status, 'failed');
    assert.match(failed.error, /result\.mp4/, failed.error);
    assert.ok(!failed.error.includes(server.dataDir), `no data directory in: ${failed.error}`);
    assert.ok(!/(^|[\s'"(])\/[^\s]/.test(failed.error), `no absolute path in: ${failed.error}`);
    const report = await json(await fetch(`${server.url}/api/jobs/${video.id}/report`));
    assert.ok(!JSON.stringify(report).includes(server.dataDir), 'nor in the report');
    const list = await json(await fetch(`${server.url}/api/jobs`));
    assert.ok(!JSON.stringify(list).includes(server.dataDir), 'nor in the list');
    assert.ok(!JSON.stringify(await json(await fetch(`${server.url}/api/health`))).includes(server.dataDir), 'nor in the health report');
  });
});

describe('video frames are counted at upload', needsFfmpeg, () => {
  const tmp = tempDir('nst-faults-frames-');
  let server: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    // 10 s at 1,000 fps: within the default 20 s, with 10,000 frames to paint. In MP4 the container
    // counts the frames; in Matroska they are estimated from the duration and the rate.
    makeClip(path.join(tmp, 'many.mp4'), { frames: 10_000, fps: 1000, size: '32x32' });
    makeClip(path.join(tmp, 'many.mkv'), { frames: 10_000, fps: 1000, size: '32x32' });
    makeClip(path.join(tmp, 'six.mp4'), { frames: 6, fps: 12, size: '32x32' });
    server = await startTestServer({ threads: 1 });
  });
  after(async () => {
    await server?.close();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const upload = (base: string, file: string) =>
    fetch(`${base}/api/jobs`, { method: 'POST', body: jobForm({ method: 'video', fastStyle: 'wave' }, { content: { name: path.basename(file), bytes: fs.readFileSync(file), type: 'video/mp4' } }) });

  test('a 10,000-frame video is refused at upload: 413, one line with the limit, nothing kept', async () => {
    for (const name of ['many.mp4', 'many.mkv']) {
      const res = await upload(server.url, path.join(tmp, name));
      const body = await json(res);
      assert.equal(res.status, 413, `${name}: ${JSON.stringify(body)}`);
      assert.equal(body.error, 'the video has 10000 frames; this server accepts at most 9000');
    }
    assert.deepEqual(fs.readdirSync(path.join(server.dataDir, 'jobs')), []);
    assert.deepEqual(fs.readdirSync(path.join(server.dataDir, 'uploads')), []);
    assert.equal((await json(await fetch(`${server.url}/api/options`))).limits.maxVideoFrames, 9000, 'the page can tell');
  });

  test('the limit is a setting (maxVideoFrames), and the job paints what was accepted', async () => {
    const strict = await startTestServer({ threads: 1, maxVideoFrames: 5 });
    try {
      const res = await upload(strict.url, path.join(tmp, 'six.mp4'));
      assert.equal(res.status, 413);
      assert.equal((await json(res)).error, 'the video has 6 frames; this server accepts at most 5');
    } finally {
      await strict.close();
      fs.rmSync(strict.dataDir, { recursive: true, force: true });
    }
    // A server that accepts 6 frames paints them (the painter is held to the same limit).
    const exact = await startTestServer({ threads: 1, maxVideoFrames: 6 });
    try {
      const res = await upload(exact.url, path.join(tmp, 'six.mp4'));
      const job = await json(res);
      assert.equal(res.status, 201, JSON.stringify(job));
      const end = await waitForJob(exact.url, job.id, (j) => j.status === 'succeeded' || j.status === 'failed');
      assert.equal(end.status, 'succeeded', end.error);
      assert.equal(end.result.details.frames, 6);
    } finally {
      await exact.close();
      fs.rmSync(exact.dataDir, { recursive: true, force: true });
    }
  });
});

const BOUNDARY = 'nst-faults-boundary-51c3';

interface Outcome {
  status: number | null;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** When the answer ended (or the connection closed), ms after the start. */
  ms: number;
}

/**
 * An upload that trickles in: a content file part, then `bytesPerSecond` of it in tenths of a
 * second, until the server answers or `giveUpMs` passes. `localAddress` picks the client's address.
 */
function slowUpload(base: string, o: { bytesPerSecond: number; giveUpMs: number; localAddress?: string }): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const out: Outcome = { status: null, body: '', headers: {}, ms: 0 };
    let done = false;
    const req = http.request(`${base}/api/jobs`, { method: 'POST', agent: false, localAddress: o.localAddress, headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` } });
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(drip);
      clearTimeout(giveUp);
      out.ms = Date.now() - t0;
      req.destroy();
      resolve(out);
    };
    req.on('response', (res) => {
      out.status = res.statusCode ?? null;
      out.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (d) => (out.body += d));
      res.on('end', finish);
    });
    req.on('error', finish);
    req.on('close', () => setTimeout(finish, 200));
    req.write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="content"; filename="slow.png"\r\nContent-Type: image/png\r\n\r\n`);
    const drip = setInterval(() => {
      if (!req.destroyed) req.write(Buffer.alloc(Math.max(1, Math.round(o.bytesPerSecond / 10)), 7));
    }, 100);
    const giveUp = setTimeout(finish, o.giveUpMs);
  });
}

/** A whole multipart job request sent at once, from `localAddress`. */
async function upload(base: string, form: FormData, localAddress: string): Promise<Outcome> {
  const request = new Request(base, { method: 'POST', body: form });
  const body = Buffer.from(await request.arrayBuffer());
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/api/jobs`, { method: 'POST', agent: false, localAddress, headers: { 'Content-Type': request.headers.get('content-type')!, 'Content-Length': body.length } });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? null, body: text, headers: res.headers, ms: Date.now() - t0 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('slow uploads', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    // Small values keep the test fast: 4 slots, 2 per client, at least 1,000 bytes/s over every
    // 1.5 s, 3 s for a body, 1 s for headers, 1 s of waiting for a slot. The slot wait ends before
    // the first rate cut can free a slot, and the rate cut comes before the deadline: the tests
    // read which rule acted from the answers, never from the clock (a loaded machine stretches it).
    server = await startTestServer({
      threads: 1,
      maxConcurrentUploads: 4,
      maxUploadsPerClient: 2,
      uploadSlotWaitMs: 1000,
      minUploadBytesPerSecond: 1000,
      uploadRateWindowMs: 1500,
      uploadTimeoutMs: 3000,
      headersTimeoutMs: 1000,
    });
  });
  after(async () => {
    await server?.close();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  test('4 connections sending 100 B/s are cut off (408) at once, and another client uploads meanwhile', async () => {
    const slow = Array.from({ length: 4 }, () => slowUpload(server.url, { bytesPerSecond: 100, giveUpMs: 40_000 }));
    await new Promise((r) => setTimeout(r, 200));
    // Another address of this machine: another client.
    // 201, not 503: had the slow client taken every slot, this upload would have waited for one,
    // and the wait (1 s) ends before any slow upload is cut (1.5 s) and frees one.
    const other = await upload(server.url, jobForm({ method: 'fast', fastStyle: 'wave', size: 32 }, { content: CONTENT_PNG }), '127.0.0.2');
    assert.equal(other.status, 201, other.body);
    const outcomes = await Promise.all(slow);
    for (const o of outcomes) assert.ok(o.status === 408 || o.status === 429, `${o.status}: ${o.body}`);
    const cut = outcomes.filter((o) => o.status === 408);
    assert.ok(cut.length >= 2, outcomes.map((o) => o.status).join(' '));
    // Cut for their pace, not by the 3-s deadline: at once.
    for (const o of cut) assert.equal(JSON.parse(o.body).error, 'the upload is too slow (under 1000 bytes/s for 1.5 s); the server stopped receiving it');
    assert.deepEqual(fs.readdirSync(path.join(server.dataDir, 'uploads')), [], 'nothing of them is kept');
  });

  test('an upload past its deadline is cut (408); a client holding its share waits, then gets 429', async () => {
    // 5,000 bytes/s: 5 times the minimum rate (the client shares the server's event loop: a stall
    // of a few hundred ms must not make it 'too slow'), and it never ends within 3 s.
    const steady = Array.from({ length: 3 }, () => slowUpload(server.url, { bytesPerSecond: 5000, giveUpMs: 40_000 }));
    const outcomes = await Promise.all(steady);
    const byStatus = outcomes.map((o) => o.status).sort();
    assert.deepEqual(byStatus, [408, 408, 429], outcomes.map((o) => `${o.status} ${o.body}`).join('\n'));
    const late = outcomes.find((o) => o.status === 408)!;
    assert.equal(JSON.parse(late.body).error, 'the upload took longer than 3 s; the server stopped receiving it');
    // Not before the deadline (load only makes it later); that the deadline cut it, the message says.
    assert.ok(late.ms >= 2900, `cut after ${late.ms} ms`);
    const waited = outcomes.find((o) => o.status === 429)!;
    assert.equal(JSON.parse(waited.body).error, 'this client is sending 2 uploads already (the most one client may send at once); send this one when one has finished');
    assert.equal(waited.headers['retry-after'], '5');
  });

  test('headers that trickle in are cut (408) after the headers deadline', async () => {
    const t0 = Date.now();
    const answer = await new Promise<{ text: string; ms: number }>((resolve) => {
      const socket = net.connect((server.app.server.address() as net.AddressInfo).port, '127.0.0.1');
      let text = '';
      const drip = setInterval(() => socket.write('x'), 200);
      const giveUp = setTimeout(() => socket.destroy(), 10_000);
      socket.on('connect', () => socket.write('POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
      socket.on('data', (d) => (text += d));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(drip);
        clearTimeout(giveUp);
        resolve({ text, ms: Date.now() - t0 });
      });
    });
    // The client drips forever (until its own 10-s give-up, with no answer): a 408 is the server's
    // headers deadline, which cannot come before 1 s.
    assert.match(answer.text, /^HTTP\/1\.1 408 /);
    assert.ok(answer.ms >= 900, `closed after ${answer.ms} ms`);
  });
});
