/**
 * "Any painting" on the web page, in Debian's Chromium (headless, playwright-core): a painting
 * chosen on the page is fitted by the server (progress on the page), becomes a quick style, and
 * then paints in the browser with the arbitrary-style transformer in TF.js (CPU backend) — the
 * same picture the server paints with that style, finished the same way (painted at 1.5× and
 * resized back, then half way to the painting's OkLAB palette) — and on the (synthetic) webcam;
 * its gallery card and "Paint again"; a file that is not an image. The fit is short (one stage, 4
 * evaluations at 64 px, two training photos). Then the same finished picture on the WebGL and
 * WebGPU backends, on Chromium's software GPU (SwiftShader).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import type { RunningServer } from '../src/server';
import { FITTED_STYLISE_DEFAULTS, stylePalette, writeStyleFile } from '../src/transfer/arbitrary';
import { matchPalette } from '../src/transfer/arbitrary/palette-match';
import { makeFitModelDir, makeFitPhotosDir, SHORT_FIT } from './helpers/fit-models';
import { ARTIFACTS_DIR, CONTENT_PNG, json, startTestServer, STYLE_PNG, tempDir, waitForJob } from './helpers/server';

const CHROMIUM = process.env.NST_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
const FAKE_CAMERA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
// WebGL and WebGPU on SwiftShader, as in test/web.test.ts (no --disable-gpu: it turns both off).
const GPU_ARGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'];
const skip = fs.existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set NST_CHROMIUM)`;

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

/**
 * How close the browser's pixels (TF.js, fp32) must be to the server's, which paints in fp32 here
 * (`precision: 'fp32'`; with 'auto' a CPU with bf16 instructions would paint in bf16 and move pixels
 * by up to 6): the same 8-bit pixels, where one may round the other way. With the finish (paint
 * scale 1.5 and palette 0.5, the server's default for fitted styles) as without: measured on the
 * 128×96 photo, mean |diff| 0.0005 (the fitted style) and 0.0001–0.0003 (the hand-made vectors),
 * max 1; the two networks agree within 1e-4 in float (test/arbitrary-transformer.test.ts), the
 * resizes and the palette's float steps within about 1e-6, so only a pixel on a rounding edge moves.
 */
const SAME_PIXELS = { mean: 0.05, max: 1 };

/** The server's result of a fast job with `style` on the small sample photo at 128 px (RGBA), and its job. */
async function paintOnServer(base: string, style: string, fields: Record<string, number> = {}): Promise<{ pixels: Buffer; job: any }> {
  const created = await json(
    await fetch(`${base}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ method: 'fast', fastStyle: style, contentSample: 'content/tiny_photo.png', size: 128, format: 'png', ...fields }),
    }),
  );
  const job = await waitForJob(base, created.id, (j) => j.status !== 'queued' && j.status !== 'running');
  assert.equal(job.status, 'succeeded', job.error);
  const pixels = await sharp(Buffer.from(await (await fetch(`${base}/api/jobs/${job.id}/result`)).arrayBuffer())).ensureAlpha().raw().toBuffer();
  return { pixels, job };
}

/**
 * The server paints `style` with its default finish and with the plain pass; the finish must show
 * (mean |diff| at least `minEffect` between the two), so that the browser's match below means it
 * paints the finish too.
 */
async function finishedAndPlain(base: string, style: string, minEffect: number, t: { diagnostic(s: string): void }): Promise<Buffer> {
  const finished = await paintOnServer(base, style);
  assert.equal(finished.job.params.paintScale, FITTED_STYLISE_DEFAULTS.paintScale);
  assert.equal(finished.job.params.paletteMatch, FITTED_STYLISE_DEFAULTS.paletteMatch);
  const plain = await paintOnServer(base, style, { paintScale: 1, paletteMatch: 0 });
  const effect = rgbDiff(finished.pixels, plain.pixels);
  t.diagnostic(`${style}: the server's finish vs its plain pass: mean |diff| ${effect.mean.toFixed(2)}, max ${effect.max} (0..255)`);
  assert.ok(effect.mean >= minEffect, `the finish changes the picture (mean |diff| ${effect.mean.toFixed(2)})`);
  return finished.pixels;
}

/**
 * A style vector far from zero (strong colours and texture), so that a comparison sees the whole
 * network at work: 'hand-made' has the small painting as its thumbnail (the palette's source);
 * 'hand-made-bare' has none, so the server and the page paint it at 1.5× without a palette.
 */
async function writeHandMadeStyles(modelDir: string): Promise<string> {
  const vector = Array.from({ length: 100 }, (_, i) => Math.sin(i * 1.7) * 0.8);
  const thumbnail = `data:image/png;base64,${fs.readFileSync(STYLE_PNG).toString('base64')}`;
  for (const [name, thumb] of [['hand-made', thumbnail], ['hand-made-bare', '']]) {
    await writeStyleFile(path.join(modelDir, 'fast-style', `${name}.style.json`), {
      name,
      model: 'magenta-transformer-separable',
      vector,
      painting: { file: 'none.png', sha256: '0'.repeat(64), width: 1, height: 1, thumbnail: thumb },
      settings: {},
      created: new Date().toISOString(),
    });
  }
  return thumbnail;
}

/** The same photo painted with `style` in the page's in-browser mode on `backend`; the status line and the canvas (RGBA). */
async function paintInBrowser(page: Page, style: string, backend = 'cpu'): Promise<{ status: string; width: number; height: number; data: number[] }> {
  await page.setInputFiles('#content-file', CONTENT_PNG);
  await page.check('input[name="method"][value="browser"]');
  await page.selectOption('#backend', backend);
  await page.selectOption('#fast-style', style);
  await page.selectOption('#size', '128');
  await page.click('#start');
  await page.waitForFunction(() => /^done in the browser/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 120_000 });
  const canvas = await page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('#browser-output')!;
    return { width: c.width, height: c.height, data: Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data) };
  });
  return { status: (await page.textContent('#status')) ?? '', ...canvas };
}

