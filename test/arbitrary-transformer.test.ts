/**
 * The port of the Magenta arbitrary-style transformer: equal to the TF.js graph model run by
 * @tensorflow/tfjs (CPU backend) on the same input, in zero padding (the graph's own) and in
 * reflection padding (the graph as the page runs it, its Pads turned into MirrorPads); the
 * gradient with respect to the style vector against finite differences; reflection padding
 * leaves no frame; bf16 stays close to fp32; any size in, the same size out.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gradients, tensor, Tensor, tidy } from '../src/engine';
import { NstError } from '../src/errors';
import { ArbitraryStyleTransformer, ARBITRARY_MODEL_SUBDIR, readLayersModelWeights, STYLE_VECTOR_LENGTH } from '../src/models';
import { engineSuite, uniform } from './helpers/numeric';
import { MODELS_DIR, SHARED_DIR } from './helpers/reference';
import { frameRatio } from '../src/transfer/arbitrary/bench';
import { loadSquare } from '../src/transfer/arbitrary/run-fit';
import { imageToTensor } from '../src/transfer/image-tensor';

engineSuite('arbitrary-transformer');

const MODEL_DIR = path.join(MODELS_DIR, ARBITRARY_MODEL_SUBDIR);
const MODEL_JSON = path.join(MODEL_DIR, 'model.json');
const H = 32;
const W = 44;

function photo(seed: number, h = H, w = W): Float32Array {
  return uniform(3 * h * w, seed).map((v) => 0.5 + 0.5 * v);
}

/** The graph model, run by TF.js on its CPU backend: NCHW photo in [0,1], style vector → NCHW output. */
async function runTfjs(x: Float32Array, h: number, w: number, style: Float32Array, padding: 'zero' | 'reflect' = 'zero'): Promise<Float32Array> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const json = JSON.parse(fs.readFileSync(MODEL_JSON, 'utf8'));
  // 'reflect': the graph as the page runs it (web/src/arbitrary-net.ts, withReflectionPadding).
  if (padding === 'reflect') {
    const mode = { s: Array.from('REFLECT', (c) => c.charCodeAt(0)) };
    for (const n of json.modelTopology.node) if (n.op === 'Pad') Object.assign(n, { op: 'MirrorPad', attr: { ...(n.attr ?? {}), mode } });
  }
  const shard = fs.readFileSync(path.join(MODEL_DIR, json.weightsManifest[0].paths[0]));
  const model = await tf.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData: shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.length),
      format: json.format,
    }),
  });
  const nchw = tf.tensor4d(x, [1, 3, h, w]);
  const input = tf.transpose(nchw, [0, 2, 3, 1]);
  const y = model.execute({ Placeholder: input, Placeholder_1: tf.tensor4d(style, [1, 1, 1, STYLE_VECTOR_LENGTH]) }) as import('@tensorflow/tfjs').Tensor;
  const out = tf.transpose(y, [0, 3, 1, 2]);
  const data = (await out.data()) as Float32Array;
  tf.dispose([nchw, input, y, out]);
  model.dispose();
  return data;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('arbitrary-style transformer', () => {
  const net = ArbitraryStyleTransformer.load(MODEL_JSON);
  const style = uniform(STYLE_VECTOR_LENGTH, 7).map((v) => 0.8 * v);
  after(() => net.dispose());

  test('equals the TF.js graph model (zero padding, fp32) to 1e-4', async () => {
    const x = photo(3);
    const expected = await runTfjs(x, H, W, style);
    net.padding = 'zero';
    net.precision = 'fp32';
    const actual = tidy(() => net.forward(tensor(x, [1, 3, H, W]), tensor(style, [STYLE_VECTOR_LENGTH])).data());
    assert.equal(actual.length, expected.length);
    const diff = maxAbsDiff(actual, expected);
    assert.ok(diff <= 1e-4, `max |port − tfjs| = ${diff}`);
    // The style matters: another vector gives another image.
    const other = tidy(() => net.forward(tensor(x, [1, 3, H, W]), tensor(new Float32Array(STYLE_VECTOR_LENGTH), [STYLE_VECTOR_LENGTH])).data());
    assert.ok(maxAbsDiff(other, expected) > 0.05);
  });

  test("the graph with its paddings turned into reflections (the page's) equals the port's reflection padding to 1e-4", async () => {
    const x = photo(4);
    const expected = await runTfjs(x, H, W, style, 'reflect');
    net.padding = 'reflect';
    net.precision = 'fp32';
    const actual = tidy(() => net.forward(tensor(x, [1, 3, H, W]), tensor(style, [STYLE_VECTOR_LENGTH])).data());
    const diff = maxAbsDiff(actual, expected);
    assert.ok(diff <= 1e-4, `max |port − tfjs| = ${diff}`);
  });

  test('the gradient with respect to the style vector matches finite differences', () => {
    net.padding = 'reflect';
    net.precision = 'fp32';
    tidy(() => {
      const x = tensor(photo(5), [1, 3, H, W]);
      const weights = tensor(uniform(3 * H * W, 6), [1, 3, H, W]);
      const f = (v: Tensor) => net.forward(x, v).mul(weights).sum();
      const v = tensor(style, [STYLE_VECTOR_LENGTH]).variable();
      const [g] = gradients([f(v)], [v]);
      const direction = uniform(STYLE_VECTOR_LENGTH, 8);
      const analytic = g!.dot(tensor(direction, [STYLE_VECTOR_LENGTH])).item();
      // The function is strongly curved on tiny images: a small step (fp32 noise stays ~0.1 %).
      const eps = 5e-4;
      const at = (s: number) => f(tensor(style.map((sv, i) => sv + s * direction[i]), [STYLE_VECTOR_LENGTH])).item();
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      assert.ok(Math.abs(analytic - numeric) <= 0.02 * Math.abs(numeric), `analytic ${analytic} vs numeric ${numeric}`);
    });
  });

  test("reflection padding leaves no frame; the graph's zero padding does", async () => {
    net.precision = 'fp32';
    const image = await loadSquare(path.join(SHARED_DIR, 'images', 'content', 'tubingen.jpg'), 64);
    const ratio = (padding: 'zero' | 'reflect') => {
      net.padding = padding;
      return tidy(() => frameRatio(net.stylise(imageToTensor(image), tensor(style, [STYLE_VECTOR_LENGTH]))));
    };
    const reflect = ratio('reflect');
    const zero = ratio('zero');
    assert.ok(reflect < 1.5, `reflect: edge step / interior step = ${reflect}`);
    assert.ok(zero > 2.5, `zero: edge step / interior step = ${zero}`);
  });

  test('bf16 stays close to fp32; any size in gives the same size out, in [0,1]', () => {
    net.padding = 'reflect';
    tidy(() => {
      const x = tensor(photo(9, 30, 37), [1, 3, 30, 37]);
      const v = tensor(style, [STYLE_VECTOR_LENGTH]);
      net.precision = 'fp32';
      const a = net.stylise(x, v);
      net.precision = 'bf16';
      const b = net.stylise(x, v);
      net.precision = 'fp32';
      assert.deepEqual(a.shape, [1, 3, 30, 37]);
      assert.deepEqual(b.shape, [1, 3, 30, 37]);
      assert.ok(a.min().item() >= 0 && a.max().item() <= 1);
      const meanDiff = a.sub(b).abs().mean().item();
      assert.ok(meanDiff < 0.02, `mean |fp32 − bf16| = ${meanDiff}`);
    });
  });

  test('a weight missing or misshapen is a one-line error', () => {
    const weights = readLayersModelWeights(MODEL_JSON, { skipIntegerWeights: true });
    const name = 'transformer/expand/conv3/dilate_conv/pointwise_weights';
    const broken = new Map(weights);
    broken.delete(name);
    assert.throws(() => ArbitraryStyleTransformer.fromWeights(broken, { source: 'test' }), (e: Error) => e instanceof NstError && e.message.includes(name) && !e.message.includes('\n'));
    broken.set(name, { name, shape: [1, 1, 32, 4], values: new Float32Array(128) });
    assert.throws(() => ArbitraryStyleTransformer.fromWeights(broken, { source: 'test' }), /has shape \[1,1,32,4\], expected \[1,1,32,3\]/);
  });
});
