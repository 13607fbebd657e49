/**
 * How a fitted style's one pass is finished (issue 24): painted at a larger scale and resized back
 * (paint-scale.ts), then moved toward the painting's OkLAB palette, taken from the style file's
 * thumbnail (palette-match.ts). Sizes and caps, exact moments, the mixture of palettes, the
 * defaults of the selection (fitted styles only: a pretrained network refuses the flags), and
 * `nst fast`'s path: the plain pass is unchanged at scale 1 without palette, the default moves the
 * output's colours toward the painting's. Small images.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tidy } from '../src/engine';
import { encodeImage, loadImage, RgbImage } from '../src/image';
import { mixColourMoments, oklabMoments } from '../src/image/oklab-colour-match';
import { ARBITRARY_MODEL_SUBDIR, STYLE_VECTOR_LENGTH } from '../src/models';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { paintAtScale, paintedSize, PAINT_SCALE_MAX_SIDE } from '../src/transfer/arbitrary/paint-scale';
import { matchPalette, stylePalette } from '../src/transfer/arbitrary/palette-match';
import { loadArbitraryTransformer } from '../src/transfer/arbitrary/run-fit';
import { CLOSE_UP_FINISH, PLAIN_FINISH } from '../src/transfer/arbitrary/finish-choice';
import { defaultFinishOf, FITTED_STYLISE_DEFAULTS, finishOfSelection, resolveArbitrarySelection } from '../src/transfer/arbitrary/selection';
import { readStyleFile, StyleFile, writeStyleFile } from '../src/transfer/arbitrary/style-file';
import { runArbitraryFast, stylizeWithVector } from '../src/transfer/arbitrary/stylize';
import { resolveFastOptions } from '../src/transfer/fast/fast-options';
import { imageToTensor } from '../src/transfer/image-tensor';
import { engineSuite } from './helpers/numeric';
import { MODELS_DIR, SHARED_DIR } from './helpers/reference';

engineSuite('stylise-finish');

const PHOTO = path.join(SHARED_DIR, 'images', 'content', 'tubingen.jpg');
let dir: string;

/** A w×h image whose left half is one colour and right half another. */
function twoColours(w: number, h: number, left: number[], right: number[]): RgbImage {
  const data = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[c * w * h + y * w + x] = (x < w / 2 ? left : right)[c];
  return { width: w, height: h, data };
}

/** A w×h image whose three channels vary independently (a full-rank colour covariance) around `base`. */
function pattern(w: number, h: number, base: number[], amplitude: number): RgbImage {
  const data = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[c * w * h + y * w + x] = base[c] + amplitude * Math.sin(0.7 * (c + 1) * x + 0.45 * (3 - c) * y + c);
  }
  return { width: w, height: h, data };
}

