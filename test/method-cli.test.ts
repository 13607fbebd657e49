/**
 * `nst stylize --method` end to end: a small run of each method whose report and final line name
 * it and whose output is closer to the painting's style than the photo is (sliced-Wasserstein
 * distance, src/quality), and bad method input refused in one line, exit 2, nothing written.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONTENT, nst, STYLE, useTempDir } from './helpers/cli';
import { configureThread, Tensor } from '../src/engine';
import { loadImage } from '../src/image';
import { imageToTensor } from '../src/transfer/image-tensor';
import { Vgg19 } from '../src/models/vgg19';
import { measureQuality } from '../src/quality';
import { MODELS_DIR } from './helpers/reference';

const dir = useTempDir('nst-method-cli-');

describe('nst stylize --method', () => {
  let net: Vgg19;
  let photo: Tensor;
  let painting: Tensor;
  before(async () => {
    configureThread({ threads: 1 });
    net = Vgg19.load({ modelDir: MODELS_DIR });
    photo = imageToTensor(await loadImage(CONTENT, { maxSide: 96 }));
    painting = imageToTensor(await loadImage(STYLE, { maxSide: 96 }));
  });
  after(() => {
    photo.dispose();
    painting.dispose();
    net.dispose();
  });

  // Small runs (STROTSS's sampled losses are the slowest per evaluation; at its default α = 1 a
  // 64-px single stage of a few L-BFGS steps stays at the photo, so the test lowers α).
  const runs: [string, string[]][] = [
    ['gatys', ['--size', '96', '--iterations', '30']],
    ['nnst', ['--size', '96', '--iterations', '30']],
    ['strotss', ['--size', '64', '--iterations', '15', '--alpha', '0.1']],
    ['ot', ['--size', '96', '--iterations', '30']],
  ];
  for (const [method, args] of runs) {
    test(`${method}: the report names the method and the output has more of the painting's style than the photo`, async () => {
      const out = path.join(dir(), `${method}.png`);
      const r = nst(['stylize', '-c', CONTENT, '-s', STYLE, '-o', out, '--method', method, ...args, '--seed', '5', '--threads', '1']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`wrote .*${method}\\.png \\(\\d+x\\d+, .*method ${method}\\)`));
      const report = JSON.parse(fs.readFileSync(path.join(dir(), `${method}.report.json`), 'utf8'));
      assert.equal(report.settings.method, method);
      assert.equal(report.result.method, method);
      const output = imageToTensor(await loadImage(out, { width: photo.shape[3], height: photo.shape[2] }));
      try {
        const photoItself = measureQuality(net, photo, painting, photo);
        const q = measureQuality(net, photo, painting, output);
        assert.ok(q.swd < 0.8 * photoItself.swd, `${method}: sliced-Wasserstein ${q.swd} vs the photo's own ${photoItself.swd}`);
        assert.ok(q.cfsd > 0 && q.cfsd < 1, `${method}: CFSD ${q.cfsd}`);
        assert.ok(q.ssim > 0.05 && q.ssim < 1, `${method}: SSIM ${q.ssim}`);
      } finally {
        output.dispose();
      }
    });
  }

  const bad: [string, (d: string) => string[], RegExp][] = [
    ['an unknown method', () => ['--method', 'cubism'], /unknown method 'cubism' \(expected gatys, strotss, nnst, ot\)/],
    ['an unknown style loss', () => ['--style-loss', 'fancy'], /unknown style loss 'fancy'/],
    ['an unknown content loss', () => ['--content-loss', 'l7'], /unknown content loss 'l7'/],
    ['alpha outside [0,1]', () => ['--method', 'nnst', '--alpha', '1.5'], /--alpha must be between 0 and 1 \(got 1\.5\)/],
    ['alpha with gatys', () => ['--alpha', '0.5'], /--alpha is the content-vs-style trade-off of --method strotss or nnst/],
    ['a mask with nnst', () => ['--method', 'nnst', '--style-mask', CONTENT], /--method nnst does not support --style-mask/],
    ['loss blocks with ot', () => ['--method', 'ot', '--style-loss', 'gram'], /pick the loss blocks of --method gatys, not ot/],
    ['a mask with ot', () => ['--method', 'ot', '--style-mask', CONTENT], /--method ot does not support --style-mask/],
    ['more rounds than iterations', () => ['--method', 'ot', '--rounds', '3'], /--rounds 3 needs at least 3 iterations in the last stage \(it has 2\)/],
    ['zero rounds', () => ['--method', 'ot', '--rounds', '0'], /rounds must be a positive integer/],
    ['loss blocks with nnst', () => ['--method', 'nnst', '--style-loss', 'swd'], /pick the loss blocks of --method gatys, not nnst/],
    ['weights with strotss', () => ['--method', 'strotss', '--style-weight', '3'], /--method strotss balances content and style with --alpha/],
    ['ot over --max-memory', () => ['--method', 'ot', '--size', '1024', '--max-memory', '1GB'], /--method ot cannot optimise in tiles, .* the largest --size that fits untiled is about \d+ px/],
    ['nnst over --max-memory', () => ['--method', 'nnst', '--size', '1024', '--max-memory', '1GB'], /--method nnst cannot optimise in tiles, .* the largest --size that fits untiled is about \d+ px/],
  ];
  for (const [name, args, message] of bad) {
    test(`bad input: ${name} → one line, exit 2, no output`, () => {
      const d = fs.mkdtempSync(path.join(dir(), 'bad-'));
      const r = nst(['stylize', '-c', CONTENT, '-s', STYLE, '-o', path.join(d, 'o.png'), '--size', '32', '--iterations', '2', '--threads', '1', ...args(d)]);
      assert.equal(r.status, 2, `status ${r.status}, stderr: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line expected, got: ${r.stderr}`);
      assert.match(lines[0], /^nst: error: /);
      assert.match(lines[0], message);
      assert.deepEqual(fs.readdirSync(d), [], 'nothing written');
    });
  }
});
