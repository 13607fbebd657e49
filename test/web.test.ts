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
import { ARTIFACTS_DIR, CONTENT_PNG, json, readEvents, startTestServer, STYLE_PNG, tempDir, waitForJob } from './helpers/server';
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

  test('choose the transfer method: the server\'s default first, a line of words each; NNST paints with alpha from the strength', async () => {
    const options = await json(await fetch(`${server.url}/api/options`));
    const nnst = options.transferMethods.find((m: any) => m.name === 'nnst');
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.inputValue('#transfer-method'), options.defaultTransferMethod);
    assert.deepEqual(await page.$$eval('#transfer-method option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['gatys', 'strotss', 'nnst', 'ot']);
    const words: Record<string, string> = {};
    for (const name of ['gatys', 'strotss', 'nnst', 'ot']) {
      await page.selectOption('#transfer-method', name);
      words[name] = (await page.textContent('#transfer-note')) ?? '';
      // The layer presets are Gatys's; the others bring their own layers.
      await page.click('#advanced summary');
      assert.equal(await page.isVisible('#preset'), name === 'gatys', `preset shown with ${name}`);
      await page.click('#advanced summary');
    }
    assert.match(words.gatys, /the classic.*statistics of the painting's textures/);
    assert.match(words.strotss, /brush marks and palette.*optimal transport.*keeps the photo's layout/);
    assert.match(words.nnst, /closest part of the painting, then its colours/);
    assert.match(words.ot, /Optimal transport.*whole spread of the painting's textures/);
    await page.selectOption('#transfer-method', 'nnst');
    // NNST: the strength reads as the share of the photo kept, the method's usual at the middle.
    assert.equal(await page.inputValue('#transfer-method'), 'nnst');
    assert.equal(await page.textContent('#strength-value'), `balanced (photo kept ${Math.round(nnst.alpha * 100)} %)`);
    await page.setInputFiles('#content-file', CONTENT_PNG);
    await page.setInputFiles('#style-file', STYLE_PNG);
    await page.selectOption('#size', '64');
    await page.click('#advanced summary');
    await page.fill('#iterations', '3');
    await page.click('#start');
    await page.waitForFunction(() => /^(done|failed)/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 180_000 });
    assert.match((await page.textContent('#status')) ?? '', /^done/);
    const id = /jobs\/([0-9a-f]{16})\//.exec((await page.getAttribute('#download', 'href'))!)![1];
    const job = await json(await fetch(`${server.url}/api/jobs/${id}`));
    assert.equal(job.params.transferMethod, 'nnst');
    assert.equal(job.params.alpha, nnst.alpha);
    assert.equal(job.params.styleWeight, undefined);
    assert.equal(job.result.details.method, 'nnst');
    assert.match((await page.textContent('#caption')) ?? '', / · NNST · 3 steps/);
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
    // The result joins the gallery, kept in this browser (IndexedDB), not on the server.
    await page.waitForSelector('#gallery .card[data-local-id] img.main');
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

/**
 * The painter's flows of the page (issue 12, items 10–15), in Chromium, asserting DOM state and
 * layout boxes: deleting a running or shown job, the live gallery, picking up a job after a
 * reload, the before/after comparison and zoom, "Paint again", several styles at once, paging,
 * errors beside the drop zone, and the phone layout at 390×844. Screenshots go to test-artifacts/.
 */
describe('web page: the painter\'s flows (headless Chromium)', { skip }, () => {
  let server: RunningServer & { dataDir: string };
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  const post = async (body: Record<string, unknown>) =>
    json(await fetch(`${server.url}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }));
  const done = (j: any) => j.status !== 'queued' && j.status !== 'running';
  const box = (sel: string) => page.locator(sel).boundingBox();

  async function open(p: Page = page): Promise<void> {
    await p.goto(`${server.url}/`);
    await p.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  }

  before(async () => {
    server = await startTestServer();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('dialog', (d) => d.accept());
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  test('deleting the running job on the stage leaves no preview and no dead links', async () => {
    await open();
    await page.setInputFiles('#content-file', CONTENT_PNG);
    await page.setInputFiles('#style-file', STYLE_PNG);
    await page.selectOption('#size', '64');
    await page.click('#advanced summary');
    await page.fill('#iterations', '60');
    await page.click('#start');
    await page.waitForFunction(() => Number(document.body.dataset.previewsShown ?? 0) >= 1, undefined, { timeout: 120_000 });
    const id = (await page.getAttribute('#gallery .card', 'data-job-id'))!;
    assert.equal((await json(await fetch(`${server.url}/api/jobs/${id}`))).status, 'running');
    await page.click(`#gallery .card[data-job-id="${id}"] button.delete`);
    await page.waitForFunction(() => /deleted/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 30_000 });
    // The server stops the run after its current iteration, then deletes; a late 'cancelled' end
    // (the old fault) would come meanwhile: the stage must stay empty.
    await page.waitForSelector(`#gallery .card[data-job-id="${id}"]`, { state: 'detached', timeout: 120_000 });
    await page.waitForTimeout(1000);
    const stage = await page.evaluate(() => ({
      status: document.querySelector('#status')!.textContent,
      preview: document.querySelector<HTMLImageElement>('#preview')!.hidden,
      previewSrc: document.querySelector<HTMLImageElement>('#preview')!.getAttribute('src'),
      download: document.querySelector<HTMLAnchorElement>('#download')!.hidden,
      downloadHref: document.querySelector<HTMLAnchorElement>('#download')!.getAttribute('href'),
      report: document.querySelector<HTMLAnchorElement>('#report')!.hidden,
      compare: document.querySelector<HTMLElement>('#compare-box')!.hidden,
      cancel: document.querySelector<HTMLButtonElement>('#cancel')!.disabled,
      cards: document.querySelectorAll(`#gallery .card[data-job-id]`).length,
    }));
    assert.deepEqual(stage, { status: 'the painting was deleted', preview: true, previewSrc: null, download: true, downloadHref: null, report: true, compare: true, cancel: true, cards: 0 });
    assert.equal((await fetch(`${server.url}/api/jobs/${id}`)).status, 404);
    assert.deepEqual(consoleErrors, []);
  });

  test('the gallery is live: a job started elsewhere turns from waiting to its result; a deletion elsewhere clears the stage', async () => {
    await open();
    const created = await post({ method: 'fast', fastStyle: 'wave', contentSample: 'content/tiny_photo.png', size: 64 });
    const card = `#gallery .card[data-job-id="${created.id}"]`;
    await page.waitForSelector(card, { timeout: 10_000 });
    await page.waitForSelector(`${card}[data-status="succeeded"]`, { timeout: 60_000 });
    const src = await page.getAttribute(`${card} img.main`, 'src');
    assert.match(src ?? '', new RegExp(`^api/jobs/${created.id}/thumbnail/result\\?size=480`));
    // The card shows the photo and the painting of the quick style (the server's sample 'wave' is absent here, so the photo only).
    assert.ok((await page.locator(`${card} .sources img`).count()) >= 1);
    await page.click(`${card} .art`);
    await page.waitForFunction((id) => document.querySelector<HTMLImageElement>('#preview')!.src.includes(`/jobs/${id}/result`), created.id);
    // Deleted through the API (another tab): the stage and the gallery let go of it.
    assert.equal((await fetch(`${server.url}/api/jobs/${created.id}`, { method: 'DELETE' })).status, 204);
    await page.waitForSelector(card, { state: 'detached', timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector<HTMLImageElement>('#preview')!.hidden && document.querySelector<HTMLAnchorElement>('#download')!.hidden);
    assert.deepEqual(consoleErrors, []);
  });

  test('after a reload the stage picks up the running job, and the gallery card ends as its result', async () => {
    const created = await post({ method: 'stylize', contentSample: 'content/tiny_photo.png', styleSample: 'style/tiny_painting.png', size: 32, iterations: 6, previewEvery: 1 });
    await waitForJob(server.url, created.id, (j) => j.status === 'running', 120_000);
    await open();
    // The stage follows it (no click needed) and shows it painting, then done.
    assert.match((await page.textContent('#caption')) ?? '', /tiny photo × tiny painting/);
    await page.waitForFunction(() => /^done in/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 240_000 });
    await page.waitForSelector(`#gallery .card[data-job-id="${created.id}"][data-status="succeeded"]`, { timeout: 10_000 });
    assert.match((await page.getAttribute(`#gallery .card[data-job-id="${created.id}"] img.main`, 'src')) ?? '', /thumbnail\/result/);
    assert.match(await page.title(), /^✓ Painted/, 'the tab title says it ended');
    // Reloaded again: the same (finished) job is on the stage.
    await open();
    await page.waitForFunction((id) => document.querySelector<HTMLImageElement>('#preview')!.src.includes(`/jobs/${id}/result`), created.id);
    assert.equal((await page.locator('#chart-box').isHidden()), false, 'the optimisation shows its loss chart');
    assert.deepEqual(consoleErrors, []);
  });

  test('the result fills the stage whatever its caption; compare with the photo; zoom 1:1 and 2×', async () => {
    // The page is showing the 32×24 result of the previous test.
    await page.waitForFunction(() => document.querySelector<HTMLImageElement>('#preview')!.naturalWidth === 32);
    const frame = (await box('#frame'))!;
    const shown = () =>
      page.evaluate(() => {
        const img = document.querySelector<HTMLImageElement>('#preview')!;
        const r = img.getBoundingClientRect();
        // object-fit: contain: the painted box inside the element.
        const scale = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);
        return { width: Math.round(img.naturalWidth * scale), height: Math.round(img.naturalHeight * scale) };
      });
    const a = await shown();
    await page.evaluate(() => (document.querySelector('#caption')!.textContent = 'a very long caption '.repeat(30)));
    const b = await shown();
    await page.evaluate(() => (document.querySelector('#caption')!.textContent = 'short'));
    const c = await shown();
    assert.deepEqual(b, a);
    assert.deepEqual(c, a);
    assert.ok(a.width > 400 && Math.abs(a.width - frame.width) < 2, `the 32-px result is shown ${a.width} px wide in a ${frame.width}-px stage`);

    // Before/after: the photo covers the left share of the painting's box, cut at the line.
    assert.equal(await page.locator('#compare-box').isVisible(), true);
    await page.locator('#compare').fill('30');
    const before = (await box('#before'))!;
    const divider = (await box('#divider'))!;
    const clip = await page.evaluate(() => getComputedStyle(document.querySelector('#before')!).clipPath);
    assert.match(clip, /inset\(0px 70% 0px 0px\)/);
    assert.ok(Math.abs(divider.x + 1 - (before.x + 0.3 * before.width)) < 2, `line at ${divider.x}, photo box ${JSON.stringify(before)}`);
    assert.ok(Math.abs(before.width - a.width) < 2 && Math.abs(before.height - a.height) < 2, 'the photo lies exactly over the painting');
    // Dragging on the image moves the line too.
    await page.mouse.move(before.x + 0.8 * before.width, before.y + before.height / 2);
    await page.mouse.down();
    await page.mouse.up();
    assert.equal(Number(await page.inputValue('#compare')), 80);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-compare.png') });

    // Zoom: 1:1 and 2× show the image at its own pixels (scrolling to pan); Fit goes back.
    await page.click('#zoom-box button[data-zoom="1"]');
    assert.equal(Math.round((await box('#preview'))!.width), 32);
    await page.click('#zoom-box button[data-zoom="2"]');
    assert.equal(Math.round((await box('#preview'))!.width), 64);
    assert.equal(Math.round((await box('#before'))!.width), 64, 'the photo follows the zoom');
    await page.click('#zoom-box button[data-zoom="fit"]');
    assert.deepEqual(await shown(), a);
    assert.deepEqual(consoleErrors, []);
  });

  test('"Paint again" loads the photo, the painting and the settings; Paint makes the same job', async () => {
    const card = page.locator('#gallery .card[data-status="succeeded"]').first();
    const id = (await card.getAttribute('data-job-id'))!;
    const old = await json(await fetch(`${server.url}/api/jobs/${id}`));
    await card.locator('button.rerun').click();
    await page.waitForFunction((jid) => document.body.dataset.rerunLoaded === jid, id);
    assert.equal(await page.isChecked('input[name="method"][value="stylize"]'), true);
    assert.equal(await page.inputValue('#size'), '32');
    assert.equal(await page.inputValue('#iterations'), String(old.params.iterations));
    assert.match((await page.textContent('#slot-content .chosen-name')) ?? '', /tiny photo/);
    assert.match((await page.textContent('#slot-style .chosen-name')) ?? '', /tiny painting/);
    await page.click('#start');
    await page.waitForFunction((jid) => {
      const c = document.querySelector('#gallery .card');
      return c && c.getAttribute('data-job-id') !== jid;
    }, id);
    const newId = (await page.getAttribute('#gallery .card', 'data-job-id'))!;
    const again = await waitForJob(server.url, newId, done, 240_000);
    assert.equal(again.status, 'succeeded', again.error);
    for (const k of ['size', 'iterations', 'styleWeight', 'preset', 'quality', 'preserveColors', 'contentWeight', 'tvWeight']) assert.deepEqual(again.params[k], old.params[k], k);
    assert.deepEqual([again.inputs.content.name, again.inputs.style.name], [old.inputs.content.name, old.inputs.style.name]);
    assert.deepEqual(consoleErrors, []);
  });

  test('quick styles: no loss chart, strength in per cent, several styles at once make one job each', async () => {
    await open();
    await page.click('#slot-content summary');
    await page.click('#content-samples button[data-id="content/tiny_photo.png"]');
    await page.check('input[name="method"][value="fast"]');
    assert.equal(await page.getAttribute('#strength', 'max'), '100');
    assert.match((await page.textContent('#strength-value')) ?? '', /^100 %/);
    await page.locator('#strength').fill('60');
    assert.match((await page.textContent('#strength-value')) ?? '', /^60 % style/);
    // Back to the optimisation: its own scale and words, no raw style weight up front.
    await page.check('input[name="method"][value="stylize"]');
    assert.equal(await page.getAttribute('#strength', 'max'), '200');
    assert.match((await page.textContent('#strength-value')) ?? '', /^balanced/);
    await page.check('input[name="method"][value="fast"]');
    assert.equal(await page.inputValue('#strength'), '60');
    await page.selectOption('#size', '64');
    await page.click('#fast-styles button[data-id="wave"]');
    await page.click('#fast-styles button[data-id="udnie"]');
    const pressed = await page.$$eval('#fast-styles button[aria-pressed="true"]', (bs) => bs.map((b) => (b as HTMLElement).dataset.id).sort());
    assert.ok(pressed.includes('wave') && pressed.includes('udnie'), pressed.join());
    const before = (await json(await fetch(`${server.url}/api/jobs`))).total;
    await page.click('#start');
    await page.waitForFunction(() => /^done/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 60_000 });
    assert.equal(await page.locator('#chart-box').isHidden(), true, 'no loss chart for a quick style');
    const { jobs, total } = await json(await fetch(`${server.url}/api/jobs?limit=${pressed.length}`));
    assert.equal(total, before + pressed.length);
    assert.deepEqual(jobs.map((j: any) => j.params.fastStyle).sort(), pressed);
    assert.ok(jobs.every((j: any) => j.params.strength === 0.6));
    for (const j of jobs) await waitForJob(server.url, j.id, done);
    assert.deepEqual(consoleErrors, []);
  });

  test('errors show beside the drop zone and go when a new file is chosen', async () => {
    await open();
    await page.click('#start');
    const err = '#slot-content .slot-error';
    await page.waitForSelector(err, { state: 'visible' });
    assert.match((await page.textContent(err)) ?? '', /photo/);
    const e = (await box(err))!;
    const slot = (await box('#slot-content'))!;
    assert.ok(e.y >= slot.y && e.y + e.height <= slot.y + slot.height, 'the error is inside the photo card');
    await page.setInputFiles('#content-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    assert.match((await page.textContent(err)) ?? '', /notes\.txt does not look like a photo or a video/);
    await page.setInputFiles('#content-file', CONTENT_PNG);
    assert.equal(await page.locator(err).isHidden(), true);
    assert.equal(await page.locator('#status.error').count(), 0);
    // No painting chosen: said beside the painting.
    await page.click('#start');
    await page.waitForSelector('#slot-style .slot-error', { state: 'visible' });
    assert.match((await page.textContent('#slot-style .slot-error')) ?? '', /painting/);
    assert.deepEqual(consoleErrors, []);
  });

  test('the gallery pages beyond 60 results', async () => {
    // 64 finished jobs written straight into the store (no compute), each with its photo.
    const photo = fs.readFileSync(CONTENT_PNG);
    const { total: before } = await json(await fetch(`${server.url}/api/jobs?limit=1`));
    for (let i = 0; i < 64; i++) {
      const id = `00000000000000${i.toString(16).padStart(2, '0')}`;
      server.manager.files.create(id);
      await server.manager.files.write(id, 'content.png', photo);
      server.manager.store.insert({
        id, method: 'fast', status: 'failed', params: { fastStyle: 'wave', size: 64, strength: 1, preserveColors: false, format: 'jpg' },
        inputs: { content: { name: 'old.png', source: 'upload', file: 'content.png', format: 'png', width: 128, height: 96, bytes: photo.length } },
        createdAt: new Date(Date.UTC(2020, 0, 1, 0, i)).toISOString(), startedAt: null, finishedAt: null, progress: null, checkpointIteration: null, resumes: [], history: [], error: 'test', result: null,
      });
    }
    const total = before + 64;
    await open();
    assert.equal(await page.locator('#gallery .card[data-job-id]').count(), 60);
    assert.match((await page.textContent('#more')) ?? '', new RegExp(`\\(${total - 60} older\\)`));
    await page.click('#more');
    await page.waitForFunction((n) => document.querySelectorAll('#gallery .card[data-job-id]').length === n, total);
    assert.equal(await page.locator('#more').isHidden(), true);
    assert.deepEqual(consoleErrors, []);
  });

  test('on a 390×844 phone nothing sticks out of its card', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      await open(phone);
      for (const m of ['stylize', 'fast', 'browser']) {
        await phone.check(`input[name="method"][value="${m}"]`);
        if (m === 'stylize' && !(await phone.locator('#advanced').evaluate((d) => (d as HTMLDetailsElement).open))) await phone.click('#advanced summary');
        const out = await phone.evaluate(() => {
          const bad: string[] = [];
          const cards = Array.from(document.querySelectorAll<HTMLElement>('.slot, .stage, .card, .actions'));
          for (const card of cards) {
            const c = card.getBoundingClientRect();
            if (c.width === 0) continue;
            if (c.left < -0.5 || c.right > window.innerWidth + 0.5) bad.push(`${card.id || card.className} ${c.left}..${c.right}`);
            for (const el of Array.from(card.querySelectorAll('*')) as HTMLElement[]) {
              const r = el.getBoundingClientRect();
              if (r.width === 0 || el.closest('[hidden]')) continue;
              if (r.left < c.left - 0.5 || r.right > c.right + 0.5) bad.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} ${r.left}..${r.right} in ${card.id || card.className} ${c.left}..${c.right}`);
            }
          }
          return { bad, scrollWidth: document.documentElement.scrollWidth };
        });
        assert.deepEqual(out.bad, [], `${m}: ${out.bad.join('; ')}`);
        assert.ok(out.scrollWidth <= 390, `${m}: the page is ${out.scrollWidth} px wide`);
      }
      await phone.check('input[name="method"][value="stylize"]');
      const quality = (await phone.locator('#quality').boundingBox())!;
      const settings = (await phone.locator('#settings').boundingBox())!;
      assert.ok(quality.x >= settings.x && quality.x + quality.width <= settings.x + settings.width, 'the Quality dropdown stays in its card');
      await phone.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-phone.png'), fullPage: true, clip: { x: 0, y: 0, width: 390, height: 2600 } });
    } finally {
      await phone.close();
    }
    assert.deepEqual(consoleErrors, []);
  });
});

/** A resumed job's time counts the whole job: what ran before the restart too. */
test('web: "done in N s" after a resume counts the seconds before the restart', async () => {
  const dataDir = tempDir('nst-data-');
  let server = await startTestServer({ dataDir });
  try {
    const created = await json(
      await fetch(`${server.url}/api/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ method: 'stylize', contentSample: 'content/tiny_photo.png', styleSample: 'style/tiny_painting.png', size: 32, iterations: 120, previewEvery: 1 }),
      }),
    );
    // Enough iterations that the job cannot finish between the poll that sees checkpoint 6 and the
    // close (a fast CI machine ran all of 8 iterations of 32 px inside one 100-ms poll).
    const seen = await waitForJob(server.url, created.id, (j) => (j.checkpointIteration ?? 0) >= 6, 240_000);
    await server.close();
    const before = seen.progress.elapsedSeconds as number;
    server = await startTestServer({ dataDir });
    const job = await waitForJob(server.url, created.id, (j) => j.status !== 'queued' && j.status !== 'running', 240_000);
    assert.equal(job.status, 'succeeded', job.error);
    assert.ok(job.result.details.resumedFrom >= 6);
    assert.ok(job.result.seconds > before, `result ${job.result.seconds} s, ${before} s of it before the restart`);
    assert.ok(job.progress.elapsedSeconds > before, 'progress goes on counting from the time before the restart');
  } finally {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

/** What the page's gallery reads from the server: the all-jobs event stream and the thumbnails. */
test('web: the gallery stream tells of created, started and deleted jobs; a deleted running job ends only as deleted; thumbnails', async () => {
  const server = await startTestServer();
  const base = server.url;
  try {
    const gallery = readEvents(`${base}/api/events`, { until: (e) => e.event === 'deleted', timeoutMs: 240_000 });
    await new Promise((r) => setTimeout(r, 300));
    const created = await json(
      await fetch(`${base}/api/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ method: 'stylize', contentSample: 'content/tiny_photo.png', styleSample: 'style/tiny_painting.png', size: 48, iterations: 300, previewEvery: 1 }),
      }),
    );
    await waitForJob(base, created.id, (j) => j.checkpointIteration !== null, 240_000);
    // Thumbnails: the photo and the preview, at most `size` px; no result yet; a bad size is 400.
    const thumb = await fetch(`${base}/api/jobs/${created.id}/thumbnail/content?size=40`);
    assert.equal(thumb.headers.get('content-type'), 'image/jpeg');
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 40, 30]);
    assert.equal((await fetch(`${base}/api/jobs/${created.id}/thumbnail/preview?size=40`)).status, 200);
    assert.equal((await fetch(`${base}/api/jobs/${created.id}/thumbnail/result`)).status, 404);
    assert.equal((await fetch(`${base}/api/jobs/${created.id}/thumbnail/content?size=5000`)).status, 400);
    assert.equal((await fetch(`${base}/api/jobs/${created.id}/thumbnail/secrets`)).status, 404);

    const own = readEvents(`${base}/api/jobs/${created.id}/events`, { timeoutMs: 240_000 });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await fetch(`${base}/api/jobs/${created.id}`, { method: 'DELETE' })).status, 204);
    const ownEvents = await own;
    const ends = ownEvents.filter((e) => e.event === 'end');
    assert.deepEqual(ends.map((e) => e.data.job.status), ['deleted'], 'one end, and it says deleted (no cancelled result with dead links first)');
    const galleryEvents = (await gallery).filter((e) => e.data?.id === created.id);
    const kinds = galleryEvents.map((e) => (e.event === 'job' ? `job:${e.data.status}` : e.event));
    assert.equal(kinds[0], 'job:queued');
    assert.ok(kinds.includes('job:running'), kinds.join());
    assert.ok(kinds.includes('preview'), kinds.join());
    assert.equal(kinds[kinds.length - 1], 'deleted');
    assert.ok(!kinds.includes('job:cancelled'), kinds.join());
  } finally {
    await server.close();
    fs.rmSync(server.dataDir, { recursive: true, force: true });
  }
});
