/**
 * The loss blocks of src/losses beyond Gatys's (REMD, moments, colour REMD, self-similarity,
 * Wasserstein-2, sliced Wasserstein): values and gradients against PyTorch (float64, the formulas
 * written independently in scripts/fixtures/make-style-loss-reference.py, committed as
 * test/fixtures/losses/style-loss-reference.json), and gradients against finite differences.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gradients, keep, manualSeed, noGrad, tensor, Tensor, tidy } from '../src/engine';
import { Vgg19 } from '../src/models/vgg19';
import { NstError } from '../src/errors';
import {
  CONTENT_LOSSES,
  contentLoss,
  featureRows,
  GatysObjective,
  ObjectiveOptions,
  randomDirections,
  STYLE_LOSSES,
  styleLoss,
  gramMatrix,
  colourRemdLoss,
  cosineDistances,
  momentLoss,
  featureMoments,
  relaxedEmd,
  remdLoss,
  resampleQuantiles,
  selfSimilarityLoss,
  sortedProjections,
  sqrtmNewtonSchulz,
  swdLoss,
  unitRows,
  w2Loss,
  w2Target,
  randomFromTorch,
} from '../src/losses';
import { engineSuite, uniform } from './helpers/numeric';
import { checkGradient, Input } from './helpers/finite-differences';
import { MODELS_DIR } from './helpers/reference';

const PROJECT_ROOT = path.join(__dirname, '..', '..');
const reference = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'losses', 'style-loss-reference.json'), 'utf8'));

interface Case {
  inputs: Record<string, { shape: number[]; data: number[] }>;
  value: number;
  grads: Record<string, number[]>;
}

/** The loss blocks as functions of the fixture's named inputs. */
const blocks: Record<string, { names: string[]; f: (t: Record<string, Tensor>) => Tensor }> = {
  remd: { names: ['x', 'y'], f: ({ x, y }) => remdLoss(x, y) },
  moments: { names: ['x', 'y'], f: ({ x, y }) => momentLoss(x, featureMoments(y)) },
  colourRemd: { names: ['x', 'y'], f: ({ x, y }) => colourRemdLoss(x, y) },
  selfSimilarity: { names: ['x', 'c'], f: ({ x, c }) => selfSimilarityLoss(x, c) },
  w2: { names: ['features', 'target'], f: ({ features, target }) => w2Loss(features, w2Target(target)) },
  swd: {
    names: ['features', 'target', 'directions'],
    f: ({ features, target, directions }) => {
      const d = unitRows(directions);
      return swdLoss(features, d, sortedProjections(target, d));
    },
  },
};

function inputsOf(c: Case, names: string[]): Input[] {
  return names.map((n) => ({ shape: c.inputs[n].shape, data: Float32Array.from(c.inputs[n].data) }));
}

function close(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * scale, `${what}[${i}]: ${actual[i]} vs PyTorch ${expected[i]}`);
  }
}

engineSuite('style loss');

describe('loss blocks match PyTorch (values and gradients)', () => {
  for (const [name, block] of Object.entries(blocks)) {
    test(name, () => {
      const c: Case = reference[name];
      tidy(() => {
        const ts = Object.fromEntries(block.names.map((n) => [n, tensor(c.inputs[n].data, c.inputs[n].shape).variable()]));
        const value = block.f(ts);
        assert.ok(Math.abs(value.item() - c.value) <= 2e-5 * Math.max(1, Math.abs(c.value)), `${name}: ${value.item()} vs PyTorch ${c.value}`);
        const wrt = Object.keys(c.grads);
        const gs = gradients([value], wrt.map((n) => ts[n]));
        wrt.forEach((n, i) => close(gs[i]!.data(), c.grads[n], 2e-4, `${name} d/d${n}`));
      });
    });
  }
});

describe('loss blocks: gradients vs finite differences', () => {
  for (const [name, block] of Object.entries(blocks)) {
    test(name, () => {
      const c: Case = reference[name];
      const wrt = Object.keys(c.grads).map((n) => block.names.indexOf(n));
      checkGradient((xs) => block.f(Object.fromEntries(block.names.map((n, i) => [n, xs[i]]))), inputsOf(c, block.names), { which: wrt, eps: 2e-3 });
    });
  }
});

