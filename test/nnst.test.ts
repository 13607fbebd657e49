/**
 * Neural-neighbour style transfer (src/transfer/nnst) and the OkLAB colour match it ends with:
 * the colour space's round trip and known values, matched moments, the chunked neighbour search
 * against a naive JavaScript search, the objective's value on a case with a known answer and its
 * gradient against finite differences, and the method options' one-line refusals.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { keep, resize, tensor, Tensor, tidy } from '../src/engine';
import { colourMoments, RgbImage } from '../src/image';
import { matchColoursInOklab, oklabToRgb, rgbToOklab } from '../src/image/oklab-colour-match';
import { Vgg19 } from '../src/models/vgg19';
import { nearestNeighbourIndices } from '../src/transfer/nnst/neighbours';
import { hypercolumnGrid, hypercolumns } from '../src/transfer/nnst/hypercolumns';
import { NnstObjective, NNST_STYLE_TERM } from '../src/transfer/nnst/objective';
import { resolveStylizeOptions } from '../src/transfer/gatys/options';
import { NstError } from '../src/errors';
import { NNST_LAYERS } from '../src/transfer/method-names';
import { runTiles } from '../src/transfer/method';
import { planUntiledStage } from '../src/transfer/method-memory';
import { engineSuite, rng, uniform } from './helpers/numeric';
import { imageTensor, MODELS_DIR, REFERENCE_DIR } from './helpers/reference';

engineSuite('nnst');

/** A w × h image of values in [lo, hi], reproducible for a seed. */
function randomImage(width: number, height: number, seed: number, lo = 0, hi = 1): RgbImage {
  const r = rng(seed);
  const data = new Float32Array(3 * width * height);
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * r();
  return { width, height, data };
}

describe('OkLAB colour match', () => {
  test('RGB → OkLAB → RGB returns the colours (to 1e-5), white is L = 1, a = b = 0', () => {
    const image = randomImage(17, 9, 1);
    const back = oklabToRgb(rgbToOklab(image));
    const err = back.data.reduce((m, v, i) => Math.max(m, Math.abs(v - image.data[i])), 0);
    assert.ok(err < 1e-5, `round-trip error ${err}`);
    const white = rgbToOklab({ width: 1, height: 1, data: new Float32Array([1, 1, 1]) }).data;
    assert.ok(Math.abs(white[0] - 1) < 1e-4 && Math.abs(white[1]) < 1e-4 && Math.abs(white[2]) < 1e-4, `white: ${[...white]}`);
    // Ottosson's published value for sRGB red: L 0.6280, a 0.2249, b 0.1258.
    const red = rgbToOklab({ width: 1, height: 1, data: new Float32Array([1, 0, 0]) }).data;
    [0.628, 0.2249, 0.1258].forEach((v, i) => assert.ok(Math.abs(red[i] - v) < 1e-3, `red[${i}] = ${red[i]}`));
  });

  test("the matched image's OkLAB mean and covariance equal the target's (1e-3)", () => {
    // A dull, bluish source and a warm, contrasted target of another size.
    const source = randomImage(40, 30, 2, 0.3, 0.6);
    for (let i = 0; i < 1200; i++) source.data[2 * 1200 + i] = Math.min(1, source.data[2 * 1200 + i] + 0.3);
    const target = randomImage(25, 20, 3, 0.05, 0.95);
    for (let i = 0; i < 500; i++) target.data[i] = 0.5 + 0.5 * target.data[i];
    const matched = matchColoursInOklab(source, target, { clamp: false });
    const m = colourMoments(rgbToOklab(matched));
    const t = colourMoments(rgbToOklab(target));
    const s = colourMoments(rgbToOklab(source));
    for (let a = 0; a < 3; a++) {
      assert.ok(Math.abs(m.mean[a] - t.mean[a]) < 1e-3, `mean[${a}] ${m.mean[a]} vs ${t.mean[a]}`);
      for (let b = 0; b < 3; b++) assert.ok(Math.abs(m.cov[a][b] - t.cov[a][b]) < 1e-3, `cov[${a}][${b}] ${m.cov[a][b]} vs ${t.cov[a][b]}`);
    }
    assert.ok(Math.abs(s.mean[2] - t.mean[2]) > 0.02, 'the source started away from the target');
    // Clamped (the default), every value is displayable.
    assert.ok(matchColoursInOklab(source, target).data.every((v) => v >= 0 && v <= 1));
  });
});

