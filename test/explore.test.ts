/**
 * `nst explore`: the experiment definitions, the contact-sheet geometry and labels, tiny real
 * runs of content-layers (in the worker) and style-layers (in this thread), cancellation keeping
 * the cells done, and the command line (a real run, bad input → one line, exit 2).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { NstError } from '../src/errors';
import { RgbImage } from '../src/image';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { PRESET_NAMES } from '../src/transfer/gatys';
import {
  CONTENT_RECONSTRUCTION_LAYERS,
  explore,
  ExploreOptions,
  ExploreProgress,
  formatRatio,
  renderContactSheet,
  resolveExploreOptions,
  runExplore,
  sheetLayout,
  STYLE_SYNTHESIS_LAYERS,
  SHEET_GAP,
} from '../src/transfer/explore';
import { blockFontGlyphs } from '../src/transfer/explore/block-font';
import { MODELS_DIR, REFERENCE_DIR } from './helpers/reference';

const NST = path.join(PROJECT_ROOT, 'bin', 'nst.js');
const CONTENT = path.join(REFERENCE_DIR, 'content.png'); // 128×96
const STYLE = path.join(REFERENCE_DIR, 'style.png');
let dir: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-explore-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function options(experiment: string, name: string, extra: Partial<ExploreOptions> = {}): ExploreOptions {
  return { experiment, content: CONTENT, style: STYLE, output: path.join(dir, name), size: 40, iterations: 8, threads: 2, seed: 1, modelDir: MODELS_DIR, ...extra };
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** Sheet size from the geometry rule: cells + gaps across; title + (cell + label + gap) per row down. */
function expectedSize(cells: number, columns: number, cellW: number, cellH: number): [number, number] {
  const l = sheetLayout(cells, cellW, cellH, { columns });
  const rows = Math.ceil(cells / columns);
  return [columns * cellW + (columns + 1) * SHEET_GAP, l.titleHeight + SHEET_GAP + rows * (cellH + l.labelHeight + SHEET_GAP)];
}