describe('loss blocks: defining properties', () => {
  test('relaxedEmd takes the larger of the mean row minimum and the mean column minimum', () => {
    tidy(() => {
      // rows minima 1, 0 → 0.5; column minima 0, 1, 2 → 1
      const m = tensor([1, 1, 2, 0, 5, 3], [2, 3]);
      assert.equal(relaxedEmd(m).item(), 1);
    });
  });

  test('cosine distances ignore magnitude; REMD of a set with itself (any scale) is 0', () => {
    tidy(() => {
      const x = tensor(uniform(20, 3), [4, 5]);
      const d = cosineDistances(x, x.mul(7));
      for (let i = 0; i < 4; i++) assert.ok(Math.abs(d.data()[i * 4 + i]) < 1e-6);
      assert.ok(Math.abs(remdLoss(x, x.mul(3)).item()) < 1e-6);
    });
  });

  test('a zero row (a black pixel, a dead relu position) has distance 1 and finite gradients', () => {
    tidy(() => {
      const x = tensor([0, 0, 0, 0.2, 0.5, 0.1], [2, 3]).variable();
      const y = tensor([0.3, 0.1, 0.4, 0.9, 0.8, 0.7], [2, 3]);
      assert.deepEqual(Array.from(cosineDistances(x, y).data()).slice(0, 2), [1, 1]);
      const [g1] = gradients([remdLoss(x, y).add(colourRemdLoss(x, y))], [x]);
      assert.ok(g1!.data().every(Number.isFinite), `gradient ${g1!.data()}`);
    });
  });

  test('self-similarity is 0 for the same structure at another scale, positive otherwise', () => {
    tidy(() => {
      const x = tensor(uniform(30, 4), [6, 5]);
      assert.ok(selfSimilarityLoss(x.mul(5), x).item() < 1e-5);
      assert.ok(selfSimilarityLoss(tensor(uniform(30, 5), [6, 5]), x).item() > 0.1);
    });
  });

  test('Newton–Schulz square root: √A·√A = A for a positive definite A', () => {
    tidy(() => {
      const b = tensor(uniform(16, 6), [4, 4]);
      const a = b.matmul(b.transpose(0, 1)).add(tensor([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], [4, 4]));
      const s = sqrtmNewtonSchulz(a, 20);
      close(s.matmul(s).data(), Array.from(a.data()), 1e-4, '√A²');
    });
  });

  test('W2 is about 0 between the same features, and sees a shifted mean', () => {
    tidy(() => {
      const f = tensor(uniform(4 * 36, 7), [1, 4, 6, 6]).add(1);
      const t = w2Target(f);
      assert.ok(Math.abs(w2Loss(f, t).item()) < 1e-3, `W2(f, f) = ${w2Loss(f, t).item()}`);
      // a shift of every channel by 0.5 adds mean((0.5)²) = 0.25
      assert.ok(Math.abs(w2Loss(f.add(0.5), t).item() - 0.25) < 1e-3);
    });
  });

  test('sliced Wasserstein: 0 for a permutation of the positions, quantiles resampled linearly', () => {
    tidy(() => {
      const f = tensor(uniform(3 * 12, 8), [1, 3, 3, 4]);
      const permuted = f.reshape([3, 12]).flip([1]).reshape([1, 3, 3, 4]);
      const d = unitRows(tensor(uniform(15, 9), [5, 3]));
      assert.ok(swdLoss(permuted, d, sortedProjections(f, d)).item() < 1e-10);
      close(resampleQuantiles(tensor([0, 1, 4], [1, 3]), 5).data(), [0, 0.5, 1, 2.5, 4], 1e-6, 'resampled');
    });
  });
});