/** Naive centred-cosine nearest neighbour, in plain JavaScript. */
function naiveNeighbours(q: Float32Array, k: Float32Array, n: number, m: number, c: number): number[] {
  const centred = (x: Float32Array, rows: number) => {
    const mean = new Array(c).fill(0);
    for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) mean[j] += x[i * c + j] / rows;
    return Array.from({ length: rows }, (_, i) => {
      const row = Array.from({ length: c }, (_, j) => x[i * c + j] - mean[j]);
      const norm = Math.hypot(...row);
      return row.map((v) => v / norm);
    });
  };
  const qs = centred(q, n);
  const ks = centred(k, m);
  return qs.map((row) => {
    let best = -1;
    let bestSim = -Infinity;
    ks.forEach((kr, j) => {
      const sim = kr.reduce((s, v, i) => s + v * row[i], 0);
      if (sim > bestSim) [best, bestSim] = [j, sim];
    });
    return best;
  });
}

describe('neural-neighbour search', () => {
  test('the chunked matmul + argmax search picks the same neighbours as a naive search', () => {
    const [n, m, c] = [37, 53, 11];
    const q = uniform(n * c, 4);
    const k = uniform(m * c, 5);
    const expected = naiveNeighbours(q, k, n, m, c);
    tidy(() => {
      // 4 × 53 × 4 bytes per block: ten blocks, the last one short.
      for (const blockBytes of [4 * m * 4, 1 << 26]) {
        const found = [...nearestNeighbourIndices(tensor(q, [n, c]), tensor(k, [m, c]), blockBytes).data()];
        assert.deepEqual(found, expected, `blocks of ${blockBytes} bytes`);
      }
    });
  });

  test('centring matters: a constant offset of every candidate does not change the choice', () => {
    const [n, m, c] = [9, 14, 6];
    const q = uniform(n * c, 6);
    const k = uniform(m * c, 7);
    tidy(() => {
      const plain = [...nearestNeighbourIndices(tensor(q, [n, c]), tensor(k, [m, c])).data()];
      const shifted = [...nearestNeighbourIndices(tensor(q, [n, c]), tensor(k, [m, c]).add(5)).data()];
      assert.deepEqual(shifted, plain);
    });
  });
});