describe('web page: any painting (headless Chromium)', { skip }, () => {
  let server: RunningServer & { dataDir: string };
  let browser: Browser;
  let page: Page;
  let modelDir: string;
  let photos: string;
  const consoleErrors: string[] = [];

  before(async () => {
    modelDir = makeFitModelDir();
    photos = makeFitPhotosDir();
    server = await startTestServer({ modelDir, dataDir: tempDir('nst-web-fit-'), fitPhotos: photos, precision: 'fp32', ...SHORT_FIT });
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
    for (const d of [modelDir, photos, server?.dataDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  test('choose a painting: the server fits it with progress; then it paints in the browser as on the server, webcam too', async (t) => {
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    await page.check('input[name="method"][value="fast"]');
    await page.setInputFiles('#fit-file', STYLE_PNG);
    await page.waitForFunction(() => /step \d of 4/.test(document.querySelector('#fit-status')!.textContent ?? ''), undefined, { timeout: 60_000 });
    await page.waitForFunction(() => /is a quick style now/.test(document.querySelector('#fit-status')!.textContent ?? ''), undefined, { timeout: 120_000 });
    // The stage showed the painting being learnt with its progress, and now says it is a style.
    assert.ok(Number(await page.evaluate(() => document.body.dataset.fitProgressOnStage ?? 0)) >= 1, 'the fit progress was on the stage');
    await page.waitForFunction(() => /^“style” is a quick style now/.test(document.querySelector('#status')!.textContent ?? ''));
    assert.match((await page.getAttribute('#preview', 'src')) ?? '', /\/result\?v=/);
    assert.equal(await page.isHidden('#download'), true, "a fit's result (its painting) is not offered as a download");
    const name = await page.inputValue('#fast-style');
    // Listed under its file's name (style.png), not a hash.
    assert.equal(name, 'style');
    assert.equal((await page.textContent(`#fast-styles button[data-id="${name}"] span:last-child`))?.trim(), 'style');
    const listed = (await json(await fetch(`${server.url}/api/styles`))).styles.find((s: any) => s.name === name);
    assert.equal(listed.title, 'style', "listed in words: the painting's file name");
    assert.ok(await page.isVisible(`#fast-styles button[data-id="${name}"] img`), 'the new style has a tile with its painting');

    // The server paints the photo with the new style, and so does the browser (TF.js, the vector
    // from the server), with nothing sent to the server.
    const serverPixels = await finishedAndPlain(server.url, name, 1, t);
    const jobsBefore = (await json(await fetch(`${server.url}/api/jobs`))).total;
    const canvas = await paintInBrowser(page, name);
    assert.deepEqual([canvas.width, canvas.height], [128, 96]);
    const { mean, max } = rgbDiff(canvas.data, serverPixels);
    t.diagnostic(`fitted style, browser vs server: mean |diff| ${mean.toFixed(4)}, max ${max} (0..255)`);
    // Tolerance: SAME_PIXELS (measured mean 0.0005, max 1 with the finish; 0.0000, 0 without).
    assert.ok(mean < SAME_PIXELS.mean && max <= SAME_PIXELS.max, `browser vs server: mean |diff| ${mean.toFixed(4)}, max ${max} (0..255)`);
    assert.equal((await json(await fetch(`${server.url}/api/jobs`))).total, jobsBefore, 'nothing ran on the server');
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-any-painting.png'), fullPage: true });

    // The webcam (Chromium's synthetic camera) with the fitted style.
    await page.selectOption('#size', '64');
    await page.click('#webcam-start');
    await page.waitForFunction(() => /^webcam: [\d.]+ frames\/s/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 60_000 });
    await page.click('#webcam-stop');
    const frame = await page.evaluate(() => [document.querySelector<HTMLCanvasElement>('#browser-output')!.width, document.querySelector<HTMLCanvasElement>('#browser-output')!.height]);
    assert.equal(Math.max(...frame), 64);
    assert.deepEqual(consoleErrors, []);
  });

  test('a style vector far from zero (a textured picture) paints the same in the browser as on the server, with and without a palette', async (t) => {
    // A 4-evaluation fit stays near the zero vector (a washed-out picture); the hand-made vector
    // gives strong colours and texture.
    const thumbnail = await writeHandMadeStyles(modelDir);
    const sent = await json(await fetch(`${server.url}/api/styles/hand-made/vector`));
    const palette = await stylePalette({ name: 'hand-made', painting: { thumbnail } } as Parameters<typeof stylePalette>[0]);
    assert.deepEqual(sent.finish, { ...FITTED_STYLISE_DEFAULTS, palette }, "the page gets the server's finish and the palette it matches");
    assert.equal((await json(await fetch(`${server.url}/api/styles/hand-made-bare/vector`))).finish.palette, null);

    for (const [name, minEffect] of [['hand-made', 5], ['hand-made-bare', 2]] as const) {
      const serverPixels = await finishedAndPlain(server.url, name, minEffect, t);
      await page.goto(`${server.url}/`); // a fresh page: its status line does not say "done" yet
      await page.waitForSelector('body[data-ready="true"]');
      const canvas = await paintInBrowser(page, name);
      const { mean, max } = rgbDiff(canvas.data, serverPixels);
      t.diagnostic(`${name}, browser vs server: mean |diff| ${mean.toFixed(4)}, max ${max} (0..255)`);
      // Tolerance: SAME_PIXELS (measured mean 0.0001–0.0003, max 1 with the finish; 0.0000, 0 without).
      assert.ok(mean < SAME_PIXELS.mean && max <= SAME_PIXELS.max, `${name}, browser vs server: mean |diff| ${mean.toFixed(4)}, max ${max} (0..255)`);
    }
    assert.deepEqual(consoleErrors, []);
  });

  test("the page's palette match (web/src/palette-match.ts) computes what the server's does", async (t) => {
    // A 40×30 planar image in [0,1] with some colours outside the palette's gamut, and a palette
    // from the small painting: both sides run the same Float32Array steps.
    const width = 40;
    const height = 30;
    const data = Float32Array.from({ length: 3 * width * height }, (_, i) => 0.5 + 0.5 * Math.sin(i * 0.37) * Math.cos(i * 0.011));
    const palette = await stylePalette({ name: 'p', painting: { thumbnail: `data:image/png;base64,${fs.readFileSync(STYLE_PNG).toString('base64')}` } } as Parameters<typeof stylePalette>[0]);
    const expected = matchPalette({ width, height, data }, palette, 0.5).data;
    // A string, so that the import() stays the browser's (compiled, it would become a require()).
    const input = JSON.stringify({ width, height, data: Array.from(data) });
    const actual: number[] = await page.evaluate(`(async () => {
      const m = await import(new URL('js/palette-match.js', location.href).href);
      const x = ${input};
      return Array.from(m.matchPalette({ width: x.width, height: x.height, data: Float32Array.from(x.data) }, ${JSON.stringify(palette)}, 0.5).data);
    })()`);
    assert.equal(actual.length, expected.length);
    let max = 0;
    for (let i = 0; i < actual.length; i++) max = Math.max(max, Math.abs(actual[i] - expected[i]));
    t.diagnostic(`palette match, page vs server: max |diff| ${max} (0..1)`);
    // The same code in the same JavaScript engine family: measured 0.
    assert.ok(max <= 1e-6, `max |diff| ${max}`);
  });

  test('the fitted painting has a gallery card; its "Paint again" chooses the style', async () => {
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    const { jobs } = await json(await fetch(`${server.url}/api/jobs?method=fit&status=succeeded`));
    const fit = jobs[0];
    const card = page.locator(`#gallery .card[data-job-id="${fit.id}"]`);
    assert.match((await card.locator('.title').textContent()) ?? '', /^style → quick style$/);
    assert.match((await card.locator('.meta').textContent()) ?? '', new RegExp(`learnt as '${fit.result.details.style}'`));
    await card.locator('button.rerun').click();
    await page.waitForFunction((jid) => document.body.dataset.rerunLoaded === jid, fit.id);
    assert.equal(await page.inputValue('#fast-style'), fit.result.details.style);
    assert.equal(await page.isChecked('input[name="method"][value="stylize"]'), false);
    assert.deepEqual(consoleErrors, []);
  });

  test('a file that is not an image: the page says so in one line, no style appears', async () => {
    const before = (await json(await fetch(`${server.url}/api/styles`))).styles.length;
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.check('input[name="method"][value="fast"]');
    await page.setInputFiles('#fit-file', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image\n') });
    await page.waitForFunction(() => document.querySelector('#fit-status')!.classList.contains('error'), undefined, { timeout: 30_000 });
    assert.match((await page.textContent('#fit-status')) ?? '', /not a supported image/);
    assert.equal((await json(await fetch(`${server.url}/api/styles`))).styles.length, before);
    consoleErrors.length = 0; // the refused upload's 415 is logged by the browser
  });
});

/**
 * The GPU backends a real browser would pick first, on Chromium's software GPU (SwiftShader): the
 * hand-made style, with the server's finish (paint scale 1.5, palette 0.5), paints the server's
 * pixels. A separate browser, since --disable-gpu (the tests above) turns both backends off.
 */
describe('web page: any painting on the GPU backends, SwiftShader (headless Chromium)', { skip }, () => {
  let server: RunningServer & { dataDir: string };
  let browser: Browser;
  let modelDir: string;
  let serverPixels: Buffer;

  before(async () => {
    modelDir = makeFitModelDir();
    await writeHandMadeStyles(modelDir);
    server = await startTestServer({ modelDir, dataDir: tempDir('nst-web-gpu-fit-'), precision: 'fp32' });
    serverPixels = (await paintOnServer(server.url, 'hand-made')).pixels;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: GPU_ARGS });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    for (const d of [modelDir, server?.dataDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  for (const backend of ['webgl', 'webgpu']) {
    test(`${backend}: a fitted style with the finish paints the server's pixels`, async (t) => {
      const page = await browser.newPage();
      const consoleErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url})`);
      });
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      try {
        await page.goto(`${server.url}/`);
        await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
        const canvas = await paintInBrowser(page, 'hand-made', backend);
        // The page says which backend it used: no silent fallback to the CPU.
        assert.match(canvas.status, new RegExp(`\\(${backend}\\)`));
        assert.deepEqual([canvas.width, canvas.height], [128, 96]);
        if (backend === 'webgl') assert.ok(await page.evaluate(() => (globalThis as any).tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')), 'WebGL renders to float32 textures (the tolerance below assumes it)');
        const { mean, max } = rgbDiff(canvas.data, serverPixels);
        t.diagnostic(`hand-made on ${backend}, browser vs server: mean |diff| ${mean.toFixed(4)}, max ${max} (0..255)`);
        // Tolerance: SAME_PIXELS, as on the CPU backend. SwiftShader renders to float32 textures
        // (WEBGL_RENDER_FLOAT32_ENABLED), so the GPU path is fp32 throughout; measured on both
        // backends mean |diff| 0.0001, max 1 with the finish (and with the 1.5× resizes alone,
        // the palette alone, or neither: 0.0000–0.0001, max 1). A GPU with only half-float
        // textures would differ by more (forced here: mean 0.19, max 2 plain; 0.45, max 5 with
        // the finish, the palette's stretch of the output's narrow colours amplifying the
        // network's float16 error), which a real-GPU check would have to allow.
        assert.ok(mean < SAME_PIXELS.mean && max <= SAME_PIXELS.max, `${backend}, browser vs server: mean |diff| ${mean.toFixed(4)}, max ${max} (0..255)`);
        assert.deepEqual(consoleErrors, []);
      } finally {
        await page.close();
      }
    });
  }
});
