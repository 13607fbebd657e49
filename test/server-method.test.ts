/**
 * The transfer method of a stylize job over HTTP (issue 23): `transferMethod` (gatys, strotss,
 * nnst) or its short form `method: "nnst"`, with `alpha` for the methods it balances; the method
 * that ran is in the job's result and its report; GET /api/options lists the methods and the
 * default; unknown names and fields that do not apply are 400 with one line. Print estimates
 * (GET /api/estimate) before a job starts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { RunningServer } from '../src/server';
import { json, startTestServer, waitForJob } from './helpers/server';

const SAMPLES = { contentSample: 'content/tiny_photo.png', styleSample: 'style/tiny_painting.png' };

async function expectError(res: Response, status: number, pattern: RegExp): Promise<void> {
  const body = await json(res);
  assert.equal(res.status, status, `status ${res.status}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error, 'string');
  assert.ok(!body.error.includes('\n'), 'one line');
  assert.match(body.error, pattern);
}

describe('HTTP API: the transfer method of a stylize job', () => {
  let server: RunningServer & { dataDir: string };
  const post = (body: Record<string, unknown>) => fetch(`${server.url}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  before(async () => {
    server = await startTestServer({ maxMemory: '6GB' });
  });

  after(async () => {
    await server?.close();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  test('GET /api/options lists the methods, which take alpha, and the default', async () => {
    const options = await json(await fetch(`${server.url}/api/options`));
    assert.deepEqual(
      options.transferMethods.map((m: { name: string; alpha: number | null }) => [m.name, m.alpha === null ? null : typeof m.alpha]),
      [['gatys', null], ['strotss', 'number'], ['nnst', 'number'], ['ot', null]],
    );
    assert.equal(options.defaultTransferMethod, 'gatys');
    for (const m of options.transferMethods) assert.ok(m.description.length > 20, m.name);
  });

  test("a job with method 'nnst' (tiny, 3 steps) runs NNST and says so in its result and its report", async () => {
    const res = await post({ method: 'nnst', ...SAMPLES, size: 32, iterations: 3, alpha: 0.6 });
    const created = await json(res);
    assert.equal(res.status, 201, JSON.stringify(created));
    assert.equal(created.method, 'stylize');
    assert.equal(created.params.transferMethod, 'nnst');
    assert.equal(created.params.alpha, 0.6);
    assert.equal(created.params.styleWeight, undefined, 'NNST is balanced by alpha, not weights');
    const job = await waitForJob(server.url, created.id, (j) => j.status !== 'queued' && j.status !== 'running', 240_000);
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.result.details.method, 'nnst');
    assert.equal(Math.max(job.result.width, job.result.height), 32);
    const report = await json(await fetch(`${server.url}/api/jobs/${job.id}/report`));
    assert.equal(report.params.transferMethod, 'nnst');
    assert.equal(report.result.details.method, 'nnst');
  });

  test("a job with method 'ot' (tiny, 3 steps) runs the optimal-transport method with Gatys-scale weights", async () => {
    const res = await post({ method: 'ot', ...SAMPLES, size: 32, iterations: 3, styleWeight: 200 });
    const created = await json(res);
    assert.equal(res.status, 201, JSON.stringify(created));
    assert.equal(created.method, 'stylize');
    assert.equal(created.params.transferMethod, 'ot');
    assert.equal(created.params.styleWeight, 200);
    const job = await waitForJob(server.url, created.id, (j) => j.status !== 'queued' && j.status !== 'running', 240_000);
    assert.equal(job.status, 'succeeded', job.error);
    assert.equal(job.result.details.method, 'ot');
    assert.equal(Math.max(job.result.width, job.result.height), 32);
    const report = await json(await fetch(`${server.url}/api/jobs/${job.id}/report`));
    assert.equal(report.params.transferMethod, 'ot');
    await expectError(await post({ method: 'ot', alpha: 0.5, ...SAMPLES }), 400, /^field 'alpha' is the photo-vs-painting balance of strotss and nnst; ot uses styleWeight and contentWeight$/);
  });

  test('transferMethod on a stylize job; no method named: the default, with its weights', async () => {
    const named = await json(await post({ method: 'stylize', transferMethod: 'strotss', ...SAMPLES, size: 32, iterations: 1 }));
    assert.equal(named.params.transferMethod, 'strotss');
    const plain = await json(await post({ ...SAMPLES, size: 32, iterations: 1 }));
    assert.equal(plain.params.transferMethod, 'gatys');
    assert.equal(plain.params.styleWeight, 100);
    for (const id of [named.id, plain.id]) await fetch(`${server.url}/api/jobs/${id}`, { method: 'DELETE' });
  });

  test('print estimates: paced on the finished jobs, tiled within the memory budget, 4,096 px 3–6× 2,048 px; NNST cannot tile', async (t) => {
    const estimate = async (query: string) => json(await fetch(`${server.url}/api/estimate?${query}`));
    // Nothing like a fast job has finished here: its time is not made up.
    const none = await estimate('method=fast&size=2048&width=4&height=3');
    assert.equal(none.seconds, null);
    assert.match(none.message, /known once this server has finished a painting like it/);
    // Too small to pace a print (fixed costs per evaluation outweigh its pixels): not counted.
    const tiny = await post({ method: 'gatys', ...SAMPLES, size: 48, iterations: 2 });
    await waitForJob(server.url, (await json(tiny)).id, (j) => j.status !== 'queued' && j.status !== 'running', 240_000);
    assert.equal((await estimate('method=stylize&size=2048')).seconds, null);
    const res = await post({ method: 'gatys', ...SAMPLES, size: 256, iterations: 4 });
    const job = await waitForJob(server.url, (await json(res)).id, (j) => j.status !== 'queued' && j.status !== 'running', 240_000);
    assert.equal(job.status, 'succeeded', job.error);
    const print = await estimate('method=stylize&transferMethod=gatys&quality=standard&size=2048&width=4&height=3');
    const large = await estimate('method=stylize&transferMethod=gatys&quality=standard&size=4096&width=4&height=3');
    for (const e of [print, large]) {
      assert.equal(e.measuredJobs, 1);
      assert.equal(e.budgetBytes, 6 * 2 ** 30, "the server's --max-memory");
      assert.equal(e.tiled, true, `${JSON.stringify(e)}: over 6 GB, tiled`);
      assert.ok(e.tiles > 1);
      assert.ok(e.seconds > 0, JSON.stringify(e));
      assert.match(e.message, /px, in \d+ tiles a pass, within this server's 6\.0 GiB: up to about .+ \(paced on this server's last 1 painting\)$/);
    }
    t.diagnostic(`2,048 px: ${print.message}; 4,096 px: ${large.message}`);
    // Four times the pixels: about 4× the time (the tiles' overlap and set-up weigh a little more on the smaller print).
    const ratio = large.seconds / print.seconds;
    assert.ok(ratio > 3 && ratio < 6, `4,096 / 2,048 px: ${ratio.toFixed(2)}×`);
    const nnst = await estimate('method=stylize&transferMethod=nnst&size=4096&width=4&height=3');
    assert.equal(nnst.fits, false);
    assert.match(nnst.message, /^4096 px does not fit this server's 6\.0 GiB per job with nnst, which cannot paint in tiles$/);
    await expectError(await fetch(`${server.url}/api/estimate?transferMethod=monet`), 400, /'transferMethod' must be one of/);
    await expectError(await fetch(`${server.url}/api/estimate?size=99999`), 400, /'size' must be at most 4096/);
  });

  test('unknown methods and fields that do not apply are refused in one line', async () => {
    await expectError(await post({ transferMethod: 'monet', ...SAMPLES }), 400, /^field 'transferMethod' must be one of gatys, strotss, nnst, ot \(got "monet"\)$/);
    await expectError(await post({ method: 'monet', ...SAMPLES }), 400, /^field 'method' must be one of stylize, fast/);
    await expectError(await post({ method: 'nnst', transferMethod: 'gatys', ...SAMPLES }), 400, /disagree/);
    await expectError(await post({ method: 'gatys', alpha: 0.5, ...SAMPLES }), 400, /^field 'alpha' is the photo-vs-painting balance of strotss and nnst; gatys uses styleWeight and contentWeight$/);
    await expectError(await post({ method: 'nnst', styleWeight: 50, ...SAMPLES }), 400, /^field 'styleWeight' does not apply to nnst/);
    await expectError(await post({ method: 'strotss', alpha: 2, ...SAMPLES }), 400, /^field 'alpha' must be at most 1 \(got 2\)$/);
    await expectError(await post({ method: 'fast', fastStyle: 'wave', contentSample: SAMPLES.contentSample, transferMethod: 'nnst' }), 400, /unknown field 'transferMethod' for method 'fast'/);
  });
});
