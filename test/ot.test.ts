/**
 * The optimal-transport method (src/transfer/ot): its options (defaults, what it refuses), and its
 * objective: sliced-Wasserstein style terms per style layer that vanish at the painting itself, a
 * self-similarity content term that vanishes at the photo, and L-BFGS lowering the total.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { avgPool2d, keep, manualSeed, resize, tensor, Tensor, tidy } from '../src/engine';
import { NstError } from '../src/errors';
import { Vgg19 } from '../src/models/vgg19';
import { LbfgsWolfe } from '../src/optim';
import { resolveStylizeOptions } from '../src/transfer/gatys/options';
import { METHODS, OT_CONTENT_LAYERS, OT_ROUNDS } from '../src/transfer/method-names';
import { splitLastStage } from '../src/transfer/gatys/rounds';
import { planUntiledStage } from '../src/transfer/method-memory';
import { OT_CONTENT_LAYER_WEIGHTS, OT_SELF_SIMILARITY, OT_SWD_DIRECTIONS, OT_SWD_MAX_POSITIONS, OT_WEIGHT_SCALES, otObjective, otRecipe, otSwdPositions } from '../src/transfer/ot';
import { GatysObjective } from '../src/losses';
import { layerStyleTarget, selfSimilarityTarget } from '../src/losses/layer-losses';
import { randomFromTorch } from '../src/losses/sampling';
import { CONTENT, STYLE } from './helpers/cli';
import { engineSuite, uniform } from './helpers/numeric';
import { MODELS_DIR } from './helpers/reference';

engineSuite('ot');

describe('--method ot: options', () => {
  const resolve = (extra: Record<string, unknown>) => resolveStylizeOptions({ content: CONTENT, style: STYLE, output: '/tmp/ot-options.png', method: 'ot', ...extra });

  test('defaults: its own weights and content layers, the preset\'s style layers, no tiles, no alpha', () => {
    const o = resolve({});
    assert.deepEqual(o.contentLayers, ['relu3_1']);
    assert.deepEqual(OT_CONTENT_LAYERS, ['relu3_1']);
    assert.deepEqual(resolve({ contentLayers: ['relu5_2'] }).contentLayers, ['relu5_2']);
    assert.deepEqual(resolveStylizeOptions({ content: CONTENT, style: STYLE, output: '/tmp/o.png' }).contentLayers, ['relu4_2'], 'gatys keeps the preset\'s');
    assert.equal(o.method, 'ot');
    // Gatys's weights (the page's strength slider reads them alike), scaled to the blocks: the tuned 1,000 and 1.5e7
    assert.equal(o.styleWeight, 100);
    assert.equal(o.contentWeight, 5);
    assert.equal(o.styleWeight * OT_WEIGHT_SCALES.style, 1000);
    assert.equal(o.contentWeight * OT_WEIGHT_SCALES.content, 1.5e7);
    assert.deepEqual(o.styleLayers, ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1']);
    assert.deepEqual(METHODS.ot.capabilities, { masks: false, tiling: false, lossBlocks: false, alpha: false, gatysKnobs: false, weights: true });
    assert.equal(resolve({ styleWeight: 7 }).styleWeight, 7);
  });

  test('memory: the plan covers the peak measured at 512 px (2,138 MiB) and refuses it under --max-memory 2GB, naming a size that fits', () => {
    const stage = { width: 512, height: 384, stylePixels: [512 * 405], precision: 'bf16' as const, optimizer: 'lbfgs' as const, history: 100, iterations: 28, finalSide: 512 };
    const base = 300 * 2 ** 20;
    const plan = planUntiledStage({ ...stage, method: 'ot', maxMemory: 8 * 2 ** 30, baseBytes: base });
    assert.ok(plan.plannedBytes + base >= 2138 * 2 ** 20, `${(plan.plannedBytes + base) / 2 ** 20} MiB planned`);
    const nnst = planUntiledStage({ ...stage, method: 'nnst', maxMemory: 8 * 2 ** 30, baseBytes: base });
    assert.ok(plan.plannedBytes > nnst.plannedBytes + 500 * 2 ** 20, 'its sorted projections are counted');
    assert.throws(() => planUntiledStage({ ...stage, method: 'ot', maxMemory: 2 * 2 ** 30, baseBytes: base }), (e: Error) => e instanceof NstError && /^--method ot cannot optimise in tiles, .* the largest --size that fits untiled is about \d+ px/.test(e.message));
  });

  test('rounds: the last stage of a quality plan in six rounds of its size, a default lowered to keep 10 evaluations a round, gatys in one', () => {
    const standard = resolve({ quality: 'standard', size: 256 });
    assert.equal(METHODS.ot.defaults.rounds, OT_ROUNDS);
    assert.deepEqual(standard.scales, [128, ...Array(OT_ROUNDS).fill(256)]);
    assert.deepEqual(standard.scaleIterations, [40, ...Array(OT_ROUNDS).fill(150 / OT_ROUNDS)]);
    assert.deepEqual(standard.scaleTolerances, [0.02, ...Array(OT_ROUNDS).fill(0.005)]);
    const gatys = resolveStylizeOptions({ content: CONTENT, style: STYLE, output: '/tmp/o.png', quality: 'standard', size: 256 });
    assert.deepEqual([gatys.scales, gatys.scaleIterations], [[128, 256], [40, 150]]);
    assert.deepEqual(resolve({ iterations: 25 }).scaleIterations, [13, 12], 'the default lowered to 2 rounds; the first takes the remainder');
    assert.deepEqual(resolve({ iterations: 9 }).scales, [512], 'under 20 evaluations: one stage');
    assert.deepEqual(resolve({ iterations: 9, rounds: 9 }).scaleIterations, Array(9).fill(1), 'asked for: as many as iterations');
    assert.deepEqual(splitLastStage({ scales: [64, 128], scaleIterations: [5, 151], scaleTolerances: [0.1, 0.2] }, 6, true),
      { scales: [64, 128, 128, 128, 128, 128, 128], scaleIterations: [5, 26, 25, 25, 25, 25, 25], scaleTolerances: [0.1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2] });
    assert.throws(() => resolve({ iterations: 4, rounds: 5 }), (e: Error) => e instanceof NstError && e.message === '--rounds 5 needs at least 5 iterations in the last stage (it has 4)');
  });

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['loss blocks', { styleLoss: 'gram' }, /pick the loss blocks of --method gatys, not ot/],
    ['alpha', { alpha: 0.5 }, /--alpha is the content-vs-style trade-off of --method strotss or nnst; ot uses/],
    ['masks', { styleMasks: [CONTENT] }, /--method ot does not support --style-mask/],
    ['tiles', { tileSize: 256 }, /--method ot cannot optimise in tiles/],
    ['gradient normalisation', { normalizeGradients: true }, /--normalize-gradients applies to --method gatys only, not ot/],
  ];
  for (const [what, extra, message] of refused) {
    test(`refuses ${what} in one line`, () => {
      assert.throws(() => resolve(extra), (e: Error) => e instanceof NstError && message.test(e.message) && !e.message.includes('\n'));
    });
  }
});

describe('otObjective', () => {
  const layers = ['relu1_1', 'relu2_1'];
  let net: Vgg19;
  let photo: Tensor;
  let painting: Tensor;
  const setUp = () => {
    net ??= Vgg19.load({ modelDir: MODELS_DIR, upTo: 'relu4_2' });
    // smooth random images (a 4 × 4 pattern upsampled) in the network's convention; the painting has texture
    const image = (seed: number, h: number, w: number) => net.preprocess(resize(tensor(uniform(48, seed), [1, 3, 4, 4]).mul(0.4).add(0.5), h, w, 'bilinear'));
    photo ??= keep(tidy(() => image(31, 24, 24)));
    painting ??= keep(tidy(() => image(32, 24, 24).add(tensor(uniform(3 * 24 * 24, 33), [1, 3, 24, 24]).mul(20))));
  };
  const weights = { content: 1e4 / OT_WEIGHT_SCALES.content, style: 1 / OT_WEIGHT_SCALES.style, tv: 0 };

  test('the recipe: sliced-Wasserstein style, self-similarity content', () => {
    assert.deepEqual(otRecipe, { styleLoss: 'swd', contentLoss: 'self-similarity' });
  });

  test('one style term per layer, 0 at the painting itself; the content term is 0 at the photo', () => {
    setUp();
    tidy(() => {
      manualSeed(4);
      const objective = otObjective(net, photo, [{ image: painting }], { content: ['relu4_2'], style: layers }, weights);
      try {
        const atPhoto = objective.evaluate(photo.clone().variable()).losses;
        assert.deepEqual(Object.keys(atPhoto.style), layers);
        assert.deepEqual(Object.keys(atPhoto.content), ['relu4_2']);
        assert.ok(atPhoto.content.relu4_2 < 1e-6, `content at the photo: ${atPhoto.content.relu4_2}`);
        assert.ok(layers.every((l) => atPhoto.style[l] > 0));
        const atPainting = objective.evaluate(painting.clone().variable()).losses;
        for (const l of layers) assert.ok(atPainting.style[l] < 1e-6 * atPhoto.style[l], `${l}: ${atPainting.style[l]} vs ${atPhoto.style[l]} at the photo`);
        assert.ok(atPainting.content.relu4_2 > 0);
      } finally {
        objective.dispose();
      }
    });
  });

  test('per-layer content weights: relu3_1 pulls twice, relu4_2 half, against the same blocks unweighted', () => {
    setUp();
    assert.deepEqual(OT_CONTENT_LAYER_WEIGHTS, { relu3_1: 2, relu4_2: 0.5 });
    assert.deepEqual(OT_SWD_DIRECTIONS, { relu1_1: 32, relu2_1: 64 });
    tidy(() => {
      const content = ['relu3_1', 'relu4_2'];
      manualSeed(6);
      const ot = otObjective(net, photo, [{ image: painting }], { content, style: layers }, weights);
      const scaled = { content: weights.content * OT_WEIGHT_SCALES.content, style: weights.style * OT_WEIGHT_SCALES.style, tv: 0 };
      const plain = new GatysObjective(net, photo, [{ image: painting }], { content, style: layers }, scaled, { styleLoss: 'swd', contentLoss: 'self-similarity' });
      try {
        // 24 px: relu3_1 and relu4_2 have fewer positions than the sample, so both compare every one
        const x = painting.clone().variable();
        const a = ot.evaluate(x).losses.content;
        const b = plain.evaluate(x).losses.content;
        assert.ok(b.relu3_1 > 0 && b.relu4_2 > 0);
        assert.ok(Math.abs(a.relu3_1 / b.relu3_1 - 2) < 1e-4, `relu3_1 ${a.relu3_1} vs ${b.relu3_1}`);
        assert.ok(Math.abs(a.relu4_2 / b.relu4_2 - 0.5) < 1e-4, `relu4_2 ${a.relu4_2} vs ${b.relu4_2}`);
      } finally {
        ot.dispose();
        plain.dispose();
      }
      assert.throws(() => new GatysObjective(net, photo, [{ image: painting }], { content, style: layers }, scaled, { contentLayerWeights: [1] }), /contentLayerWeights has 1 values for 2 content layers/);
    });
  });

  test('sliced Wasserstein above 65,536 positions: a random subset per objective (as many as 2 × 2 means), which sees the pixel-by-pixel lattice that 2 × 2 means are blind to and reaches every position over rounds', () => {
    setUp();
    assert.equal(OT_SWD_MAX_POSITIONS, 65_536);
    tidy(() => {
      manualSeed(4);
      // as many positions as the 2 × 2 means had (an evaluation costs the same): relu1_1 at 512 px; nothing at 256 px
      const style = ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'];
      assert.deepEqual(otSwdPositions(style, 384, 512), [49_152, Infinity, Infinity, Infinity, Infinity]);
      assert.deepEqual(otSwdPositions(style, 192, 256), style.map(() => Infinity));
      assert.deepEqual(otSwdPositions(style, 256, 256), style.map(() => Infinity));
      assert.deepEqual(otSwdPositions(style, 1536, 2048), [49_152, 49_152, 49_152, Infinity, Infinity]);
      const objective = otObjective(net, photo, [{ image: painting }], { content: ['relu4_2'], style: ['relu1_1'] }, weights);
      assert.deepEqual(objective.options.swdPositions, [Infinity], '24 × 24: every position');
      objective.dispose();
      // 16 × 16 positions, 64 compared; the lattice alternates sign position by position.
      const [c, h, w] = [8, 16, 16];
      const f = tensor(uniform(c * h * w, 41), [1, c, h, w]);
      const g = tensor(uniform(c * h * w, 42), [1, c, h, w]).mul(2).add(0.5);
      const lattice = tensor(Float32Array.from({ length: c * h * w }, (_, i) => ((i % w) + Math.floor(i / w)) % 2 ? 0.3 : -0.3), [1, c, h, w]);
      assert.ok(avgPool2d(f.add(lattice), 2).sub(avgPool2d(f, 2)).abs().max().item() < 1e-6, '2 × 2 means: the lattice costs nothing');
      manualSeed(9);
      const random = randomFromTorch();
      const targets = Array.from({ length: 8 }, () => layerStyleTarget('swd', [{ features: g, weight: 1 }], random, { directions: 8, positions: 64 }));
      const whole = layerStyleTarget('swd', [{ features: g, weight: 1 }], random, { directions: 8, positions: h * w });
      try {
        const a = targets[0].loss(f, 1).item();
        assert.equal(targets[0].loss(f, 1).item(), a, 'one subset per objective: a fixed function');
        assert.ok(Math.abs(targets[0].loss(f.add(lattice), 1).item() - a) > 1e-2 * a, 'the subset sees the lattice');
        // Positions reached by the gradient: the subset's 64 per objective, new ones per objective.
        const reached = targets.map((t) => {
          const x = f.clone().variable();
          t.loss(x, 1).backward();
          const touched = x.grad()!.abs().sum([1]).reshape([h * w]).data();
          return new Set([...touched.keys()].filter((i) => touched[i] > 0));
        });
        assert.ok(reached.every((r) => r.size === 64), reached.map((r) => r.size).join(' '));
        assert.notDeepEqual([...reached[0]], [...reached[1]]);
        const union = new Set(reached.flatMap((r) => [...r]));
        assert.ok(union.size > 0.85 * h * w, `8 objectives reach ${union.size} of ${h * w} positions`);
        // At or below the cap (256 px: relu1_1's 49,152) every position is compared, as before.
        assert.ok(whole.loss(g, 1).item() < 1e-9 * a, '0 at the painting itself');
      } finally {
        targets.forEach((t) => t.dispose());
        whole.dispose();
      }
    });
  });

  test('self-similarity positions drawn once per stage: the same loss at the same image, unlike a new sample per evaluation', () => {
    setUp();
    assert.equal(OT_SELF_SIMILARITY.resample, 'objective');
    tidy(() => {
      const f = net.forward(photo, ['relu1_1']).get('relu1_1')!; // 24 × 24 = 576 positions, 64 sampled
      const g = net.forward(painting, ['relu1_1']).get('relu1_1')!;
      manualSeed(7);
      const kept = selfSimilarityTarget(f, randomFromTorch(), { positions: 64, resample: 'objective' });
      const fresh = selfSimilarityTarget(f, randomFromTorch(), { positions: 64, resample: 'evaluation' });
      try {
        const k = [kept.loss(g, 1).item(), kept.loss(g, 1).item()];
        const n = [fresh.loss(g, 1).item(), fresh.loss(g, 1).item()];
        assert.ok(k[0] > 0);
        assert.equal(k[0], k[1]);
        assert.notEqual(n[0], n[1]);
        assert.ok(kept.loss(f, 1).item() < 1e-6, 'still 0 at the photo');
      } finally {
        kept.dispose();
        fresh.dispose();
      }
    });
  });

  test('a few L-BFGS steps from the photo lower the total, style and all', () => {
    setUp();
    tidy(() => {
      manualSeed(5);
      const objective = otObjective(net, photo, [{ image: painting }], { content: ['relu4_2'], style: layers }, weights);
      const x = keep(photo.clone().variable());
      const optimizer = new LbfgsWolfe(x);
      try {
        const first = objective.evaluate(x).losses;
        let last = first;
        for (let i = 0; i < 10; i++) {
          tidy(() => {
            const e = objective.evaluate(x);
            last = e.losses;
            optimizer.step(e.losses.total, e.grad);
          });
        }
        assert.ok(last.total < 0.5 * first.total, `${first.total} → ${last.total}`);
        const style = (l: typeof first) => Object.values(l.style).reduce((a, b) => a + b, 0);
        assert.ok(style(last) < style(first), `style ${style(first)} → ${style(last)}`);
      } finally {
        optimizer.dispose();
        objective.dispose();
        x.dispose();
      }
    });
  });

  test('teardown', () => {
    for (const t of [photo, painting]) t?.dispose();
    net?.dispose();
  });
});
