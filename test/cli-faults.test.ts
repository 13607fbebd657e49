/**
 * Faults of the command line found in review, each end to end through bin/nst.js: a batch with
 * unreadable photos exits non-zero, an impossible --size is refused before decoding or compute,
 * an SVG is refused as the server refuses it, the ETA of a coarse-to-fine run counts pixels.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { ProgressReporter } from '../src/cli/progress';
import { stylize, StylizeProgress } from '../src/transfer/gatys';
import { pixelsAtSide, StagedEta } from '../src/transfer/eta';
import { HttpError } from '../src/jobs/http-error';
import { checkImage } from '../src/server/uploads';
import { DEFAULT_MAX_PIXELS, imageMemoryPixels, largestSideWithin } from '../src/image';
import { CONTENT, nst, STYLE, useTempDir } from './helpers/cli';
import { MODELS_DIR } from './helpers/reference';

const dir = useTempDir('nst-cli-faults-');

describe('nst fast on a folder', () => {
  test('an unreadable photo: the good ones are written, the last line says how many failed, exit 2', () => {
    const photos = path.join(dir(), 'photos');
    fs.mkdirSync(photos);
    fs.copyFileSync(CONTENT, path.join(photos, 'a.png'));
    fs.copyFileSync(STYLE, path.join(photos, 'b.png'));
    fs.writeFileSync(path.join(photos, 'c.jpg'), 'not a photo');
    const out = path.join(dir(), 'painted');
    const r = nst(['fast', '--style', 'wave', '--model-dir', MODELS_DIR, '-c', photos, '-o', out, '--size', '32', '--threads', '2']);
    assert.equal(r.status, 2, r.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), ['a.png', 'b.png']);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[lines.length - 1], /^nst: error: 1 of 3 photos could not be stylised \(see the warning above\); the other 2 were written$/);
    assert.ok(lines.some((l) => /skipping .*c\.jpg/.test(l)), r.stderr);
  });
});

describe('an impossible --size', () => {
  const maxPixelsReason = (limit: number) => `the limit of ${limit} pixels \\(--max-pixels\\)`;
  const refusal = (option: string, size: number, w: number, h: number, reason: string, largest: number) =>
    new RegExp(`^nst: error: ${option} ${size} makes '.*content\\.png' ${w}x${h} \\(${w * h} pixels\\), over ${reason}; the largest ${option} that fits it is ${largest}\n$`);
  // With no --max-pixels: the default, or what this machine's memory holds if that is lower.
  const memory = imageMemoryPixels();
  const defaultLimit = Math.min(DEFAULT_MAX_PIXELS, memory);
  const defaultReason =
    DEFAULT_MAX_PIXELS <= memory ? maxPixelsReason(DEFAULT_MAX_PIXELS) : `the ${memory} pixels whose buffers fit in this machine's [\\d.]+ GiB of memory`;
  // content.png is 128x96 (with 50,000,000 pixels: 8164x6123 fits, 8165x6124 does not).
  const defaultLargest = largestSideWithin(128, 96, defaultLimit);

  test('nst stylize --size 100000 refuses the size (not the photo) in one line, exit 2, nothing written', () => {
    const out = path.join(dir(), 'huge.png');
    const r = nst(['stylize', '-c', CONTENT, '-s', STYLE, '-o', out, '--size', '100000', '--iterations', '1', '--model-dir', MODELS_DIR]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, refusal('--size', 100000, 100000, 75000, defaultReason, defaultLargest));
    assert.ok(!fs.existsSync(out));
  });

  test('nst stylize --quality standard: the full-size stage is checked before the coarse stages run', () => {
    // Stages 128 and 256 px: 128x96 fits in 20,000 pixels, 256x192 does not (163x122 does).
    const out = path.join(dir(), 'staged.png');
    const r = nst(['stylize', '-c', CONTENT, '-s', STYLE, '-o', out, '--size', '256', '--quality', 'standard', '--iterations', '1', '--max-pixels', '20000', '--threads', '2', '--model-dir', MODELS_DIR]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, refusal('--size', 256, 256, 192, maxPixelsReason(20000), 163));
    assert.doesNotMatch(r.stderr, /stylize \d+\//, 'no iteration ran');
    assert.ok(!fs.existsSync(out));
  });

  test('nst fast --size 100000: the same one line, exit 2, nothing written', () => {
    const out = path.join(dir(), 'huge-fast.png');
    const r = nst(['fast', '--style', 'wave', '--model-dir', MODELS_DIR, '-c', CONTENT, '-o', out, '--size', '100000']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, refusal('--size', 100000, 100000, 75000, defaultReason, defaultLargest));
    assert.ok(!fs.existsSync(out));
  });
});

describe('an SVG', () => {
  test('the CLI refuses it as the server does: one line naming the same accepted formats', async () => {
    const svg = path.join(dir(), 'drawing.svg');
    fs.writeFileSync(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="red"/></svg>');
    const out = path.join(dir(), 'from-svg.png');
    const r = nst(['stylize', '-c', svg, '-s', STYLE, '-o', out, '--size', '32', '--iterations', '1', '--model-dir', MODELS_DIR]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^nst: error: cannot read image '.*drawing\.svg': not an image in a supported format \(JPEG, PNG, WebP, GIF, TIFF or AVIF\)\n$/);
    assert.ok(!fs.existsSync(out));
    const f = nst(['fast', '--style', 'wave', '--model-dir', MODELS_DIR, '-c', svg, '-o', out]);
    assert.equal(f.status, 2, f.stderr);
    assert.match(f.stderr, /not an image in a supported format \(JPEG, PNG, WebP, GIF, TIFF or AVIF\)\n$/);
    await assert.rejects(checkImage(svg, 'content', 50_000_000), (err: unknown) => {
      assert.ok(err instanceof HttpError);
      assert.equal(err.statusCode, 415);
      assert.match(err.message, /^the content file is not a supported image \(JPEG, PNG, WebP, GIF, TIFF or AVIF\)$/);
      return true;
    });
  });
});

describe('the ETA of a coarse-to-fine run', () => {
  test('after the coarse stages it is the pixel-work left over the measured pixel rate', () => {
    // --quality standard at 512 px on a 4:3 photo: 128 → 256 → 512, caps 40, 20, 150.
    const pixels = [128, 256, 512].map((side) => pixelsAtSide(side, 640, 480));
    assert.deepEqual(pixels, [128 * 96, 256 * 192, 512 * 384]);
    const eta = new StagedEta([
      { pixels: pixels[0], evaluations: 40 },
      { pixels: pixels[1], evaluations: 20 },
      { pixels: pixels[2], evaluations: 150 },
    ]);
    // Stage 0 converges after 30 of its 40 evaluations, stage 1 runs its 20: 15 s in all.
    for (let i = 1; i <= 30; i++) eta.secondsLeft(0, i, (i / 30) * 5, i === 30);
    for (let i = 1; i < 20; i++) eta.secondsLeft(1, i, 5 + (i / 20) * 10);
    const left = eta.secondsLeft(1, 20, 15, true);
    const rate = (30 * pixels[0] + 20 * pixels[1]) / 15; // pixel-evaluations per second
    assert.ok(Math.abs(left - (150 * pixels[2]) / rate) < 1e-9, `ETA ${left}`);
    // 327 s, where counting evaluations alone said (150 left) / (50 done / 15 s) = 45 s.
    assert.equal(Math.round(left), 327);
    // Midway through a stage, the unused part of its cap is still work to do.
    const mid = new StagedEta([{ pixels: 100, evaluations: 10 }, { pixels: 400, evaluations: 10 }]);
    assert.ok(Math.abs(mid.secondsLeft(0, 5, 5) - (5 * 100 + 10 * 400) / (500 / 5)) < 1e-9);
    assert.equal(mid.secondsLeft(1, 10, 60, true), 0);
  });

  test('stylize reports it: at the end of the coarse stage, the fine stage\'s pixels over the measured rate', async () => {
    const events: StylizeProgress[] = [];
    await stylize(
      { content: CONTENT, style: STYLE, output: path.join(dir(), 'eta.png'), scales: [32, 64], scaleIterations: [4, 4], threads: 2, seed: 1, modelDir: MODELS_DIR, report: false },
      { onProgress: (p) => events.push(p) },
    );
    assert.equal(events.length, 8);
    // content.png is 128x96: stages of 32x24 and 64x48 pixels, so the fine stage's 4 evaluations
    // are 4x the work of the coarse stage's 4.
    const endOfCoarse = events[3];
    assert.deepEqual([endOfCoarse.stage, endOfCoarse.iteration], [0, 4]);
    const expected = (4 * 64 * 48) / ((4 * 32 * 24) / endOfCoarse.elapsedSeconds);
    assert.ok(Math.abs(endOfCoarse.etaSeconds - expected) < 1e-6 * expected, `ETA ${endOfCoarse.etaSeconds} s, expected ${expected} s (elapsed ${endOfCoarse.elapsedSeconds} s)`);
    assert.equal(events[7].etaSeconds, 0);
  });

  test("on a terminal the bar shows the run's ETA, not one of its own from counting iterations", () => {
    // A terminal-like stream: cli-progress draws on anything that says it is a TTY.
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 200 }) as unknown as NodeJS.WriteStream;
    let drawn = '';
    (stream as unknown as PassThrough).on('data', (d: Buffer) => (drawn += d.toString()));
    const bar = new ProgressReporter('stylize', 0, stream);
    bar.start(210);
    bar.update({ iteration: 50, iterations: 210, iterationsPerSecond: 3.33, etaSeconds: 67, values: { total: 1 } });
    bar.stop();
    assert.match(drawn, /50\/210 \| 3\.33 it\/s \| ETA 1m07s \|/);
  });
});
