/**
 * STROTSS (src/transfer/strotss): the position sampler and hypercolumn reader, the objective's
 * values and gradient (finite differences on a tiny image), L-BFGS lowering it, seeded runs
 * repeating exactly, region guidance through masks, and the recipe's schedule.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { keep, manualSeed, resize, tensor, Tensor, tidy } from '../src/engine';
import { Vgg19 } from '../src/models/vgg19';
import { LbfgsWolfe } from '../src/optim';
import { seededRandom } from '../src/util/random';
import { bilinearRows, samplePositions, strotssContentWeight, strotssStageSides, StrotssObjective, StrotssOptions, strotssStart } from '../src/transfer/strotss';
import { engineSuite, uniform } from './helpers/numeric';
import { checkGradient } from './helpers/finite-differences';
import { MODELS_DIR } from './helpers/reference';

engineSuite('STROTSS');

describe('sampling and hypercolumns', () => {
  test('samplePositions: a strided grid with a random offset, shuffled, restricted to the allowed positions', () => {
    const random = seededRandom(1);
    // 256 × 256 with at most 64² candidates: stride 4
    const p = samplePositions(256, 256, 500, random, 64);
    assert.equal(p.rows.length, 500);
    const r0 = p.rows[0] % 4;
    const c0 = p.cols[0] % 4;
    assert.ok(p.rows.every((r) => r % 4 === r0 && r < 256) && p.cols.every((c) => c % 4 === c0 && c < 256));
    assert.equal(new Set(p.rows.map((r, i) => r * 256 + p.cols[i])).size, 500, 'no position twice');
    // fewer candidates than asked: every allowed one, once
    const left = samplePositions(8, 8, 100, random, 8, (_r, c) => c < 3);
    assert.equal(left.rows.length, 24);
    assert.ok(left.cols.every((c) => c < 3));
  });

  test('bilinearRows reads a map at image positions scaled to its size', () => {
    tidy(() => {
      // a 1-channel 2 × 2 map [[0, 1], [2, 3]] under a 4 × 4 image: pixel (1, 1) is at (0.5, 0.5)
      const map = tensor([0, 1, 2, 3, 10, 11, 12, 13], [1, 2, 2, 2]);
      const rows = bilinearRows(map, { rows: [0, 1, 2, 3], cols: [0, 1, 0, 3] }, 4, 4);
      assert.deepEqual(rows.shape, [4, 2]);
      assert.deepEqual(Array.from(rows.data()), [0, 10, 1.5, 11.5, 2, 12, 3, 13]);
    });
  });

  test('the recipe: content weight 16·α at 64 px, halved per doubling; stages 64 … size', () => {
    assert.equal(strotssContentWeight(64), 16);
    assert.equal(strotssContentWeight(256, 0.5), 2);
    assert.deepEqual(strotssStageSides(512), [64, 128, 256, 512]);
    assert.deepEqual(strotssStageSides(200), [64, 128, 200]);
  });
});

describe('StrotssObjective', () => {
  const layers = ['relu1_1', 'relu2_1'];
  let net: Vgg19;
  let photo: Tensor;
  let painting: Tensor;
  const setUp = () => {
    net ??= Vgg19.load({ modelDir: MODELS_DIR, upTo: 'relu2_1' });
    // smooth random images (a 4 × 4 pattern upsampled) in the network's convention; the painting has texture
    const image = (seed: number, h: number, w: number) => net.preprocess(resize(tensor(uniform(48, seed), [1, 3, 4, 4]).mul(0.4).add(0.5), h, w, 'bilinear'));
    photo ??= keep(tidy(() => image(31, 16, 16)));
    painting ??= keep(tidy(() => image(32, 20, 12).add(tensor(uniform(3 * 20 * 12, 33), [1, 3, 20, 12]).mul(20))));
  };
  // 16 × 16: 256 positions, all of them sampled, so the objective is a fixed function of the image.
  const options: StrotssOptions = { layers, samples: 1024, styleSamples: 200, contentWeight: 4, seed: 9 };

  test('values: finite, named terms that add up to the total', () => {
    setUp();
    tidy(() => {
      const objective = new StrotssObjective(net, photo, painting, options);
      try {
        const x = strotssStart(net, photo, painting).variable();
        const { losses, grad } = objective.evaluate(x);
        assert.deepEqual(Object.keys(losses.style), ['remd', 'moments', 'colour']);
        assert.deepEqual(Object.keys(losses.content), ['self-similarity']);
        const sum = losses.content['self-similarity'] + losses.style.remd + losses.style.moments + losses.style.colour + losses.tv;
        assert.ok(Number.isFinite(losses.total) && losses.total > 0);
        assert.ok(Math.abs(sum - losses.total) < 1e-6 * losses.total);
        assert.ok(Object.values(losses.style).every((v) => v > 0) && losses.content['self-similarity'] > 0);
        assert.ok(grad.abs().max().item() > 0 && Number.isFinite(grad.norm().item()));
        // at the photo itself the content term is 0
        assert.ok(objective.evaluate(photo.clone().variable()).losses.content['self-similarity'] < 1e-6);
      } finally {
        objective.dispose();
      }
    });
  });

  test('gradient vs finite differences', () => {
    setUp();
    const objective = new StrotssObjective(net, photo, painting, options);
    try {
      const start = tidy(() => strotssStart(net, photo, painting));
      const data = start.data();
      start.dispose();
      checkGradient(([x]) => objective.terms(x).total, [{ shape: [1, 3, 16, 16], data }], { eps: 0.05, rtol: 5e-2, atol: 1e-2, coords: 12 });
    } finally {
      objective.dispose();
    }
  });

  const run = (seed: number, steps: number, extra: StrotssOptions = {}) =>
    tidy(() => {
      manualSeed(seed);
      const objective = new StrotssObjective(net, photo, painting, { ...options, seed: undefined, samples: 64, ...extra });
      const x = keep(strotssStart(net, photo, painting).variable());
      const optimizer = new LbfgsWolfe(x);
      const totals: number[] = [];
      try {
        for (let i = 0; i < steps; i++) {
          tidy(() => {
            const e = objective.evaluate(x);
            totals.push(e.losses.total);
            optimizer.step(e.losses.total, e.grad);
          });
        }
        return { totals, image: Array.from(x.data()) };
      } finally {
        optimizer.dispose();
        objective.dispose();
        x.dispose();
      }
    });

  test('a few L-BFGS steps lower the loss', () => {
    setUp();
    const { totals } = run(3, 12, { samples: 1024 });
    assert.ok(Math.min(...totals.slice(1)) < 0.9 * totals[0], `${totals[0]} → ${Math.min(...totals.slice(1))}`);
  });

  test('seeded runs repeat exactly (64 of 256 positions, new ones at every evaluation)', () => {
    setUp();
    const a = run(11, 5);
    const b = run(11, 5);
    assert.deepEqual(a.totals, b.totals);
    assert.deepEqual(a.image, b.image);
    assert.notDeepEqual(run(12, 5).totals, a.totals);
  });

  test('masks: each style is compared with the output inside its region only', () => {
    setUp();
    tidy(() => {
      const left = new Float32Array(256);
      for (let i = 0; i < 256; i++) left[i] = i % 16 < 8 ? 1 : 0;
      const maskLeft = tensor(left, [1, 1, 16, 16]);
      const maskRight = maskLeft.neg().add(1);
      const flat = keep(tidy(() => painting.mul(0).add(net.preprocess(tensor([0.9, 0.1, 0.1], [1, 3, 1, 1])))));
      // The left region paints with the painting, the right with a flat red: the red region's
      // colour REMD is 0 where the output is that red, whatever the other half shows.
      const masked = new StrotssObjective(net, photo, [{ image: painting, mask: maskLeft }, { image: flat, mask: maskRight }], options);
      try {
        const red = net.preprocess(tensor([0.9, 0.1, 0.1], [1, 3, 1, 1]));
        const halfRed = photo.mul(maskLeft).add(red.mul(maskRight)).variable();
        const allRed = photo.mul(0).add(red).variable();
        const a = masked.evaluate(halfRed).losses;
        const b = masked.evaluate(allRed).losses;
        assert.ok(Number.isFinite(a.total) && Number.isFinite(b.total));
        assert.ok(a.style.colour < b.style.colour, `the left region is not red: ${a.style.colour} < ${b.style.colour}`);
      } finally {
        masked.dispose();
        flat.dispose();
      }
    });
  });

  test('teardown', () => {
    for (const t of [photo, painting]) t?.dispose();
    net?.dispose();
  });
});
