/**
 * The web page in a real browser: Debian's Chromium, headless, driven by playwright-core. It
 * uploads two small images, runs a tiny optimisation job, sees progress events and a preview,
 * gets the result and finds it in the gallery; then a sample + drag-and-drop fast job on the
 * server, the in-browser fast mode (TF.js, CPU backend) checked against the PyTorch reference and
 * on the (synthetic) webcam, and a user-trained style in the browser against the server's result;
 * then the WebGL and WebGPU backends on Chromium's software GPU (SwiftShader) against the same
 * reference. Screenshots go to test-artifacts/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS_DIR, CONTENT_PNG, json, startTestServer, STYLE_PNG, tempDir, waitForJob } from './helpers/server';
import { REFERENCE_DIR } from './helpers/reference';
import type { RunningServer } from '../src/server';
import { configureThread } from '../src/engine';
import { architectureOf, TransformerNet } from '../src/models/transformer-net';
import { STYLE_MODEL_FORMAT, STYLE_MODEL_VERSION, writeStyleModel } from '../src/models/style-model-format';

const CHROMIUM = process.env.NST_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
// Chromium's synthetic camera, for the webcam mode.
const FAKE_CAMERA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const skip = fs.existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set NST_CHROMIUM)`;

/** Stylises CONTENT_PNG in the page's in-browser mode; returns the status line and the canvas (RGBA). */
async function paintInBrowser(page: Page, url: string, backend: string, style: string, size = '128') {
  await page.goto(`${url}/`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.setInputFiles('#content-file', CONTENT_PNG);
  await page.check('input[name="method"][value="browser"]');
  await page.selectOption('#backend', backend);
  await page.selectOption('#fast-style', style);
  await page.selectOption('#size', size);
  await page.click('#start');
  await page.waitForFunction(() => /^done in the browser/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 120_000 });
  const canvas = await page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('#browser-output')!;
    return { width: c.width, height: c.height, data: Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data) };
  });
  return { status: (await page.textContent('#status')) ?? '', ...canvas };
}

/** Mean and max |a − b| over the RGB channels of two RGBA buffers of the same size (0..255). */
function rgbDiff(a: ArrayLike<number>, b: ArrayLike<number>): { mean: number; max: number } {
  assert.equal(a.length, b.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / ((a.length / 4) * 3), max };
}

const waveReference = () => sharp(path.join(REFERENCE_DIR, 'fast_wave.png')).ensureAlpha().raw().toBuffer();