describe('explore options', () => {
  test('each experiment resolves to the cells it promises', () => {
    const cl = resolveExploreOptions(options('content-layers', 'a', { style: undefined }));
    assert.deepEqual(cl.cells.map((c) => c.options.contentLayers), CONTENT_RECONSTRUCTION_LAYERS.map((l) => [l]));
    for (const c of cl.cells) {
      assert.equal(c.options.init, 'noise');
      assert.equal(c.options.styleWeight, 0);
      assert.ok(c.options.contentWeight > 0);
    }
    const sl = resolveExploreOptions(options('style-layers', 'b'));
    sl.cells.forEach((c, i) => {
      assert.deepEqual(c.options.styleLayers, STYLE_SYNTHESIS_LAYERS.slice(0, i + 1));
      assert.deepEqual(c.options.contentLayers, []);
      assert.equal(c.options.contentWeight, 0);
    });
    assert.deepEqual(resolveExploreOptions(options('init', 'c')).cells.map((c) => c.options.init), ['content', 'style', 'noise']);
    assert.deepEqual(resolveExploreOptions(options('content-layer-choice', 'd')).cells.map((c) => c.options.contentLayers), [['relu2_2'], ['relu4_2'], ['relu5_2']]);
    assert.deepEqual(resolveExploreOptions(options('presets', 'e')).cells.map((c) => c.options.preset), PRESET_NAMES);
    const w = resolveExploreOptions(options('weights', 'f.png', { ratios: [10, 2500] }));
    assert.deepEqual(w.cells.map((c) => c.options.styleWeight / c.options.contentWeight), [10, 2500]);
    assert.deepEqual(w.cells.map((c) => c.label), ['style/content 1e1', 'style/content 2500']);
    assert.equal(w.sheet, path.join(dir, 'f.png'));
    assert.equal(w.json, path.join(dir, 'f.json'));
    assert.deepEqual(resolveExploreOptions(options('weights', 'g')).ratios, [1e1, 1e2, 1e3, 1e4]);
    assert.equal(formatRatio(1e4), '1e4');
    assert.equal(formatRatio(25000), '2.5e4');
  });

  test('each experiment asks only for the images it uses', () => {
    // content-layers reconstructs the photo alone; style-layers synthesises the style alone.
    const cl = resolveExploreOptions(options('content-layers', 'u1', { style: undefined }));
    assert.equal(cl.cells.length, CONTENT_RECONSTRUCTION_LAYERS.length);
    const sl = resolveExploreOptions(options('style-layers', 'u2', { content: undefined }));
    assert.equal(sl.cells.length, STYLE_SYNTHESIS_LAYERS.length);
    const cases: [string, Partial<ExploreOptions>, RegExp][] = [
      ['content-layers', {}, /^--style is not used by content-layers/],
      ['content-layers', { content: undefined, style: undefined }, /^a content image is required \(--content\)$/],
      ['style-layers', { style: undefined }, /^a style image is required \(--style\)$/],
      ['init', { style: undefined }, /^a style image is required \(--style\)$/],
      ['weights', { content: undefined }, /^a content image is required \(--content\)$/],
    ];
    for (const [experiment, extra, message] of cases) {
      assert.throws(
        () => resolveExploreOptions(options(experiment, 'bad', extra)),
        (err: Error) => err instanceof NstError && message.test(err.message),
        `${experiment} ${JSON.stringify(extra)}`,
      );
    }
  });

  test('bad input is one NstError line', () => {
    const cases: [string, Partial<ExploreOptions>, RegExp][] = [
      ['nope', {}, /^unknown experiment 'nope' \(expected content-layers, .*presets\)$/],
      ['weights', { ratios: [1e2, -1] }, /^--ratios must be positive numbers .*got -1/],
      ['weights', { ratios: [0] }, /^--ratios must be positive/],
      ['weights', { ratios: [NaN] }, /^--ratios must be positive/],
      ['weights', { ratios: [] }, /^--ratios needs at least one/],
      ['content-layers', { style: undefined, ratios: [10] }, /^--ratios applies to the weights experiment only/],
      ['style-layers', { init: 'content' }, /^--init does not apply to style-layers/],
      ['content-layers', { style: undefined, content: path.join(dir, 'missing.jpg') }, /photo .*does not exist/],
      ['content-layers', { style: undefined, size: 0 }, /--size must be a positive integer/],
      ['content-layers', { style: undefined, output: path.join(dir, 'no', 'such', 'dir', 'x') }, /cannot write/],
    ];
    for (const [experiment, extra, message] of cases) {
      assert.throws(
        () => resolveExploreOptions(options(experiment, 'bad', extra)),
        (err: Error) => err instanceof NstError && message.test(err.message) && !err.message.includes('\n'),
        `${experiment} ${JSON.stringify(extra)}`,
      );
    }
  });
});

