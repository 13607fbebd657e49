/**
 * The fast inference path of the transformer networks: the instance normalisation op on one
 * sample (batch-norm kernel, channels-last, bf16), the sub-pixel form of the ml5 transposed
 * convolution, edge padding (zero pad + mirrored strips), and the weight cache of a frozen network. Each is
 * compared with a plain libtorch formulation: values and gradients.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { convTranspose2d, gradients, instanceNorm, pad, Tensor, tensor, tidy } from '../src/engine';
import { loadStyleModel } from '../src/models';
import { edgePad, subPixelKernel, subPixelTransposedConv } from '../src/models/transformer-layers';
import { engineSuite, uniform } from './helpers/numeric';
import { MODELS_DIR } from './helpers/reference';

engineSuite('transformer-layers');

const random = (shape: number[], seed: number): Tensor => tensor(uniform(shape.reduce((a, b) => a * b, 1), seed), shape);

/** max |a − b| / max(1, max |b|). */
function maxRelDiff(a: Tensor, b: Tensor): number {
  return tidy(() => a.cast('float32').sub(b.cast('float32')).abs().max().item() / Math.max(1, b.abs().max().item()));
}

/** Instance norm written out with elementwise ops (the definition). */
function instanceNormByFormula(x: Tensor, scale: Tensor, shift: Tensor, eps: number): Tensor {
  const c = x.shape[1];
  const mean = x.mean([2, 3], true);
  const variance = x.variance([2, 3], true);
  return x.sub(mean).div(variance.add(eps).sqrt()).mul(scale.reshape([1, c, 1, 1])).add(shift.reshape([1, c, 1, 1]));
}

describe('instance normalisation', () => {
  test('one and several samples, NCHW and channels-last, match the formula in values and gradients', () => {
    for (const shape of [[1, 4, 6, 5], [3, 4, 6, 5]]) {
      for (const channelsLast of [false, true]) {
        tidy(() => {
          const x = random(shape, 11).mul(3).add(0.5).contiguous(channelsLast).variable();
          const scale = random([4], 12).variable();
          const shift = random([4], 13).variable();
          const label = `${shape.join('x')} channelsLast=${channelsLast}`;
          const fused = instanceNorm(x, scale, shift, 1e-3);
          const formula = instanceNormByFormula(x, scale, shift, 1e-3);
          assert.deepEqual(fused.shape, shape);
          assert.ok(maxRelDiff(fused, formula) < 1e-5, `${label}: values`);
          const weights = random(shape, 14); // a non-trivial upstream gradient
          const g1 = gradients([fused.mul(weights).sum()], [x, scale, shift]);
          const g2 = gradients([formula.mul(weights).sum()], [x, scale, shift]);
          g1.forEach((g, i) => assert.ok(maxRelDiff(g!, g2[i]!) < 1e-4, `${label}: gradient ${i}`));
        });
      }
    }
  });

  test('bf16 channels-last input with fp32 scale and shift stays within bf16 rounding', () => {
    tidy(() => {
      const x = random([1, 8, 16, 16], 21).mul(5).add(2);
      const scale = random([8], 22);
      const shift = random([8], 23);
      const low = instanceNorm(x.cast('bfloat16').contiguous(true), scale, shift, 1e-5);
      assert.equal(low.dtype, 'bfloat16');
      assert.ok(maxRelDiff(low, instanceNormByFormula(x, scale, shift, 1e-5)) < 2e-2);
    });
  });
});

describe('sub-pixel transposed convolution', () => {
  for (const [h, w] of [[6, 7], [1, 1], [4, 4]]) {
    test(`equals the 3×3 stride-2 transposed convolution cropped to 2H×2W (${h}×${w}), values and gradients`, () => {
      tidy(() => {
        const x = random([2, 5, h, w], 31).variable();
        const weight = random([5, 4, 3, 3], 32).variable(); // [in, out, kh, kw]
        const reference = convTranspose2d(x, weight, null, 2, 0).narrow(2, 0, 2 * h).narrow(3, 0, 2 * w);
        const subPixel = subPixelTransposedConv(x, subPixelKernel(weight));
        assert.deepEqual(subPixel.shape, [2, 4, 2 * h, 2 * w]);
        assert.ok(maxRelDiff(subPixel, reference) < 1e-6, 'values');
        const upstream = random(reference.shape, 33);
        const g1 = gradients([subPixel.mul(upstream).sum()], [x, weight]);
        const g2 = gradients([reference.mul(upstream).sum()], [x, weight]);
        g1.forEach((g, i) => assert.ok(maxRelDiff(g!, g2[i]!) < 1e-5, `gradient ${i}`));
      });
    });
  }
});

describe('edge padding', () => {
  test('reflect and replicate equal pad(), in fp32 and bf16 channels-last, values and gradients', () => {
    tidy(() => {
      const x = random([2, 3, 5, 7], 41).variable();
      const frozen = random([2, 3, 5, 7], 41);
      for (const mode of ['reflect', 'replicate'] as const) {
        for (const p of [1, 4]) {
          const expected = pad(x, [p, p, p, p], mode);
          const ours = edgePad(x, p, mode);
          assert.equal(maxRelDiff(ours, expected), 0, `${mode} ${p}`);
          assert.equal(maxRelDiff(edgePad(frozen, p, mode), expected), 0, `${mode} ${p} without gradients`);
          const low = edgePad(frozen.cast('bfloat16').contiguous(true), p, mode);
          assert.equal(maxRelDiff(low, expected.cast('bfloat16')), 0, `${mode} ${p} bf16`);
          const upstream = random(expected.shape, 42 + p);
          const [g1] = gradients([ours.mul(upstream).sum()], [x]);
          const [g2] = gradients([expected.mul(upstream).sum()], [x]);
          assert.ok(maxRelDiff(g1!, g2!) < 1e-6, `${mode} ${p} gradient`);
        }
      }
    });
  });
});

describe('weight cache of a frozen network', () => {
  test('follows precision changes and stops once the parameters are handed out', () => {
    const model = loadStyleModel(path.join(MODELS_DIR, 'fast-style', 'wave'));
    const net = model.net;
    try {
      tidy(() => {
        const x = random([1, 3, 20, 24], 51).abs();
        const fp32 = net.stylise(x);
        net.precision = 'bf16';
        const bf16 = net.stylise(x);
        const d = maxRelDiff(bf16, fp32);
        assert.ok(d > 0 && d < 0.1, `bf16 differs from fp32 by bf16 rounding only: ${d}`);
        net.precision = 'fp32';
        assert.equal(maxRelDiff(net.stylise(x), fp32), 0, 'back to fp32 gives the fp32 result');
        // Zeroing the last conv in place (as an optimiser would) must show in the next output:
        // the last layer then outputs its normalisation shift only, a flat image.
        net.parameters().get('conv_out.weight')!.mulInPlace(0);
        const flat = net.stylise(x);
        assert.ok(tidy(() => flat.variance([2, 3]).max().item()) < 1e-10, 'output is flat after zeroing conv_out');
      });
    } finally {
      net.dispose();
    }
  });
});