const distance = (a: number[], b: number[]) => Math.hypot(...a.map((x, i) => x - b[i]));

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-finish-'));
  // A model folder: the shared networks linked in, and one fitted style whose painting is orange and blue.
  for (const sub of ['vgg19', ARBITRARY_MODEL_SUBDIR.split('/')[0]]) fs.symlinkSync(path.join(MODELS_DIR, sub), path.join(dir, sub));
  fs.mkdirSync(path.join(dir, 'fast-style'));
  const thumbnail = `data:image/jpeg;base64,${(await encodeImage(twoColours(32, 32, [0.95, 0.55, 0.1], [0.1, 0.3, 0.8]), 'jpeg', { quality: 95 })).toString('base64')}`;
  await writeStyleFile(path.join(dir, 'fast-style', 'orange-blue.style.json'), {
    name: 'orange-blue',
    model: 'magenta-transformer-separable',
    vector: Array.from({ length: STYLE_VECTOR_LENGTH }, (_, i) => 0.4 * Math.sin(i)),
    painting: { file: 'orange-blue.jpg', sha256: '0'.repeat(64), width: 32, height: 32, thumbnail },
    settings: {},
    created: new Date().toISOString(),
  });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('paint scale', () => {
  test('painted sizes: scaled up to a long side of 2048 at most, never below the photo; down as asked', () => {
    assert.equal(PAINT_SCALE_MAX_SIDE, 2048);
    assert.deepEqual(paintedSize(256, 256, 1.5), { width: 384, height: 384 });
    assert.deepEqual(paintedSize(300, 200, 2), { width: 600, height: 400 });
    assert.deepEqual(paintedSize(1600, 1200, 1.5), { width: 2048, height: 1536 }); // capped at 1.28×
    assert.deepEqual(paintedSize(3000, 2000, 1.5), { width: 3000, height: 2000 }); // already larger: as it is
    assert.deepEqual(paintedSize(256, 128, 0.5), { width: 128, height: 64 });
    assert.deepEqual(paintedSize(256, 256, 1), { width: 256, height: 256 });
  });

  test('the network sees the photo at the painted size; the result comes back at the photo\'s size', () => {
    const photo = twoColours(40, 24, [0.2, 0.4, 0.6], [0.9, 0.8, 0.1]);
    const seen: number[][] = [];
    const identity = (x: ReturnType<typeof imageToTensor>) => {
      seen.push(x.shape);
      return x.mul(1);
    };
    const x = imageToTensor(photo);
    const plain = paintAtScale(x, 1, identity);
    const scaled = paintAtScale(x, 2, identity);
    try {
      assert.deepEqual(seen, [[1, 3, 24, 40], [1, 3, 48, 80]]);
      assert.deepEqual(scaled.shape, [1, 3, 24, 40]);
      // Up (bilinear) then down (area) of two flat halves: the same image but for the seam.
      const diff = tidy(() => scaled.sub(plain).abs().mean().item());
      assert.ok(diff < 0.02, `mean change ${diff}`);
      assert.equal(tidy(() => plain.sub(x).abs().max().item()), 0);
    } finally {
      for (const t of [x, plain, scaled]) t.dispose();
    }
  });
});

describe('palette match', () => {
  const output = pattern(16, 16, [0.5, 0.45, 0.4], 0.1);
  const painting = pattern(12, 12, [0.6, 0.45, 0.35], 0.15);

  test('full match gives the painting\'s OkLAB mean and covariance; half way is the average of the two images; 0 is the output', () => {
    const target = oklabMoments(painting);
    const full = matchPalette(output, target, 1);
    const got = oklabMoments(full);
    assert.ok(distance(got.mean, target.mean) < 1e-4, `mean ${got.mean} vs ${target.mean}`);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) assert.ok(Math.abs(got.cov[a][b] - target.cov[a][b]) < 1e-4, `cov[${a}][${b}]`);
    const half = matchPalette(output, target, 0.5);
    half.data.forEach((v, i) => assert.ok(Math.abs(v - (output.data[i] + full.data[i]) / 2) < 1e-6));
    assert.equal(matchPalette(output, target, 0), output);
  });

  test('a mixture of palettes pools the pixels: two flat colours mixed 1:3', () => {
    const a = oklabMoments(twoColours(4, 4, [0.9, 0.2, 0.1], [0.9, 0.2, 0.1]));
    const b = oklabMoments(twoColours(4, 4, [0.1, 0.3, 0.9], [0.1, 0.3, 0.9]));
    const mixed = mixColourMoments([a, b], [0.25, 0.75]);
    const pooled = oklabMoments({ width: 4, height: 1, data: Float32Array.from([0.9, 0.1, 0.1, 0.1, 0.2, 0.3, 0.3, 0.3, 0.1, 0.9, 0.9, 0.9]) });
    assert.ok(distance(mixed.mean, pooled.mean) < 1e-5);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) assert.ok(Math.abs(mixed.cov[i][j] - pooled.cov[i][j]) < 1e-5);
  });

  test('the palette of a style file is its thumbnail\'s; a file without one is a one-line error', async () => {
    const style = readStyleFile(path.join(dir, 'fast-style', 'orange-blue.style.json'));
    const palette = await stylePalette(style);
    // Orange and blue halves: OkLAB a (red–green) mean near the two colours' average, large b (blue–yellow) spread.
    const ab = oklabMoments(twoColours(32, 32, [0.95, 0.55, 0.1], [0.1, 0.3, 0.8]));
    assert.ok(distance(palette.mean, ab.mean) < 0.02, `${palette.mean} vs ${ab.mean}`);
    assert.ok(palette.cov[2][2] > 0.01, `b variance ${palette.cov[2][2]}`);
    const bare: StyleFile = { ...style, painting: { ...style.painting, thumbnail: '' } };
    await assert.rejects(stylePalette(bare), /has no painting thumbnail .*--palette-match 0/);
  });
});

