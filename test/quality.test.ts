/**
 * The quality measures (src/quality) and the engine ops they need: values on cases whose answer is
 * known (identical images, a pure-texture "output"), the sorted-projection distance against a
 * naive JavaScript computation, and the sort's gradient.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { resize, tensor, tidy } from '../src/engine';
import { Vgg19 } from '../src/models/vgg19';
import { cfsd, measureQuality, slicedWasserstein, fixedDirections, ssimLuminance } from '../src/quality';
import { engineSuite, uniform } from './helpers/numeric';
import { imageTensor, MODELS_DIR, SHARED_DIR } from './helpers/reference';

engineSuite('quality');

describe('engine ops for the new losses', () => {
  test('sortAlong, maxAlong, minAlong, argmaxAlong, logSoftmax, indexSelectBy', () => {
    tidy(() => {
      const t = tensor([3, 1, 2, 0, 5, 4], [2, 3]);
      assert.deepEqual([...t.sortAlong(1).data()], [1, 2, 3, 0, 4, 5]);
      assert.deepEqual([...t.sortAlong(1, true).data()], [3, 2, 1, 5, 4, 0]);
      assert.deepEqual([...t.maxAlong(1).data()], [3, 5]);
      assert.deepEqual([...t.minAlong(0).data()], [0, 1, 2]);
      assert.deepEqual([...t.argmaxAlong(1).data()], [0, 1]);
      const ls = t.logSoftmax(1).data();
      const z = Math.log(Math.exp(3) + Math.exp(1) + Math.exp(2));
      assert.ok(Math.abs(ls[0] - (3 - z)) < 1e-6);
      assert.deepEqual([...t.indexSelectBy(0, tensor([0, 1, 0], [3]).argmaxAlong(0).reshape([1])).data()], [0, 5, 4]);
    });
  });

  test("a sorted tensor's gradient follows the permutation", () => {
    tidy(() => {
      const x = tensor([3, 1, 2], [3]).variable();
      const w = tensor([10, 20, 30], [3]);
      x.sortAlong(0).mul(w).sum().backward();
      // sorted = [1, 2, 3] from positions [1, 2, 0]: d/dx = [30, 10, 20]
      assert.deepEqual([...x.grad()!.data()], [30, 10, 20]);
    });
  });
});

describe('sliced-Wasserstein distance', () => {
  test('matches a naive computation with the same directions, and is 0 for the same set', () => {
    tidy(() => {
      const c = 4;
      const a = uniform(c * 30, 1);
      const b = uniform(c * 30, 2);
      const ta = tensor(a, [1, c, 5, 6]);
      const tb = tensor(b, [1, c, 5, 6]);
      const dirs = fixedDirections(c, 8);
      let sum = 0;
      for (let k = 0; k < 8; k++) {
        const proj = (v: Float32Array) => Array.from({ length: 30 }, (_, n) => {
          let s = 0;
          for (let ch = 0; ch < c; ch++) s += dirs[k * c + ch] * v[ch * 30 + n];
          return s;
        }).sort((x, y) => x - y);
        const pa = proj(a);
        const pb = proj(b);
        for (let n = 0; n < 30; n++) sum += (pa[n] - pb[n]) ** 2;
      }
      const naive = Math.sqrt(sum / (8 * 30));
      const got = slicedWasserstein(ta, tb, 8);
      assert.ok(Math.abs(got - naive) < 1e-4 * naive, `${got} vs ${naive}`);
      assert.equal(slicedWasserstein(ta, ta, 8), 0);
      // a permutation of the positions is the same distribution
      assert.ok(slicedWasserstein(ta, ta.flip([3]), 8) < 1e-6);
    });
  });
});

describe('quality of whole images (VGG19)', () => {
  const modelDir = MODELS_DIR;
  test('identical: CFSD 0, SSIM 1; the painting itself: style distance far below the photo’s, structure far worse', async () => {
    const net = Vgg19.load({ modelDir, upTo: 'relu5_1' });
    const photo = await imageTensor(path.join(SHARED_DIR, 'images/content/tubingen.jpg'));
    const painting = await imageTensor(path.join(SHARED_DIR, 'images/style/starry_night.jpg'));
    const [, , h, w] = photo.shape;
    const same = measureQuality(net, photo, painting, photo);
    assert.equal(same.cfsd, 0);
    assert.ok(Math.abs(same.ssim - 1) < 1e-6);
    const texture = tidy(() => resize(painting, h, w));
    const pure = measureQuality(net, photo, painting, texture);
    assert.ok(pure.swd < 0.3 * same.swd, `painting as output: swd ${pure.swd} vs the photo's ${same.swd}`);
    assert.ok(pure.gram < 0.1 * same.gram);
    assert.ok(pure.cfsd > 0.005, `cfsd ${pure.cfsd}`);
    assert.ok(pure.ssim < 0.3, `ssim ${pure.ssim}`);
    // a slightly blurred photo keeps its structure: small CFSD, high SSIM
    const blurred = tidy(() => resize(resize(photo, Math.round(h / 2), Math.round(w / 2)), h, w));
    const soft = measureQuality(net, photo, painting, blurred);
    assert.ok(soft.cfsd < 0.25 * pure.cfsd, `blurred cfsd ${soft.cfsd} vs texture ${pure.cfsd}`);
    assert.ok(soft.ssim > 0.8, `blurred ssim ${soft.ssim}`);
    for (const t of [photo, painting, texture, blurred]) t.dispose();
    net.dispose();
  });

  test('CFSD and SSIM refuse different shapes', () => {
    tidy(() => {
      assert.throws(() => cfsd(tensor(uniform(8, 1), [1, 2, 2, 2]), tensor(uniform(12, 1), [1, 2, 2, 3])), /differ/);
      assert.throws(() => ssimLuminance(tensor(uniform(3 * 16 * 16, 1), [1, 3, 16, 16]), tensor(uniform(3 * 16 * 17, 1), [1, 3, 16, 17])), /differ/);
    });
  });
});