describe('GatysObjective mixes the loss blocks', () => {
  // 32 × 32 images: relu1_1 has 1,024 positions, so REMD and self-similarity read every position
  // (no sampling) and every loss below is a fixed function of the image.
  const layers = { content: ['relu2_1'], style: ['relu1_1', 'relu2_1'] };
  const weights = { content: 3, style: 7, tv: 0 };
  let net: Vgg19;
  let photo: Tensor;
  let painting: Tensor;
  let output: Tensor;

  const setUp = () => {
    net ??= Vgg19.load({ modelDir: MODELS_DIR, upTo: 'relu2_1' });
    photo ??= keep(tidy(() => tensor(uniform(3 * 32 * 32, 21), [1, 3, 32, 32]).mul(100)));
    painting ??= keep(tidy(() => tensor(uniform(3 * 24 * 40, 22), [1, 3, 24, 40]).mul(100)));
    output ??= keep(tidy(() => tensor(uniform(3 * 32 * 32, 23), [1, 3, 32, 32]).mul(100)));
  };
  const termsWith = (options: ObjectiveOptions) =>
    tidy(() => {
      const objective = new GatysObjective(net, photo, painting, layers, weights, options);
      try {
        const t = objective.terms(output);
        const read = (m: Map<string, Tensor>) => Object.fromEntries([...m].map(([k, v]) => [k, v.item()]));
        return { content: read(t.content), style: read(t.style) };
      } finally {
        objective.dispose();
      }
    });
  const featuresOf = (x: Tensor) => net.forward(x, ['relu1_1', 'relu2_1']);

  test('the name lists', () => {
    assert.deepEqual([...STYLE_LOSSES], ['gram', 'w2', 'swd', 'remd']);
    assert.deepEqual([...CONTENT_LOSSES], ['mse', 'self-similarity']);
  });

  test("the defaults are 'gram' and 'mse', as before", () => {
    setUp();
    const byDefault = termsWith({});
    assert.deepEqual(termsWith({ styleLoss: 'gram', contentLoss: 'mse' }), byDefault);
    tidy(() => {
      const fo = featuresOf(output);
      const fs = featuresOf(painting);
      const fp = featuresOf(photo);
      assert.ok(Math.abs(byDefault.style.relu1_1 - styleLoss(fo.get('relu1_1')!, gramMatrix(fs.get('relu1_1')!), 7).item()) < 1e-4 * byDefault.style.relu1_1);
      assert.ok(Math.abs(byDefault.content.relu2_1 - contentLoss(fo.get('relu2_1')!, fp.get('relu2_1')!, 3).item()) < 1e-4 * byDefault.content.relu2_1);
    });
  });

  test('each style loss scores the layer as its block does, times the weight', () => {
    setUp();
    for (const kind of ['w2', 'swd', 'remd'] as const) {
      manualSeed(5);
      const mixed = termsWith({ styleLoss: kind });
      manualSeed(5);
      tidy(() => {
        const fo = featuresOf(output);
        const fs = featuresOf(painting);
        noGrad(() => randomFromTorchForTest()); // the objective's sampling generator draws first
        for (const l of layers.style) {
          const f = fo.get(l)!;
          const t = fs.get(l)!;
          let expected: number;
          if (kind === 'w2') expected = w2Loss(f, w2Target(t), 7).item();
          else if (kind === 'swd') {
            const d = randomDirections(t.shape[1], t.shape[1]);
            expected = swdLoss(f, d, sortedProjections(t, d), 7).item();
          } else {
            const scale = 1 / featureRows(t).abs().mean().item();
            const rows = featureRows(t).mul(scale);
            const out = featureRows(f).mul(scale);
            expected = remdLoss(out, rows).add(momentLoss(out, featureMoments(rows))).mul(7).item();
          }
          assert.ok(Math.abs(mixed.style[l] - expected) <= 1e-4 * Math.abs(expected), `${kind} at ${l}: ${mixed.style[l]} vs ${expected}`);
        }
      });
    }
  });

  test('the self-similarity content loss', () => {
    setUp();
    const mixed = termsWith({ contentLoss: 'self-similarity' });
    tidy(() => {
      const expected = selfSimilarityLoss(featureRows(featuresOf(output).get('relu2_1')!), featureRows(featuresOf(photo).get('relu2_1')!)).mul(3).item();
      assert.ok(Math.abs(mixed.content.relu2_1 - expected) <= 1e-4 * expected, `${mixed.content.relu2_1} vs ${expected}`);
    });
  });

  test('a mask with another style loss than gram is refused in one line', () => {
    setUp();
    tidy(() => {
      const mask = tensor(new Float32Array(32 * 32).fill(1), [1, 1, 32, 32]);
      assert.throws(() => new GatysObjective(net, photo, [{ image: painting, mask }], layers, weights, { styleLoss: 'w2' }), (e: unknown) => e instanceof NstError && /--style-mask works with --style-loss gram only/.test(e.message));
    });
  });

  test('teardown', () => {
    for (const t of [photo, painting, output]) t?.dispose();
    net?.dispose();
  });
});

/** Advances libtorch's generator as the objective's position sampler does when it is made. */
function randomFromTorchForTest(): void {
  tidy(() => randomFromTorch());
}