describe('nst fast with a fitted style', () => {
  test('defaults for fitted styles; a pretrained network refuses the flags; bad values are refused', () => {
    const fitted = resolveArbitrarySelection({ style: 'orange-blue', modelDir: dir })!;
    // Left to the style: a file without a choice of its own gets the fitted styles' default.
    assert.equal(fitted.paintScale, undefined);
    assert.equal(fitted.paletteMatch, undefined);
    const style = readStyleFile(path.join(dir, 'fast-style', 'orange-blue.style.json'));
    assert.deepEqual(finishOfSelection(fitted, [style]), FITTED_STYLISE_DEFAULTS);
    assert.deepEqual(FITTED_STYLISE_DEFAULTS, { paintScale: 1.5, paletteMatch: 0.5 });
    assert.equal(resolveArbitrarySelection({ style: 'wave', modelDir: MODELS_DIR }), undefined);
    assert.throws(() => resolveArbitrarySelection({ style: 'wave', modelDir: MODELS_DIR, paintScale: 2 }), /--paint-scale .* work with fitted styles \('wave' is a trained network\)/);
    assert.throws(() => resolveArbitrarySelection({ style: 'orange-blue', modelDir: dir, paletteMatch: 1.5 }), /--palette-match must be from 0 to 1 \(got 1.5\)/);
    assert.throws(() => resolveArbitrarySelection({ style: 'orange-blue', modelDir: dir, paintScale: 0 }), /--paint-scale must be above 0 and at most 4 \(got 0\)/);
    const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'nst.js'), 'fast', '--style', 'wave', '--palette-match', '1', '-c', PHOTO, '-o', path.join(dir, 'never.png')], {
      encoding: 'utf8',
      env: { ...process.env, NST_DEBUG: '', NST_MODEL_DIR: MODELS_DIR },
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /work with fitted styles \('wave' is a trained network\)/);
    assert.ok(!fs.existsSync(path.join(dir, 'never.png')));
  });

  test('scale 1 without palette is the plain pass; the palette and the scale are applied on top of it', async () => {
    const run = async (name: string, extra: { paintScale?: number; paletteMatch?: number }) => {
      const output = path.join(dir, `${name}.png`);
      await runArbitraryFast(resolveFastOptions({ style: 'orange-blue', modelDir: dir, content: PHOTO, output, size: 64, precision: 'fp32', threads: 1, ...extra }));
      return loadImage(output);
    };
    const style = readStyleFile(path.join(dir, 'fast-style', 'orange-blue.style.json'));
    const palette = await stylePalette(style);
    const plain = await run('plain', { paintScale: 1, paletteMatch: 0 });
    const paletteOnly = await run('palette', { paintScale: 1, paletteMatch: 0.5 });
    const finished = await run('finished', {});
    const net = loadArbitraryTransformer(dir, 'cpu', 'fp32');
    let direct: RgbImage;
    try {
      direct = stylizeWithVector(net, await loadImage(PHOTO, { maxSide: 64 }), Float32Array.from(style.vector));
    } finally {
      net.dispose();
    }
    // The PNGs hold 8 bits per channel.
    const worst = (a: RgbImage, b: RgbImage) => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0);
    const mean = (a: RgbImage, b: RgbImage) => a.data.reduce((m, v, i) => m + Math.abs(v - b.data[i]), 0) / a.data.length;
    assert.ok(worst(direct, plain) <= 0.5 / 255 + 1e-6, `plain pass differs by ${worst(direct, plain)}`);
    assert.ok(worst(matchPalette(direct, palette, 0.5), paletteOnly) <= 0.5 / 255 + 1e-6, 'palette half way');
    // The palette moved the colours; the scale then changed the strokes.
    assert.ok(mean(plain, paletteOnly) > 0.01, `palette change ${mean(plain, paletteOnly)}`);
    assert.ok(mean(paletteOnly, finished) > 0.01, `scale change ${mean(paletteOnly, finished)}`);
    assert.deepEqual([finished.width, finished.height], [plain.width, plain.height]);
  });

  test('a style file without the painting\'s thumbnail paints without the palette, with a warning', async () => {
    const style = readStyleFile(path.join(dir, 'fast-style', 'orange-blue.style.json'));
    await writeStyleFile(path.join(dir, 'fast-style', 'no-thumbnail.style.json'), { ...style, name: 'no-thumbnail', painting: { ...style.painting, thumbnail: '' } });
    const warnings: string[] = [];
    const run = async (name: string, extra: { paletteMatch?: number }) => {
      const output = path.join(dir, `${name}.png`);
      await runArbitraryFast(resolveFastOptions({ style: 'no-thumbnail', modelDir: dir, content: PHOTO, output, size: 64, precision: 'fp32', threads: 1, ...extra }), {
        onProgress: (p) => void (p.type === 'warning' && warnings.push(p.message)),
      });
      return loadImage(output);
    };
    const bare = await run('no-thumbnail', {});
    const scaledOnly = await run('scaled-only', { paletteMatch: 0 });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /has no painting thumbnail .*; painting without the palette$/);
    assert.deepEqual(bare.data, scaledOnly.data);
  });

  test("a style's own finish: the fit's choice in its file, the user's flags over it, a blend's weighted mean; a bad one is refused", async () => {
    const style = readStyleFile(path.join(dir, 'fast-style', 'orange-blue.style.json'));
    await writeStyleFile(path.join(dir, 'fast-style', 'plain-choice.style.json'), { ...style, name: 'plain-choice', finish: PLAIN_FINISH });
    const plainStyle = readStyleFile(path.join(dir, 'fast-style', 'plain-choice.style.json'));
    assert.deepEqual(defaultFinishOf(plainStyle), PLAIN_FINISH);
    assert.deepEqual(defaultFinishOf(style), CLOSE_UP_FINISH);
    const one = resolveArbitrarySelection({ style: 'plain-choice', modelDir: dir })!;
    assert.deepEqual(finishOfSelection(one, [plainStyle]), { paintScale: 1, paletteMatch: 0 });
    const told = resolveArbitrarySelection({ style: 'plain-choice', modelDir: dir, paintScale: 2 })!;
    assert.deepEqual(finishOfSelection(told, [plainStyle]), { paintScale: 2, paletteMatch: 0 });
    const blend = resolveArbitrarySelection({ style: 'plain-choice,orange-blue', styleBlendWeights: [3, 1], modelDir: dir })!;
    assert.deepEqual(finishOfSelection(blend, [plainStyle, style]), { paintScale: 1.125, paletteMatch: 0.125 });
    // nst fast paints the plain-choice style as the plain pass, and says which finish it used.
    const output = path.join(dir, 'own-finish.png');
    const result = await runArbitraryFast(resolveFastOptions({ style: 'plain-choice', modelDir: dir, content: PHOTO, output, size: 64, precision: 'fp32', threads: 1 }));
    assert.deepEqual(result.finish, PLAIN_FINISH);
    const plain = path.join(dir, 'own-finish-plain.png');
    await runArbitraryFast(resolveFastOptions({ style: 'plain-choice', modelDir: dir, content: PHOTO, output: plain, size: 64, precision: 'fp32', threads: 1, paintScale: 1, paletteMatch: 0 }));
    assert.deepEqual((await loadImage(output)).data, (await loadImage(plain)).data);
    // A damaged finish is a one-line error naming the file.
    const bad = path.join(dir, 'bad-finish.style.json');
    fs.writeFileSync(bad, JSON.stringify({ ...plainStyle, finish: { paintScale: 9, paletteMatch: 0 } }));
    assert.throws(() => readStyleFile(bad), /bad-finish\.style\.json: the style's finish needs a paint scale in \(0, 4\] and a palette match in \[0, 1\]$/);
  });
});
