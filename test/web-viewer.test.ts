/**
 * The stage's "Fit" view in Chromium (headless, playwright-core): for a square, a portrait (1:1.6)
 * and a panorama (3:1) result, at 1280×900, 1920×1080 and 390×844, the whole picture is inside
 * the viewer (its drawn box measured against the viewer's box), as large as the viewer allows
 * (it touches two opposite sides), and the photo under the compare slider covers exactly the
 * picture. The results are quick-style jobs at 128 px on photos of each shape.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import type { RunningServer } from '../src/server';
import { ARTIFACTS_DIR, json, jobForm, startTestServer, waitForJob } from './helpers/server';

const CHROMIUM = process.env.NST_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
const skip = fs.existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set NST_CHROMIUM)`;

const SHAPES = { square: [120, 120], portrait: [100, 160], panorama: [192, 64] } as const;
const VIEWPORTS = [
  { width: 1280, height: 900 },
  { width: 1920, height: 1080 },
  { width: 390, height: 844 },
];

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A photo of the given shape with some structure (a gradient and a disc). */
async function photo(width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g"><stop offset="0" stop-color="#3a6"/><stop offset="1" stop-color="#fc3"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/><circle cx="${width / 2}" cy="${height / 2}" r="${Math.min(width, height) / 3}" fill="#236"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** The drawn picture's box of the result image, the viewer's box, and the compare photo's box. */
function measure(page: Page): Promise<{ picture: Box; element: Box; viewer: Box; before: Box; natural: [number, number] }> {
  return page.evaluate(() => {
    const rect = (el: Element) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, top: r.top, width: r.width, height: r.height };
    };
    const img = document.querySelector<HTMLImageElement>('#preview')!;
    const element = rect(img);
    // object-fit: contain draws the picture inside the element box, centred; without it the element is the picture.
    const fit = getComputedStyle(img).objectFit;
    const natural: [number, number] = [img.naturalWidth, img.naturalHeight];
    let picture = element;
    if (fit === 'contain' || fit === 'scale-down') {
      const scale = Math.min(element.width / natural[0], element.height / natural[1], fit === 'scale-down' ? 1 : Infinity);
      const w = natural[0] * scale;
      const h = natural[1] * scale;
      picture = { left: element.left + (element.width - w) / 2, top: element.top + (element.height - h) / 2, width: w, height: h };
    }
    return { picture, element, viewer: rect(document.querySelector('#viewer')!), before: rect(document.querySelector('#before')!), natural };
  });
}