describe('contact sheet', () => {
  test('the glyphs of the block font are 7 rows of 5 pixels', () => {
    for (const [c, g] of Object.entries(blockFontGlyphs())) assert.match(g, /^([.#]{5} ){6}[.#]{5}$/, `glyph '${c}'`);
  });

  test('geometry follows the rule, and labels leave ink with either font', async () => {
    const image = (w: number, h: number, v: number): RgbImage => ({ width: w, height: h, data: new Float32Array(3 * w * h).fill(v) });
    const cells = [image(48, 36, 1), image(48, 30, 0.5), image(48, 36, 1), image(48, 36, 1), image(48, 36, 1)].map((im, i) => ({ image: im, lines: [`cell ${i}`, 'x'] }));
    for (const font of ['svg', 'block'] as const) {
      const { png, layout } = await renderContactSheet('title', cells, 48, 36, { columns: 3, font });
      const [w, h] = expectedSize(5, 3, 48, 36);
      assert.deepEqual([layout.width, layout.height, layout.rows], [w, h, 2]);
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height], [w, h]);
      // Dark pixels inside the first label strip (white cell images, light grey strip, dark text).
      let ink = 0;
      for (let y = SHEET_GAP + layout.titleHeight + 36; y < SHEET_GAP + layout.titleHeight + 36 + layout.labelHeight; y++) {
        for (let x = SHEET_GAP; x < SHEET_GAP + 48; x++) if (data[(y * info.width + x) * info.channels] < 100) ink++;
      }
      assert.ok(ink > 10, `${font}: ${ink} dark pixels in the label strip`);
    }
  });
});

describe('explore runs', () => {
  test('content-layers (worker): one cell per layer, losses fall, relu1_2 reconstructs better than relu5_2', async () => {
    const events: ExploreProgress[] = [];
    const r = await explore(options('content-layers', 'cl', { style: undefined }), { onProgress: (p) => events.push(p) });
    const [w, h] = expectedSize(6, 6, 40, 30);
    assert.deepEqual([r.width, r.height, r.columns, r.cellWidth, r.cellHeight], [w, h, 6, 40, 30]);
    const meta = await sharp(r.sheet).metadata();
    assert.deepEqual([meta.width, meta.height], [w, h]);
    assert.equal(events.filter((e) => e.event === 'cell').length, 5);
    assert.equal(events.filter((e) => e.event === 'iteration').length, 40);

    const json = readJson(path.join(dir, 'cl.json'));
    assert.equal(json.experiment, 'content-layers');
    assert.equal(json.cancelled, false);
    assert.equal(json.cells.length, 5);
    json.cells.forEach((c: any, i: number) => {
      const layer = CONTENT_RECONSTRUCTION_LAYERS[i];
      assert.equal(c.label, layer);
      assert.deepEqual(Object.keys(c.losses.content), [layer]);
      assert.deepEqual(c.losses.style, {}, 'the zero-weighted style term is left out');
      assert.ok(finite(c.losses.total) && finite(c.losses.content[layer]) && finite(c.seconds) && finite(c.pixelMseToContent), JSON.stringify(c));
      assert.ok(c.losses.total < c.initialLoss, `${layer}: ${c.initialLoss} → ${c.losses.total}`);
      assert.deepEqual([c.row, c.column, c.iterations], [0, i + 1, 8]);
    });
    const mse = Object.fromEntries(json.cells.map((c: any) => [c.label, c.pixelMseToContent]));
    assert.ok(mse.relu1_2 < 0.7 * mse.relu5_2, `pixel MSE relu1_2 ${mse.relu1_2} vs relu5_2 ${mse.relu5_2}`);
  });

  test('style-layers (this thread): cell i has a style loss on i+1 layers and no content loss', async () => {
    const r = await runExplore(resolveExploreOptions(options('style-layers', 'sl', { size: 32, iterations: 6 })));
    const [w, h] = expectedSize(6, 6, 32, 24);
    assert.deepEqual([r.width, r.height], [w, h]);
    const json = readJson(path.join(dir, 'sl.json'));
    assert.equal(json.cells.length, 5);
    json.cells.forEach((c: any, i: number) => {
      assert.deepEqual(Object.keys(c.losses.style), STYLE_SYNTHESIS_LAYERS.slice(0, i + 1));
      assert.deepEqual(c.losses.content, {});
      assert.ok(Object.values(c.losses.style).every(finite) && c.losses.total < c.initialLoss, JSON.stringify(c.losses));
    });
  });

  test('cancelling keeps the cells done so far and writes their sheet', async () => {
    const controller = new AbortController();
    const r = await explore(options('weights', 'cancel', { size: 32, iterations: 6, ratios: [1e2, 1e3, 1e4] }), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.cell === 1 && p.iteration === 1) controller.abort();
      },
    });
    assert.equal(r.cancelled, true);
    assert.equal(r.cellsPlanned, 3);
    assert.deepEqual(r.cells.map((c) => [c.label, c.cancelled]), [['style/content 1e2', false], ['style/content 1e3', true]]);
    assert.ok(r.cells[1].iterations >= 1 && r.cells[1].iterations < 6, `stopped at ${r.cells[1].iterations}`);
    const [w, h] = expectedSize(4, 4, 32, 24);
    const meta = await sharp(r.sheet).metadata();
    assert.deepEqual([meta.width, meta.height], [w, h]);
    const json = readJson(r.json);
    assert.equal(json.cancelled, true);
    assert.equal(json.cells.length, 2);
  });
});

