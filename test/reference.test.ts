/**
 * Parity with the PyTorch reference (shared/reference/reference.json): VGG19 activations, target
 * Gram matrices, every loss term and the gradient at content + start_noise, and the L-BFGS
 * trajectory from the content image.
 */
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { cat, configureThread, noGrad, tensor, Tensor, tidy, keep } from '../src/engine';
import { Vgg19, VGG19_LAYER_NAMES, toCaffe } from '../src/models';
import { GatysObjective, gramMatrix, gramMatrixBatch, styleLoss } from '../src/losses';
import { Lbfgs } from '../src/optim';
import { imageTensor, MODELS_DIR, readJson, readNpy, REFERENCE_DIR, relErr } from './helpers/reference';

const ref = readJson('reference.json');
let net: Vgg19;
let content: Tensor;
let style: Tensor;

before(async () => {
  configureThread({ threads: 2 });
  net = Vgg19.load({ modelDir: MODELS_DIR });
  const c = await imageTensor(path.join(REFERENCE_DIR, 'content.png'));
  const s = await imageTensor(path.join(REFERENCE_DIR, 'style.png'));
  content = keep(toCaffe(c));
  style = keep(toCaffe(s));
  c.dispose();
  s.dispose();
});

after(() => {
  net.dispose();
  content.dispose();
  style.dispose();
});

describe('VGG19 activations of the content image', () => {
  test('shape, mean, std, sum|x| and first values of every relu layer within 1e-3', () => {
    const relus = VGG19_LAYER_NAMES.filter((n) => n.startsWith('relu'));
    noGrad(() =>
      tidy(() => {
        const acts = net.forward(content, relus);
        for (const layer of relus) {
          const expected = ref.activations_of_content[layer];
          const f = acts.get(layer)!;
          assert.deepEqual(f.shape, expected.shape, layer);
          assert.ok(relErr(f.mean().item(), expected.mean) < 1e-3, `${layer} mean ${f.mean().item()} vs ${expected.mean}`);
          const std = Math.sqrt(f.variance(undefined, false, true).item());
          assert.ok(relErr(std, expected.std) < 1e-3, `${layer} std ${std} vs ${expected.std}`);
          assert.ok(relErr(f.abs().sum().item(), expected.sum_abs) < 1e-3, `${layer} sum_abs`);
          const first = f.data().subarray(0, 8);
          expected.first8.forEach((v: number, i: number) =>
            assert.ok(Math.abs(first[i] - v) <= 1e-3 * Math.max(1, Math.abs(v)), `${layer}[${i}] ${first[i]} vs ${v}`),
          );
        }
      }),
    );
  });
});

describe('losses at content + start_noise', () => {
  test('target Gram matrices, each loss term, total and gradient within 1e-3', () => {
    const objective = new GatysObjective(net, content, style, { content: ref.content_layers, style: ref.style_layers }, ref.weights);
    try {
      for (const layer of ref.style_layers) {
        const g = objective.styleTarget(layer)!;
        const e = ref.style_grams[layer];
        assert.ok(relErr(g.sum().item(), e.sum) < 1e-3, `gram ${layer} sum`);
        assert.ok(relErr(tidy(() => g.reshape([-1]).narrow(0, 0, 1).item()), e.first4[0]) < 1e-3 || e.first4[0] === 0, `gram ${layer} first`);
      }
      const noise = readNpy(path.join(REFERENCE_DIR, 'start_noise.npy'));
      tidy(() => {
        const x = content.add(tensor(noise.data, noise.shape)).detach().variable();
        const { losses, grad } = objective.evaluate(x);
        const at = ref.at_content_plus_noise;
        for (const l of ref.content_layers) assert.ok(relErr(losses.content[l], at.content[l]) < 1e-3, `content ${l}`);
        for (const l of ref.style_layers)
          assert.ok(relErr(losses.style[l], at.style[l]) < 1e-3, `style ${l}: ${losses.style[l]} vs ${at.style[l]}`);
        assert.ok(relErr(losses.tv, at.tv) < 1e-3, 'tv');
        assert.ok(relErr(losses.total, at.total) < 1e-3, 'total');
        assert.ok(relErr(grad.norm().item(), at.grad_l2) < 1e-3, `grad norm ${grad.norm().item()} vs ${at.grad_l2}`);
        const g8 = grad.data().subarray(0, 8);
        at.grad_first8.forEach((v: number, i: number) => assert.ok(Math.abs(g8[i] - v) <= 1e-3 * Math.abs(v) + 1e-2, `grad[${i}]`));
      });
    } finally {
      objective.dispose();
    }
  });
});