describe('NNST objective', () => {
  let net: Vgg19;
  // The reference pair (RGB [0,1]), decoded once.
  const pair: { content?: Tensor; style?: Tensor } = {};
  const layers = ['relu1_1', 'relu2_1', 'relu3_1'];
  const settings = { layers, alpha: 1, styleWeight: 1, contentWeight: 0, tvWeight: 0, rotations: false };
  before(async () => {
    net = Vgg19.load({ modelDir: MODELS_DIR });
    pair.content = keep(await imageTensor(path.join(REFERENCE_DIR, 'content.png')));
    pair.style = keep(await imageTensor(path.join(REFERENCE_DIR, 'style.png')));
  });
  after(() => {
    pair.content?.dispose();
    pair.style?.dispose();
    net.dispose();
  });

  test('hypercolumns lie on a quarter-size grid with one channel per feature', () => {
    tidy(() => {
      const x = net.preprocess(tensor(uniform(3 * 40 * 52, 8).map((v) => (v + 1) / 2), [1, 3, 40, 52]));
      const h = hypercolumns(net, x, layers);
      assert.deepEqual(h.shape, [1, 64 + 128 + 256, 10, 13]);
      assert.deepEqual(hypercolumnGrid(40, 52), { height: 10, width: 13 });
    });
  });

  test('painting = photo: every neighbour is the photo itself, so the loss at the photo is 0', () => {
    const photo = keep(tidy(() => net.preprocess(resize(pair.content!, 48, 48, 'area'))));
    const objective = new NnstObjective(net, photo, [photo], photo, settings);
    try {
      tidy(() => {
        const { losses } = objective.evaluate(photo.clone().variable());
        assert.ok(Math.abs(losses.style[NNST_STYLE_TERM]) < 1e-4, `loss ${losses.style[NNST_STYLE_TERM]}`);
        assert.equal(losses.total, losses.style[NNST_STYLE_TERM], 'no content or TV term');
      });
    } finally {
      objective.dispose();
      photo.dispose();
    }
  });

  test('rotations: with the painting = the photo turned 90°, only --rotate-style finds the photo\'s own hypercolumns', () => {
    const photo = keep(tidy(() => net.preprocess(resize(pair.content!, 48, 48, 'area'))));
    const turned = keep(tidy(() => photo.transpose(2, 3).flip([3])));
    try {
      for (const rotations of [false, true]) {
        const objective = new NnstObjective(net, photo, [turned], photo, { ...settings, rotations });
        try {
          const loss = tidy(() => objective.evaluate(photo.clone().variable()).losses.total);
          if (rotations) assert.ok(loss < 1e-4, `with rotations: ${loss}`);
          else assert.ok(loss > 0.02, `without rotations: ${loss}`);
        } finally {
          objective.dispose();
        }
      }
    } finally {
      photo.dispose();
      turned.dispose();
    }
  });

  test('a different painting: a positive loss, and the photo is further from the target than the painting itself', () => {
    const photo = keep(tidy(() => net.preprocess(resize(pair.content!, 48, 48, 'area'))));
    const paint = keep(tidy(() => net.preprocess(resize(pair.style!, 48, 48, 'area'))));
    const objective = new NnstObjective(net, photo, [paint], photo, settings);
    try {
      tidy(() => {
        const atPhoto = objective.evaluate(photo.clone().variable()).losses.total;
        assert.ok(atPhoto > 0.05 && atPhoto < 1, `loss at the photo ${atPhoto}`);
      });
    } finally {
      objective.dispose();
      photo.dispose();
      paint.dispose();
    }
  });

  test('the gradient matches central finite differences', () => {
    const content = keep(tidy(() => net.preprocess(resize(pair.content!, 32, 32, 'area'))));
    const style = keep(tidy(() => net.preprocess(resize(pair.style!, 40, 40, 'area'))));
    const objective = new NnstObjective(net, content, [style], content, { ...settings, contentWeight: 0.5, tvWeight: 1e-6 });
    // A point away from the photo (where the loss is not at a minimum).
    const x0 = keep(tidy(() => content.add(tensor(uniform(3 * 32 * 32, 10), [1, 3, 32, 32]).mul(20))));
    const grad = keep(tidy(() => objective.evaluate(x0.clone().variable()).grad));
    try {
      const at = (x: Tensor) => tidy(() => objective.evaluate(x.clone().variable()).losses.total);
      // Along the gradient the change is largest (float32 rounding of the loss matters least):
      // 1 %; along random directions, where it is ~100× smaller, 5 %.
      const directions: [string, () => Tensor, number][] = [
        ['the gradient', () => grad.div(grad.abs().max()), 0.01],
        ['random 11', () => tensor(uniform(3 * 32 * 32, 11), [1, 3, 32, 32]), 0.05],
        ['random 12', () => tensor(uniform(3 * 32 * 32, 12), [1, 3, 32, 32]), 0.05],
      ];
      for (const [name, direction, tolerance] of directions) {
        tidy(() => {
          const v = direction();
          const eps = 0.05;
          const numeric = (at(x0.add(v.mul(eps))) - at(x0.sub(v.mul(eps)))) / (2 * eps);
          const analytic = grad.mul(v).sum().item();
          assert.ok(Math.abs(numeric - analytic) <= tolerance * Math.abs(analytic), `along ${name}: numeric ${numeric} vs analytic ${analytic}`);
        });
      }
    } finally {
      for (const t of [grad, x0, content, style]) t.dispose();
      objective.dispose();
    }
  });
});

