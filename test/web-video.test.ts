/**
 * The web page with a video, in Debian's Chromium (headless, playwright-core): choosing a clip
 * switches to video mode (quick styles on the server only), Paint shows progress in frames, and
 * the result plays in a <video> on the stage and in the gallery. The clip is made here with
 * ffmpeg from a shared photo (96x64, 1 s, 12 fps). A screenshot goes to test-artifacts/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { ARTIFACTS_DIR, json, startTestServer, tempDir } from './helpers/server';
import { SHARED_DIR } from './helpers/reference';

const CHROMIUM = process.env.NST_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];
const HAS_FFMPEG = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
const skip = !fs.existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set NST_CHROMIUM)` : !HAS_FFMPEG ? 'ffmpeg is not installed' : false;
const PHOTO = path.join(SHARED_DIR, 'images', 'content', 'tubingen.jpg');

let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: Browser;
const tmp = tempDir('nst-web-video-');
const clip = path.join(tmp, 'pan.mp4');

before(async () => {
  if (skip) return;
  const r = spawnSync('ffmpeg', [
    '-v', 'error', '-y', '-framerate', '12', '-loop', '1', '-i', PHOTO, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-filter_complex', "[0:v]scale=-2:96,crop=96:64:x='2*n':y=16,format=yuv420p[v]",
    '-map', '[v]', '-map', '1:a', '-r', '12', '-t', '1', '-c:v', 'libx264', '-crf', '12', '-c:a', 'aac', clip,
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  server = await startTestServer({ threads: 1 });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a video chosen in the page is painted with a quick style, shows frames progress, and plays on the stage and in the gallery', { skip }, async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${server.url}/`);
  await page.waitForSelector('body[data-ready="true"]');

  await page.setInputFiles('#content-file', clip);
  await page.waitForSelector('body[data-video-mode="true"]');
  assert.equal(await page.isChecked('input[name="method"][value="fast"]'), true, 'video mode paints with quick styles');
  assert.equal(await page.isDisabled('input[name="method"][value="stylize"]'), true);
  assert.equal(await page.isDisabled('input[name="method"][value="browser"]'), true);
  assert.equal(await page.isVisible('#slot-content video.chosen-video'), true, 'the chosen clip is shown');
  assert.equal(await page.inputValue('#size'), '', 'the clip keeps its own size');

  await page.selectOption('#fast-style', 'wave');
  await page.click('#start');
  await page.waitForFunction(() => /^(done|failed)/.test(document.querySelector('#status')!.textContent ?? ''), undefined, { timeout: 120_000 });
  assert.match((await page.textContent('#status')) ?? '', /^done in [\d.]+ s: 96×64$/);
  assert.ok(Number(await page.getAttribute('body', 'data-progress-events')) >= 1, 'frame progress reached the page');
  const jobId = await page.evaluate(() => localStorage.getItem('nst.currentJob'));
  const job = await json(await fetch(`${server.url}/api/jobs/${jobId}`));
  assert.equal(job.method, 'video');
  assert.equal(job.progress.unit, 'frames');
  assert.equal(job.progress.iterations, 12);

  // The stage plays it.
  await page.waitForFunction(() => {
    const v = document.querySelector<HTMLVideoElement>('#result-video')!;
    return !v.hidden && v.readyState >= 2;
  }, undefined, { timeout: 30_000 });
  assert.equal(await page.isVisible('#preview'), false);

  // So does the gallery card.
  const card = `.card[data-job-id="${jobId}"]`;
  await page.waitForSelector(`${card} video.main`);
  await page.hover(`${card} .art`);
  await page.waitForFunction((sel) => (document.querySelector<HTMLVideoElement>(`${sel} video.main`)?.readyState ?? 0) >= 2, card, { timeout: 30_000 });
  const media = await page.evaluate((sel) => {
    const v = document.querySelector<HTMLVideoElement>(`${sel} video.main`)!;
    return { width: v.videoWidth, height: v.videoHeight, duration: v.duration, poster: v.poster };
  }, card);
  assert.deepEqual([media.width, media.height], [96, 64]);
  assert.ok(Math.abs(media.duration - 1) < 0.15, `duration ${media.duration}`);
  assert.match(media.poster, /\/thumbnail\/result/);

  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-video.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});