describe('web page: the whole picture in "Fit" (headless Chromium)', { skip }, () => {
  let server: RunningServer & { dataDir: string };
  let browser: Browser;
  let page: Page;
  const jobs: Record<string, string> = {};

  before(async () => {
    server = await startTestServer();
    for (const [shape, [w, h]] of Object.entries(SHAPES)) {
      const form = jobForm({ method: 'fast', fastStyle: 'wave', size: 128 }, { content: { name: `${shape}.png`, bytes: await photo(w, h), type: 'image/png' } });
      const created = await json(await fetch(`${server.url}/api/jobs`, { method: 'POST', body: form }));
      assert.ok(created.id, JSON.stringify(created));
      jobs[shape] = created.id;
    }
    for (const id of Object.values(jobs)) {
      const job = await waitForJob(server.url, id, (j) => j.status !== 'queued' && j.status !== 'running');
      assert.equal(job.status, 'succeeded', job.error);
    }
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: VIEWPORTS[0] });
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  test('square, portrait and panorama results fit inside the viewer on desktop and phone, and the compare photo covers exactly the picture', async () => {
    const failures: string[] = [];
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      for (const [shape, id] of Object.entries(jobs)) {
        // The page remembers the job on its stage; set once it is ready (its own start would overwrite it).
        await page.goto(`${server.url}/`);
        await page.waitForSelector('body[data-ready="true"]');
        await page.evaluate((jobId) => localStorage.setItem('nst.currentJob', jobId), id);
        await page.reload();
        await page.waitForSelector('body[data-ready="true"]');
        await page.waitForFunction(() => {
          const img = document.querySelector<HTMLImageElement>('#preview')!;
          const before = document.querySelector<HTMLImageElement>('#before')!;
          return !img.hidden && img.complete && img.naturalWidth > 0 && !before.hidden && before.complete && before.naturalWidth > 0;
        });
        // Half the photo over the painting, as a user drags the slider.
        await page.fill('#compare', '50');
        await page.dispatchEvent('#compare', 'input');
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        const m = await measure(page);
        const where = `${shape} at ${viewport.width}×${viewport.height}`;
        const { picture: p, viewer: v } = m;
        const inside = p.left >= v.left - 0.5 && p.top >= v.top - 0.5 && p.left + p.width <= v.left + v.width + 0.5 && p.top + p.height <= v.top + v.height + 0.5;
        if (!inside) failures.push(`${where}: picture ${JSON.stringify(p)} is not inside the viewer ${JSON.stringify(v)}`);
        // The element itself stays inside too (the viewer hides what overflows).
        const e = m.element;
        if (e.left < v.left - 0.5 || e.top < v.top - 0.5 || e.left + e.width > v.left + v.width + 0.5 || e.top + e.height > v.top + v.height + 0.5) {
          failures.push(`${where}: image element ${JSON.stringify(e)} overflows the viewer ${JSON.stringify(v)}`);
        }
        // As large as the wall allows: it spans the viewer's width or its height.
        const fills = Math.abs(p.width - v.width) <= 1 || Math.abs(p.height - v.height) <= 1;
        if (!fills) failures.push(`${where}: picture ${p.width.toFixed(1)}×${p.height.toFixed(1)} neither spans the viewer's width ${v.width} nor its height ${v.height}`);
        // Its shape is the result's.
        const ratio = p.width / p.height;
        const natural = m.natural[0] / m.natural[1];
        if (Math.abs(ratio / natural - 1) > 0.02) failures.push(`${where}: drawn at ${ratio.toFixed(3)}:1, the result is ${natural.toFixed(3)}:1`);
        // The photo under the compare slider lies exactly over the picture.
        const b = m.before;
        const off = Math.max(Math.abs(b.left - p.left), Math.abs(b.top - p.top), Math.abs(b.width - p.width), Math.abs(b.height - p.height));
        if (off > 1) failures.push(`${where}: compare photo ${JSON.stringify(b)} is off the picture ${JSON.stringify(p)} by ${off.toFixed(1)} px`);
        if (shape === 'portrait') await page.screenshot({ path: path.join(ARTIFACTS_DIR, `web-fit-${shape}-${viewport.width}x${viewport.height}.png`) });
      }
    }
    assert.deepEqual(failures, []);
  });

  /** Opens the page with job `id` on its stage. */
  async function showJob(id: string): Promise<void> {
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.evaluate((jobId) => localStorage.setItem('nst.currentJob', jobId), id);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(() => /^done/.test(document.querySelector('#status')!.textContent ?? ''));
  }

  test('the download is named photo × painting; "Details" is a readable panel with the raw JSON one click away', async () => {
    await page.setViewportSize(VIEWPORTS[0]);
    await showJob(jobs.panorama);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    assert.equal(download.suggestedFilename(), 'panorama-x-wave.jpg');
    await download.cancel();

    assert.equal(await page.isVisible('#details'), false);
    await page.click('#details-open');
    await page.waitForFunction(() => document.querySelector<HTMLDialogElement>('#details')!.open && /painted in/.test(document.querySelector('#details-list')!.textContent ?? ''));
    const rows = await page.evaluate(() => {
      const out: Record<string, string> = {};
      const items = Array.from(document.querySelectorAll('#details-list > *'));
      for (let i = 0; i + 1 < items.length; i += 2) out[items[i].textContent!] = items[i + 1].textContent!;
      return out;
    });
    assert.equal(rows.Photo, 'panorama.png · 192×64');
    assert.equal(rows['Quick style'], 'wave');
    assert.equal(rows.Result, '128×43 · JPG');
    assert.equal(rows.How, 'quick style');
    assert.match(rows.Settings, /^128 px · 100 % style$/);
    assert.match(rows.Time, /painted in [\d.]+ s/);
    assert.equal(await page.textContent('#details-title'), 'panorama × wave');
    // The raw report: one click away, the job's JSON.
    assert.equal(await page.isVisible('#report'), true);
    const href = (await page.getAttribute('#report', 'href'))!;
    assert.equal(href, `api/jobs/${jobs.panorama}/report`);
    const report = await json(await fetch(`${server.url}/${href}`));
    assert.equal(report.id, jobs.panorama);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-details.png') });
    await page.click('#details-close');
    assert.equal(await page.isVisible('#details'), false);
  });

  test('print sizes: 2,048 and 4,096 px offered for the server, with the time said before painting, paced on this server', async (t) => {
    await page.setViewportSize(VIEWPORTS[0]);
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    const labels = await page.$$eval('#size optgroup option', (os) => os.map((o) => o.textContent));
    assert.deepEqual(labels, ['2,048 px · print', '4,096 px · large print']);
    await page.check('input[name="method"][value="fast"]');
    await page.setInputFiles('#content-file', { name: 'wide.png', mimeType: 'image/png', buffer: await photo(400, 300) });
    // The quick styles here so far painted 128-px pictures: too small to pace a print, so no time is made up.
    await page.selectOption('#size', '2048');
    await page.waitForFunction(() => /^A print: /.test(document.querySelector('#print-note')!.textContent ?? ''));
    assert.match((await page.textContent('#print-note')) ?? '', /^A print: 2048 px, whole, within this server's [\d.]+ GiB; its time is known once this server has finished a painting like it\.$/);
    // A 512-px quick style paces it.
    await page.selectOption('#size', '512');
    await page.click('#start');
    await page.waitForFunction(() => /^done/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 120_000 });
    await page.selectOption('#size', '2048');
    await page.waitForFunction(() => /paced on this server/.test(document.querySelector('#print-note')!.textContent ?? ''));
    const note = (await page.textContent('#print-note'))!;
    assert.match(note, /^A print: 2048 px, whole, within this server's [\d.]+ GiB: up to about \d+ (s|min) \(paced on this server's last 1 painting\)\.$/);
    const estimated = Number(await page.evaluate(() => document.body.dataset.printEstimate));
    // The print itself: painted at 2,048 px, its time against the estimate.
    await page.click('#start');
    await page.waitForFunction(() => /^done in .*: 2048×1536$/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 300_000 });
    const id = /jobs\/([0-9a-f]{16})\//.exec((await page.getAttribute('#download', 'href'))!)![1];
    const job = await json(await fetch(`${server.url}/api/jobs/${id}`));
    t.diagnostic(`quick-style print at 2,048 px: estimated ${estimated.toFixed(1)} s, painted in ${job.result.seconds.toFixed(1)} s`);
    assert.deepEqual([job.result.width, job.result.height], [2048, 1536]);
    assert.ok(estimated > 0 && estimated < 20 * job.result.seconds && estimated > job.result.seconds / 20, `estimated ${estimated} s, took ${job.result.seconds} s`);
    // Painting in this browser has no prints.
    await page.check('input[name="method"][value="browser"]');
    assert.equal(await page.$eval('#size optgroup', (g) => (g as HTMLOptGroupElement).hidden), true);
    assert.equal(await page.isVisible('#print-note'), false);
  });

  test('the convergence chart finds the coarse-to-fine stages and draws each from its own 100 %', async () => {
    await page.goto(`${server.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    // The page's own chart module, loaded beside it.
    // (a string, so that TypeScript leaves the dynamic import to the browser)
    await page.evaluate("import('./js/chart.js').then((m) => { window.chartModule = m; })");
    const out = await page.evaluate(async () => {
      const { stageStarts, LossChart } = (window as any).chartModule;
      // Three stages: each falls, the next (a larger image) starts ~100× higher.
      const rows: [number, number, number, number, number][] = [];
      let i = 0;
      for (const start of [50, 4000, 9e5]) for (let k = 0; k < 10; k++) rows.push([++i, start * 0.1, start * 0.8 * 0.8 ** k, 1, start * 0.8 ** k]);
      const canvas = document.createElement('canvas');
      canvas.width = 420;
      canvas.height = 200;
      const chart = new LossChart(canvas);
      chart.reset(rows);
      chart.draw();
      // The total's line: the darkest pixels of each stage's first and last columns, top to bottom.
      const ctx = canvas.getContext('2d')!;
      const darkRow = (x: number) => {
        const col = ctx.getImageData(Math.round(x), 0, 1, canvas.height).data;
        for (let y = 0; y < canvas.height; y++) if (col[y * 4 + 3] > 200 && col[y * 4] < 80 && col[y * 4 + 1] < 80 && col[y * 4 + 2] < 80) return y;
        return -1;
      };
      return { starts: stageStarts(rows), stages: chart.stages, firstStageTop: darkRow(45), lastStageEnd: darkRow(408) };
    });
    assert.deepEqual(out.starts, [0, 10, 20]);
    assert.equal(out.stages, 3);
    // Every stage starts at 100 % (the top gridline, y = 18) and the last ends lower (0.8^9 = 13 %).
    assert.ok(Math.abs(out.firstStageTop - 18) <= 3, `first stage starts at y ${out.firstStageTop}`);
    assert.ok(out.lastStageEnd > 18 + 40, `the last stage ends at y ${out.lastStageEnd}, well below its start`);
  });
});
