/**
 * Fitted style vectors: a short fit through the frozen transformer lowers the style loss of a
 * held-out photo by at least half from the zero vector; the style file refuses a wrong length
 * and a corrupted value (checksum); `nst styles fit` writes a style that `nst styles` lists and
 * `nst fast --style` paints with; `nst fast --style-image` fits once and then uses its cache;
 * bad input is one line on stderr and exit code 2.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { keep, Tensor, tidy } from '../src/engine';
import { ArbitraryStyleTransformer, ARBITRARY_MODEL_SUBDIR, STYLE_VECTOR_LENGTH, Vgg19 } from '../src/models';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { contractLosses, fitStage, FitLossSettings } from '../src/transfer/arbitrary/fit';
import { loadSquare } from '../src/transfer/arbitrary/run-fit';
import { readStyleFile, writeStyleFile } from '../src/transfer/arbitrary/style-file';
import { imageToTensor } from '../src/transfer/image-tensor';
import { engineSuite } from './helpers/numeric';
import { MODELS_DIR, SHARED_DIR } from './helpers/reference';

engineSuite('arbitrary-style');

const NST = path.join(PROJECT_ROOT, 'bin', 'nst.js');
const IMAGES = path.join(SHARED_DIR, 'images');
const PAINTING = path.join(IMAGES, 'style', 'the_scream.jpg');
const SETTINGS: FitLossSettings = {
  contentWeight: 5,
  styleWeight: 100,
  tvWeight: 1e-3,
  contentLayers: ['relu4_2'],
  styleLayers: ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'],
};
let dir: string;
let photosDir: string;

function nst(args: string[]) {
  return spawnSync(process.execPath, [NST, ...args], { encoding: 'utf8', env: { ...process.env, NST_DEBUG: '', NST_MODEL_DIR: dir, NST_CACHE_DIR: dir } });
}

const styleSum = (l: { style: Record<string, number> }) => Object.values(l.style).reduce((a, b) => a + b, 0);

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-arb-'));
  // Two small training photos (the CLI fits on a folder).
  photosDir = path.join(dir, 'photos');
  fs.mkdirSync(photosDir);
  for (const name of ['chicago.jpg', 'stata.jpg']) fs.copyFileSync(path.join(IMAGES, 'content', name), path.join(photosDir, name));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('fitting a style vector', () => {
  test('a short fit lowers the style loss of a held-out photo by at least half from the zero vector', async () => {
    const size = 64;
    const [painting, train, heldOut] = await Promise.all(
      [PAINTING, path.join(IMAGES, 'content', 'chicago.jpg'), path.join(IMAGES, 'content', 'tubingen.jpg')].map((f) => loadSquare(f, size)),
    );
    const net = ArbitraryStyleTransformer.load(path.join(MODELS_DIR, ARBITRARY_MODEL_SUBDIR, 'model.json'));
    const vgg = Vgg19.load({ upTo: 'relu5_1' });
    const tensors: Tensor[] = [painting, train, heldOut].map((im) => keep(tidy(() => imageToTensor(im))));
    const [p, t, h] = tensors;
    try {
      const zeros = new Float32Array(STYLE_VECTOR_LENGTH);
      // One stage at the contract weights (the two-stage default recipe needs more evaluations).
      const steps: number[] = [];
      const second = fitStage(net, vgg, { painting: p, photos: [t], evaluations: 24, contentScale: 1 }, SETTINGS, zeros, 0, { onStep: (s) => steps.push(s.losses.total) });
      assert.equal(second.evaluations, 24);
      assert.ok(second.best.total <= Math.min(...steps) + 1e-6 * Math.abs(second.best.total), 'the best vector seen is returned');
      const [before] = contractLosses(net, vgg, zeros, p, [h], SETTINGS);
      const [afterFit] = contractLosses(net, vgg, second.vector, p, [h], SETTINGS);
      assert.ok(styleSum(afterFit) <= 0.5 * styleSum(before), `held-out style loss ${styleSum(before)} → ${styleSum(afterFit)}`);
      assert.ok(afterFit.total < before.total, `held-out total ${before.total} → ${afterFit.total}`);
    } finally {
      for (const x of tensors) x.dispose();
      net.dispose();
      vgg.dispose();
    }
  });
});

describe('style files', () => {
  const base = () => ({
    name: 'x',
    model: 'magenta-transformer-separable' as const,
    vector: Array.from({ length: STYLE_VECTOR_LENGTH }, (_, i) => Math.sin(i)),
    painting: { file: 'p.jpg', sha256: '0'.repeat(64), width: 1, height: 1, thumbnail: '' },
    settings: {},
    created: new Date().toISOString(),
  });

  test('round trip keeps the numbers as float32; a wrong length or a changed value is refused', async () => {
    const file = path.join(dir, 'round.style.json');
    await writeStyleFile(file, base());
    const back = readStyleFile(file);
    assert.deepEqual(back.vector, Array.from(Float32Array.from(base().vector)));
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...json, vector: json.vector.slice(0, 99) }));
    assert.throws(() => readStyleFile(file), /the style vector has 99 numbers, expected 100/);
    const changed = [...json.vector];
    changed[42] += 1e-3;
    fs.writeFileSync(file, JSON.stringify({ ...json, vector: changed }));
    assert.throws(() => readStyleFile(file), /does not match its checksum/);
  });

  test('nst fast with a damaged style file, and nst styles fit with a painting that is not an image: one line, exit 2', async () => {
    const styles = path.join(dir, 'fast-style');
    fs.mkdirSync(styles, { recursive: true });
    const file = path.join(styles, 'damaged.style.json');
    await writeStyleFile(file, base());
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.vector[0] = 12;
    fs.writeFileSync(file, JSON.stringify(json));
    const out = path.join(dir, 'never.png');
    const r = nst(['fast', '--style', 'damaged', '-c', path.join(IMAGES, 'content', 'tubingen.jpg'), '-o', out, '--size', '64']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^nst: error: .*damaged\.style\.json: the style vector does not match its checksum/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!fs.existsSync(out));
    fs.rmSync(file);

    const notImage = path.join(dir, 'painting.jpg');
    fs.writeFileSync(notImage, 'this is not a picture');
    const f = nst(['styles', 'fit', '--style-image', notImage, '--name', 'nope', '--photos', photosDir]);
    assert.equal(f.status, 2, f.stderr);
    assert.equal(f.stderr.trim().split('\n').length, 1, f.stderr);
    assert.match(f.stderr, /^nst: error: .*painting\.jpg/);
    assert.ok(!fs.existsSync(path.join(styles, 'nope.style.json')));
  });
});

describe('nst styles fit, nst styles, nst fast', () => {
  test('a fitted style is listed and paints photos; --style-image fits once, then uses the cache', async () => {
    const fit = nst(['styles', 'fit', '--style-image', PAINTING, '--name', 'scream-test', '--photos', photosDir, '--photo-count', '1', '--stage-sizes', '64', '--evaluations', '4', '--content-scales', '1', '--threads', '2']);
    assert.equal(fit.status, 0, fit.stderr);
    assert.match(fit.stderr, /wrote .*fast-style\/scream-test\.style\.json .*4 evaluations/);
    const style = readStyleFile(path.join(dir, 'fast-style', 'scream-test.style.json'));
    assert.equal(style.painting.file, 'the_scream.jpg');
    assert.match(style.painting.thumbnail, /^data:image\/jpeg;base64,/);
    assert.equal((style.settings as { evaluations: number }).evaluations, 4);

    const list = nst(['styles', '--json']);
    assert.equal(list.status, 0, list.stderr);
    const entry = (JSON.parse(list.stdout) as { name: string; kind: string }[]).find((s) => s.name === 'scream-test');
    assert.equal(entry?.kind, 'fitted');

    const out = path.join(dir, 'out.png');
    const content = path.join(IMAGES, 'content', 'tubingen.jpg');
    const r = nst(['fast', '--style', 'scream-test', '-c', content, '-o', out, '--size', '70', '--threads', '2']);
    assert.equal(r.status, 0, r.stderr);
    const meta = await sharp(out).metadata();
    assert.equal(Math.max(meta.width!, meta.height!), 70);

    // Blending two fitted styles: the weights must match the styles.
    const bad = nst(['fast', '--style', 'scream-test,scream-test', '--style-blend-weights', '1', '-c', content, '-o', out]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--style-blend-weights needs 2 values/);

    const cached = path.join(dir, 'out-cached.png');
    const first = nst(['fast', '--style-image', PAINTING, '--photos', photosDir, '--fit-evaluations', '1,1', '-c', content, '-o', cached, '--size', '64', '--threads', '2']);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /fit 2\/2/);
    const cacheFiles = fs.readdirSync(path.join(dir, 'style-cache'));
    assert.equal(cacheFiles.length, 1);
    const second = nst(['fast', '--style-image', PAINTING, '--photos', photosDir, '--fit-evaluations', '1,1', '-c', content, '-o', cached, '--size', '64', '--threads', '2']);
    assert.equal(second.status, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /fit \d/);
    assert.ok(fs.existsSync(cached));
  });

  test('--model-dir of nst styles fit, after or before fit, is where the networks are read and the style is written', () => {
    // A model folder of its own: the shared networks linked in, no styles.
    const own = path.join(dir, 'own-models');
    fs.mkdirSync(own, { recursive: true });
    for (const sub of ['vgg19', ARBITRARY_MODEL_SUBDIR.split('/')[0]]) {
      if (!fs.existsSync(path.join(own, sub))) fs.symlinkSync(path.join(MODELS_DIR, sub), path.join(own, sub));
    }
    const fitArgs = ['--style-image', PAINTING, '--photos', photosDir, '--photo-count', '1', '--stage-sizes', '64', '--evaluations', '1', '--content-scales', '1', '--threads', '2'];
    const after = nst(['styles', 'fit', '--name', 'own-after', ...fitArgs, '--model-dir', own]);
    assert.equal(after.status, 0, after.stderr);
    const before = nst(['styles', '--model-dir', own, 'fit', '--name', 'own-before', ...fitArgs]);
    assert.equal(before.status, 0, before.stderr);
    for (const name of ['own-after', 'own-before']) {
      assert.ok(fs.existsSync(path.join(own, 'fast-style', `${name}.style.json`)), `${name} is in --model-dir`);
      assert.ok(!fs.existsSync(path.join(dir, 'fast-style', `${name}.style.json`)), `${name} is not in $NST_MODEL_DIR`);
    }
  });
});
