/**
 * The fit's distribution style term (src/transfer/arbitrary/distribution-loss.ts): zero for the
 * painting itself, the same value from two targets (fixed directions), and in a fit: free below
 * its level (the vector is the one without it, bit for bit) and lowering the ratio above it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { keep, Tensor, tidy } from '../src/engine';
import { ArbitraryStyleTransformer, ARBITRARY_MODEL_SUBDIR, STYLE_VECTOR_LENGTH, Vgg19 } from '../src/models';
import { DistributionTarget } from '../src/transfer/arbitrary/distribution-loss';
import { FitLossSettings, fitStage } from '../src/transfer/arbitrary/fit';
import { resolveFitOptions } from '../src/transfer/arbitrary/options';
import { loadSquare } from '../src/transfer/arbitrary/run-fit';
import { imageToTensor } from '../src/transfer/image-tensor';
import { engineSuite } from './helpers/numeric';
import { MODELS_DIR, SHARED_DIR } from './helpers/reference';

engineSuite('distribution-loss');

const IMAGES = path.join(SHARED_DIR, 'images');
const LAYERS = ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'];
const SETTINGS: FitLossSettings = {
  contentWeight: 5,
  styleWeight: 100,
  tvWeight: 1e-3,
  contentLayers: ['relu4_2'],
  styleLayers: LAYERS,
};

async function images(size: number): Promise<Tensor[]> {
  const files = [path.join(IMAGES, 'style', 'candy.jpg'), path.join(IMAGES, 'content', 'chicago.jpg')];
  return (await Promise.all(files.map((f) => loadSquare(f, size)))).map((im) => keep(tidy(() => imageToTensor(im))));
}

describe('distribution term', () => {
  test('zero for the painting itself, positive for a photo, the same from two targets', async () => {
    const vgg = Vgg19.load({ upTo: 'relu5_1' });
    const [painting, photo] = await images(128);
    const a = DistributionTarget.ofPainting(vgg, painting, LAYERS, 16, [128, 128]);
    const b = DistributionTarget.ofPainting(vgg, painting, LAYERS, 16, [128, 128]);
    try {
      const toPhoto = a.imageDistance(vgg, photo);
      assert.ok(toPhoto > 1, `photo's distance ${toPhoto}`);
      assert.ok(a.imageDistance(vgg, painting) < 1e-3 * toPhoto, `painting's own distance ${a.imageDistance(vgg, painting)}`);
      assert.equal(b.imageDistance(vgg, photo), toPhoto);
    } finally {
      a.dispose();
      b.dispose();
      painting.dispose();
      photo.dispose();
      vgg.dispose();
    }
  });

  test('in a fit: free below its level, lowers the ratio above it', async () => {
    const net = ArbitraryStyleTransformer.load(path.join(MODELS_DIR, ARBITRARY_MODEL_SUBDIR, 'model.json'));
    const vgg = Vgg19.load({ upTo: 'relu5_1' });
    const [painting, photo] = await images(64);
    const start = new Float32Array(STYLE_VECTOR_LENGTH).map((_, i) => 0.2 * Math.sin(i));
    const inputs = { painting, photos: [photo], evaluations: 6, contentScale: 1 };
    try {
      const plain = fitStage(net, vgg, inputs, SETTINGS, start, 0);
      const free = fitStage(net, vgg, inputs, { ...SETTINGS, distribution: { weight: 10, level: 10, layers: LAYERS, directions: 16 } }, start, 0);
      assert.deepEqual(Array.from(free.vector), Array.from(plain.vector));
      assert.equal(free.best.distribution, 0);
      const ratios: number[] = [];
      const pushed = fitStage(net, vgg, inputs, { ...SETTINGS, distribution: { weight: 100, level: 0, layers: LAYERS, directions: 16 } }, start, 0, {
        onStep: (s) => ratios.push(s.losses.distributionRatio!),
      });
      assert.ok(pushed.best.distributionRatio! < 0.95 * ratios[0], `ratio ${ratios[0]} → ${pushed.best.distributionRatio}`);
      assert.ok(pushed.best.distributionRatio! < free.best.distributionRatio!, `with the term ${pushed.best.distributionRatio}, without ${free.best.distributionRatio}`);
    } finally {
      painting.dispose();
      photo.dispose();
      net.dispose();
      vgg.dispose();
    }
  });

  test('options: off by default, last stage only when on; bad values are one-line errors', () => {
    const styleImage = path.join(IMAGES, 'style', 'candy.jpg');
    const photos = path.join(IMAGES, 'content');
    const o = resolveFitOptions({ styleImage, photos, output: '/tmp/x.style.json', overwrite: true });
    assert.equal(o.swdWeight, 0);
    assert.deepEqual(o.stages.map((s) => s.swdScale), [0, 0, 1]);
    assert.throws(() => resolveFitOptions({ styleImage, photos, swdDirections: 0 }), /swd-directions/);
    assert.throws(() => resolveFitOptions({ styleImage, photos, stageSwdScales: [1] }), /distribution-term scales/);
    assert.throws(() => resolveFitOptions({ styleImage, photos, swdLayers: ['relu9_9'] }), /relu9_9/);
  });
});