describe('bf16 compute precision', () => {
  test('losses and gradient at content + start_noise stay within 5% of the fp32 reference', () => {
    const bf16 = Vgg19.load({ modelDir: MODELS_DIR, precision: 'bf16', upTo: 'relu5_1' });
    const objective = new GatysObjective(bf16, content, style, { content: ref.content_layers, style: ref.style_layers }, ref.weights);
    try {
      const noise = readNpy(path.join(REFERENCE_DIR, 'start_noise.npy'));
      tidy(() => {
        const x = content.add(tensor(noise.data, noise.shape)).detach().variable();
        const { losses, grad } = objective.evaluate(x);
        const at = ref.at_content_plus_noise;
        assert.equal(grad.dtype, 'float32', 'the gradient reaches the fp32 image in fp32');
        assert.ok(relErr(losses.total, at.total) < 0.05, `total ${losses.total} vs ${at.total}`);
        assert.ok(relErr(grad.norm().item(), at.grad_l2) < 0.05, `grad norm ${grad.norm().item()} vs ${at.grad_l2}`);
      });
    } finally {
      objective.dispose();
      bf16.dispose();
    }
  });

  test('Gram matrices of bf16 channels-last features (multiplied in bf16) match float32 ones, value and gradient', () => {
    tidy(() => {
      // relu3_1 of the content image: 256 channels, a Gram entry sums 4,096 products here.
      const features = noGrad(() => net.forward(content, ['relu3_1']).get('relu3_1')!).cast('bfloat16').contiguous(true);
      const exact = features.cast('float32'); // the same bf16 values, multiplied in float32
      const target = noGrad(() => gramMatrix(exact).mul(0.9));
      const a = features.detach().variable();
      const b = exact.detach().variable();
      const ga = gramMatrix(a);
      const gb = gramMatrix(b);
      assert.equal(ga.dtype, 'float32');
      assert.ok(ga.sub(gb).norm().item() / gb.norm().item() < 4e-3, 'Gram matrix within 0.4 % (Frobenius)');
      const la = styleLoss(a, target, 1);
      const lb = styleLoss(b, target, 1);
      assert.ok(relErr(la.item(), lb.item()) < 0.01, `style loss ${la.item()} vs ${lb.item()}`);
      la.backward();
      lb.backward();
      const da = a.grad()!.cast('float32');
      const db = b.grad()!;
      const cosine = da.mul(db).sum().item() / (da.norm().item() * db.norm().item());
      assert.ok(cosine > 0.999, `gradient cosine ${cosine}`);
      assert.ok(relErr(da.norm().item(), db.norm().item()) < 0.01, 'gradient norm within 1 %');
      // The batched form (training's perceptual loss): each image's Gram matrix, in float32.
      const batch = cat([features, features.flip([3]).contiguous(true)], 0);
      const gBatch = gramMatrixBatch(batch);
      const gExact = gramMatrixBatch(batch.cast('float32'));
      assert.equal(gBatch.dtype, 'float32');
      assert.ok(gBatch.sub(gExact).norm().item() / gExact.norm().item() < 4e-3, 'batched Gram matrices within 0.4 %');
      assert.ok(gBatch.narrow(0, 0, 1).sub(gBatch.narrow(0, 1, 1)).abs().max().item() < 1e-3 * gExact.abs().max().item(), 'a mirrored image has the same Gram matrix');
    });
  });
});

describe('L-BFGS from the content image', () => {
  test('60 evaluations end within 5% of the reference final loss', () => {
    const objective = new GatysObjective(net, content, style, { content: ref.content_layers, style: ref.style_layers }, ref.weights);
    const x = keep(content.clone().variable());
    const opt = new Lbfgs(x, { learningRate: 1, history: 100 });
    const expected: number[] = ref.lbfgs_from_content.total_loss;
    const losses: number[] = [];
    try {
      for (let i = 0; i < expected.length; i++) {
        tidy(() => {
          const { losses: l, grad } = objective.evaluate(x);
          losses.push(l.total);
          opt.step(l.total, grad);
        });
      }
      // The first evaluations are deterministic enough to match closely.
      assert.ok(relErr(losses[0], expected[0]) < 1e-3, `first loss ${losses[0]} vs ${expected[0]}`);
      assert.ok(relErr(losses[1], expected[1]) < 1e-3, `second loss ${losses[1]} vs ${expected[1]}`);
      const final = losses[losses.length - 1];
      const want = expected[expected.length - 1];
      assert.ok(relErr(final, want) < 0.05, `final loss ${final} vs ${want}`);
    } finally {
      opt.dispose();
      objective.dispose();
      x.dispose();
    }
  });
});