describe('web page (headless Chromium)', { skip }, () => {
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async () => {
    server = await startTestServer();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...FAKE_CAMERA] });
    page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (server) fs.rmSync((server as any).dataDir, { recursive: true, force: true });
  });

  test('upload two images, run a tiny optimisation job, watch it paint, get the result and see it in the gallery', async () => {
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    await page.setInputFiles('#content-file', CONTENT_PNG);
    await page.setInputFiles('#style-file', STYLE_PNG);
    await page.selectOption('#size', '64');
    await page.click('#advanced summary');
    await page.fill('#iterations', '16');
    await page.click('#start');

    // Live progress: the status line, SSE progress events, and at least one preview image shown.
    await page.waitForFunction(() => /step \d+ of 16/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 60_000 });
    await page.waitForFunction(() => Number(document.body.dataset.previewsShown ?? 0) >= 1, undefined, { timeout: 60_000 });
    await page.waitForFunction(() => /^done/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 90_000 });
    const seen = await page.evaluate(() => ({ ...document.body.dataset }));
    assert.ok(Number(seen.progressEvents) >= 1, `progress events: ${JSON.stringify(seen)}`);
    assert.ok(Number(seen.previewEvents) >= 1, `preview events: ${JSON.stringify(seen)}`);

    const href = await page.getAttribute('#download', 'href');
    assert.match(href ?? '', /^api\/jobs\/[0-9a-f]{16}\/result\?download$/);
    const id = /jobs\/([0-9a-f]{16})\//.exec(href!)![1];
    const res = await fetch(`${server.url}/${href}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment/);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 64, 48]);
    // The result image is on the page, the chart has data, and the gallery lists the job.
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#preview')!;
      return img.src.includes('/result') && img.complete && img.naturalWidth === 64;
    });
    await page.waitForSelector(`#gallery .card[data-job-id="${id}"][data-status="succeeded"] img`, { timeout: 10_000 });
    const job = await json(await fetch(`${server.url}/api/jobs/${id}`));
    assert.equal(job.status, 'succeeded');
    assert.equal(job.params.iterations, 16);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-optimisation.png'), fullPage: true });
    assert.deepEqual(consoleErrors, []);
  });

  test('drag and drop, a sample photo, and a fast job on the server', async () => {
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    // A sample photo for the content…
    await page.click('#slot-content summary');
    await page.click('#content-samples button[data-id="content/tiny_photo.png"]');
    assert.match((await page.textContent('#slot-content .chosen-name')) ?? '', /sample: tiny photo/);
    // …and a file dropped on the content slot replaces it.
    const bytes = fs.readFileSync(CONTENT_PNG).toString('base64');
    await page.evaluate(async (b64) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([data], 'dropped.png', { type: 'image/png' }));
      const drop = document.querySelector('#slot-content .drop')!;
      drop.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      drop.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    assert.match((await page.textContent('#slot-content .chosen-name')) ?? '', /dropped\.png/);
    await page.check('input[name="method"][value="fast"]');
    await page.selectOption('#fast-style', 'wave');
    await page.selectOption('#size', '64');
    await page.click('#start');
    await page.waitForFunction(() => /^done/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 60_000 });
    const href = (await page.getAttribute('#download', 'href'))!;
    const id = /jobs\/([0-9a-f]{16})\//.exec(href)![1];
    const job = await json(await fetch(`${server.url}/api/jobs/${id}`));
    assert.equal(job.method, 'fast');
    assert.equal(job.inputs.content.name, 'dropped.png');
    assert.deepEqual([job.result.width, job.result.height], [64, 48]);
    await page.waitForSelector(`#gallery .card[data-job-id="${id}"]`);
    assert.deepEqual(consoleErrors, []);
  });

  test('in-browser fast mode (TF.js, CPU backend) paints like the PyTorch reference, with no job on the server', async () => {
    const before = (await json(await fetch(`${server.url}/api/jobs`))).total;
    const out = await paintInBrowser(page, server.url, 'cpu', 'wave');
    assert.deepEqual([out.width, out.height], [128, 96]);
    const { mean, max } = rgbDiff(out.data, await waveReference());
    assert.ok(mean < 1.5 && max <= 12, `browser vs PyTorch reference: mean |diff| ${mean.toFixed(3)}, max ${max} (0..255)`);
    assert.equal((await json(await fetch(`${server.url}/api/jobs`))).total, before, 'nothing ran on the server');
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-in-browser.png'), fullPage: true });

    // The webcam (Chromium's synthetic camera) is painted frame after frame.
    await page.selectOption('#size', '64');
    await page.click('#webcam-start');
    await page.waitForFunction(() => /^webcam: [\d.]+ frames\/s/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 60_000 });
    await page.click('#webcam-stop');
    const frame = await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('#browser-output')!;
      return [c.width, c.height];
    });
    assert.equal(Math.max(...frame), 64);
    assert.equal((await json(await fetch(`${server.url}/api/jobs`))).total, before, 'nothing ran on the server');
    assert.deepEqual(consoleErrors, []);
  });

  test('a user-trained style (johnson-upsample) paints the same in the browser as on the server', async () => {
    // A trained-format model with random weights, in a model folder of its own.
    const modelDir = tempDir('nst-models-');
    fs.mkdirSync(path.join(modelDir, 'fast-style'));
    configureThread({ seed: 5 });
    const net = TransformerNet.initialise('johnson-upsample');
    try {
      writeStyleModel(
        path.join(modelDir, 'fast-style', 'mine.safetensors'),
        { format: STYLE_MODEL_FORMAT, version: STYLE_MODEL_VERSION, architecture: architectureOf('johnson-upsample'), style: { name: 'mine' }, created: new Date().toISOString(), software: 'test' },
        net.storedWeights(),
      );
    } finally {
      net.dispose();
    }
    const other = await startTestServer({ modelDir });
    try {
      const created = await json(
        await fetch(`${other.url}/api/jobs`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ method: 'fast', fastStyle: 'mine', contentSample: 'content/tiny_photo.png', size: 128, format: 'png' }),
        }),
      );
      const job = await waitForJob(other.url, created.id, (j) => j.status !== 'queued' && j.status !== 'running');
      assert.equal(job.status, 'succeeded', job.error);
      const serverPixels = await sharp(Buffer.from(await (await fetch(`${other.url}/api/jobs/${job.id}/result`)).arrayBuffer())).ensureAlpha().raw().toBuffer();

      const out = await paintInBrowser(page, other.url, 'cpu', 'mine');
      const { mean } = rgbDiff(out.data, serverPixels);
      assert.ok(mean < 1.5, `browser vs server: mean |diff| ${mean.toFixed(3)} (0..255)`);
      assert.deepEqual(consoleErrors, []);
    } finally {
      await other.close();
      fs.rmSync(other.dataDir, { recursive: true, force: true });
      fs.rmSync(modelDir, { recursive: true, force: true });
    }
  });
});

/**
 * The GPU backends a real browser would pick first (WebGL, WebGPU), run on Chromium's software
 * GPU (SwiftShader): the same fast-style check against the PyTorch reference. A separate browser,
 * since --disable-gpu (the other tests' flag) turns both backends off.
 */
describe('web page: in-browser GPU backends on SwiftShader (headless Chromium)', { skip }, () => {
  const GPU_ARGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'];
  let server: RunningServer;
  let browser: Browser;
  const consoleErrors: string[] = [];

  before(async () => {
    server = await startTestServer();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: GPU_ARGS });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (server) fs.rmSync((server as any).dataDir, { recursive: true, force: true });
  });

  for (const backend of ['webgl', 'webgpu']) {
    test(`${backend}: the wave style paints like the PyTorch reference`, async () => {
      const page = await browser.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url})`);
      });
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      try {
        const out = await paintInBrowser(page, server.url, backend, 'wave');
        // The page says which backend it used: no silent fallback to the CPU.
        assert.match(out.status, new RegExp(`\\(${backend}\\)`));
        const { mean, max } = rgbDiff(out.data, await waveReference());
        assert.ok(mean < 1.5 && max <= 12, `${backend} vs PyTorch reference: mean |diff| ${mean.toFixed(3)}, max ${max} (0..255)`);
        assert.deepEqual(consoleErrors, []);
      } finally {
        await page.close();
      }
    });
  }
});