describe('nst explore', () => {
  const nst = (args: string[]) => spawnSync(process.execPath, [NST, ...args], { encoding: 'utf8', env: { ...process.env, NST_DEBUG: '' } });

  test('a tiny weights sweep writes the sheet and the JSON', async () => {
    const out = path.join(dir, 'sweep');
    const r = nst(['explore', 'weights', '-c', CONTENT, '-s', STYLE, '-o', out, '--size', '32', '--iterations', '5', '--ratios', '1e1,1e3', '--seed', '2', '--threads', '2', '--model-dir', MODELS_DIR]);
    assert.equal(r.status, 0, r.stderr);
    const [w, h] = expectedSize(4, 4, 32, 24);
    assert.match(r.stderr, new RegExp(`wrote .*sweep\\.png \\(${w}x${h}, 2 input \\+ 2 result cells of 32x24 in 1 row\\(s\\); 2 cells, ratios 1e1,1e3, .* s, seed 2, 2 threads`));
    assert.match(r.stderr, /wrote .*sweep\.json\n$/);
    const json = readJson(`${out}.json`);
    assert.deepEqual(json.cells.map((c: any) => c.settings.styleWeight / c.settings.contentWeight), [10, 1000]);
    assert.ok(json.cells.every((c: any) => finite(c.losses.total) && Object.values(c.losses.style).every(finite)));
  });

  test('content-layers needs no --style, style-layers no --content (the style is synthesised at its own size)', () => {
    const common = ['--size', '32', '--iterations', '2', '--seed', '3', '--threads', '2', '--model-dir', MODELS_DIR];
    const cl = nst(['explore', 'content-layers', '-c', CONTENT, '-o', path.join(dir, 'only-content'), ...common]);
    assert.equal(cl.status, 0, cl.stderr);
    assert.deepEqual(readJson(path.join(dir, 'only-content.json')).cells.length, 5);
    const sl = nst(['explore', 'style-layers', '-s', STYLE, '-o', path.join(dir, 'only-style'), ...common]);
    assert.equal(sl.status, 0, sl.stderr);
    // style.png is 128×80: cells of 32×20.
    assert.match(sl.stderr, /1 input \+ 5 result cells of 32x20 /);
    const json = readJson(path.join(dir, 'only-style.json'));
    assert.equal(json.cells.length, 5);
    assert.equal(json.settings.content, undefined);
    const unused = nst(['explore', 'content-layers', '-c', CONTENT, '-s', STYLE, '-o', path.join(dir, 'unused'), ...common]);
    assert.equal(unused.status, 2, unused.stderr);
    assert.match(unused.stderr, /^nst: error: --style is not used by content-layers .*\n$/);
  });

  test('Ctrl-C stops the current cell and writes the sheet of the cells done (exit 130)', async () => {
    const out = path.join(dir, 'sigint');
    const child = spawn(process.execPath, [NST, 'explore', 'init', '-c', CONTENT, '-s', STYLE, '-o', out, '--size', '32', '--iterations', '100000', '--print-every', '1', '--threads', '1', '--seed', '4', '--model-dir', MODELS_DIR]);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/cell 1\/3 init content \| it 3\//.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 130, stderr);
    assert.match(stderr, /stopping after this iteration/);
    assert.match(stderr, /stopped: 0 of 3 cells done/);
    const json = readJson(`${out}.json`);
    assert.equal(json.cancelled, true);
    assert.equal(json.cells.length, 1);
    assert.equal(json.cells[0].cancelled, true);
    assert.ok(json.cells[0].iterations >= 3, `stopped at ${json.cells[0].iterations}`);
    const [w, h] = expectedSize(3, 3, 32, 24);
    const meta = await sharp(`${out}.png`).metadata();
    assert.deepEqual([meta.width, meta.height], [w, h]);
  });

  test('bad input: one line on stderr, exit code 2, nothing written', () => {
    const base = ['-c', CONTENT, '-s', STYLE, '-o', path.join(dir, 'bad')];
    const cases: [string[], RegExp][] = [
      [['explore', 'nope', ...base], /^nst: error: unknown experiment 'nope'/],
      [['explore'], /^nst: error: name an experiment/],
      [['explore', 'weights', ...base, '--ratios', '1e2,abc'], /^nst: error: --ratios must be a number \(got 'abc'\)/],
      [['explore', 'weights', ...base, '--ratios', '0,10'], /^nst: error: --ratios must be positive numbers/],
      [['explore', 'content-layers', '-c', CONTENT, '-o', path.join(dir, 'bad'), '--ratios', '10'], /unknown option '--ratios'/],
      [['explore', 'content-layers', '-c', path.join(dir, 'missing.jpg')], /^nst: error: photo .* does not exist/],
    ];
    for (const [args, message] of cases) {
      const r = nst(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.ok(!fs.existsSync(path.join(dir, 'bad.png')) && !fs.existsSync(path.join(dir, 'bad.json')));
  });
});