describe('method options', () => {
  const base = { content: path.join(REFERENCE_DIR, 'content.png'), style: path.join(REFERENCE_DIR, 'style.png'), output: '/tmp/never-written.png' };
  const refused: [string, object, RegExp][] = [
    ['an unknown method', { method: 'cubism' }, /unknown method 'cubism' \(expected gatys, strotss, nnst, ot\)/],
    ['an unknown style loss', { styleLoss: 'fancy' }, /unknown style loss 'fancy'/],
    ['an unknown content loss', { contentLoss: 'l7' }, /unknown content loss 'l7'/],
    ['alpha above 1', { method: 'nnst', alpha: 1.5 }, /--alpha must be between 0 and 1 \(got 1.5\)/],
    ['alpha below 0', { method: 'nnst', alpha: -0.1 }, /--alpha must be between 0 and 1/],
    ['alpha with gatys', { alpha: 0.5 }, /--alpha is the content-vs-style trade-off of --method strotss or nnst/],
    ['a mask with nnst', { method: 'nnst', styleMasks: [path.join(REFERENCE_DIR, 'content.png')] }, /--method nnst does not support --style-mask/],
    ['a loss block with nnst', { method: 'nnst', styleLoss: 'swd' }, /--style-loss and --content-loss pick the loss blocks of --method gatys, not nnst/],
    ['tiles with nnst', { method: 'nnst', tileSize: 128 }, /--method nnst cannot optimise in tiles/],
    ['blend weights with nnst', { method: 'nnst', style: [path.join(REFERENCE_DIR, 'style.png'), path.join(REFERENCE_DIR, 'content.png')], styleBlendWeights: [1, 2] }, /--method nnst takes no --style-blend-weights/],
  ];
  for (const [name, extra, message] of refused) {
    test(`refuses ${name} in one line`, () => {
      assert.throws(() => resolveStylizeOptions({ ...base, ...extra } as never), (e: unknown) => e instanceof NstError && message.test(e.message) && !e.message.includes('\n'));
    });
  }

  test('only Gatys with the Gram and MSE blocks tiles; the others plan untiled and refuse past the budget', () => {
    assert.equal(runTiles({ method: 'gatys', styleLoss: 'gram', contentLoss: 'mse' }), true);
    assert.equal(runTiles({ method: 'gatys', styleLoss: 'swd', contentLoss: 'mse' }), false);
    assert.equal(runTiles({ method: 'gatys', styleLoss: 'gram', contentLoss: 'self-similarity' }), false);
    assert.equal(runTiles({ method: 'nnst', styleLoss: 'gram', contentLoss: 'mse' }), false);
    const stage = { method: 'nnst' as const, width: 512, height: 384, stylePixels: [512 * 405], precision: 'bf16' as const, optimizer: 'lbfgs' as const, history: 40, iterations: 150, baseBytes: 400 * 2 ** 20, finalSide: 512 };
    const fits = planUntiledStage({ ...stage, maxMemory: 16 * 2 ** 30 });
    assert.equal(fits.tiling, null);
    assert.ok(fits.plannedBytes > 500 * 2 ** 20 && fits.plannedBytes < 4 * 2 ** 30, `planned ${fits.plannedBytes}`);
    let message = '';
    assert.throws(() => planUntiledStage({ ...stage, maxMemory: 2 ** 30 }), (e: unknown) => e instanceof NstError && Boolean((message = e.message)));
    const largest = Number(/the largest --size that fits untiled is about (\d+) px/.exec(message)?.[1]);
    assert.ok(largest >= 16 && largest < 512, message);
    // That size does fit the same budget.
    const scale = largest / 512;
    planUntiledStage({ ...stage, width: Math.round(512 * scale), height: Math.round(384 * scale), stylePixels: [512 * 405 * scale * scale], maxMemory: 2 ** 30 });
  });

  test('nnst brings its own defaults: its layers, cosine weights, alpha 0.75; gatys keeps the paper\'s', () => {
    const nnst = resolveStylizeOptions({ ...base, method: 'nnst' });
    assert.deepEqual([nnst.method, nnst.styleWeight, nnst.contentWeight, nnst.tvWeight, nnst.alpha], ['nnst', 1, 0, 0, 0.75]);
    assert.deepEqual(nnst.styleLayers, [...NNST_LAYERS]);
    assert.deepEqual(nnst.contentLayers, []);
    const gatys = resolveStylizeOptions(base);
    assert.deepEqual([gatys.method, gatys.styleWeight, gatys.contentWeight, gatys.styleLoss, gatys.contentLoss], ['gatys', 100, 5, 'gram', 'mse']);
    assert.equal(resolveStylizeOptions({ ...base, method: 'nnst', alpha: 0.2, styleWeight: 3 }).styleWeight, 3, 'explicit weights win');
  });
});
