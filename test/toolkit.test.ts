/**
 * The optimisation toolkit's options: colour preservation, masks, blending, presets and layer
 * weights, multi-resolution, gradient and loss normalisation, noise ratio, reports, animation,
 * and their validation.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { configureThread, keep, rand, resize, tensor, Tensor, tidy, mseLoss } from '../src/engine';
import { colourMoments, loadImage, matchColourStatistics, rgbToYuv } from '../src/image';
import { toCaffe, Vgg19 } from '../src/models';
import { GatysObjective, gramMatrix } from '../src/losses';
import { NstError } from '../src/errors';
import { resolveStylizeOptions, runStylize, StylizeOptions } from '../src/transfer/gatys';
import { upscaleStage } from '../src/transfer/gatys/pyramid';
import { MODELS_DIR, REFERENCE_DIR, relErr } from './helpers/reference';

const CONTENT = path.join(REFERENCE_DIR, 'content.png');
const STYLE = path.join(REFERENCE_DIR, 'style.png');
let dir: string;
let net: Vgg19;

before(() => {
  configureThread({ threads: 2 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-toolkit-'));
  net = Vgg19.load({ modelDir: MODELS_DIR, upTo: 'relu5_1' });
});
after(() => {
  net.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

const base = (name: string, extra: Partial<StylizeOptions> = {}): StylizeOptions => ({
  content: CONTENT, style: STYLE, output: path.join(dir, name), size: 48, iterations: 6, threads: 2, modelDir: MODELS_DIR, seed: 5, precision: 'fp32', ...extra,
});

async function writeMask(name: string, w: number, h: number, leftWhite: boolean): Promise<string> {
  const px = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = (x < w / 2) === leftWhite ? 255 : 0;
  const file = path.join(dir, name);
  await sharp(px, { raw: { width: w, height: h, channels: 1 } }).png().toFile(file);
  return file;
}

describe('option validation', () => {
  const cases: [string, Partial<StylizeOptions>, RegExp][] = [
    ['masks that do not match the styles', { styleMasks: [CONTENT, STYLE] }, /2 style mask\(s\) for 1 style image/],
    ['blend weights that do not match the styles', { style: [STYLE, STYLE], styleBlendWeights: [1] }, /1 blend weight\(s\) for 2 style image/],
    ['scales that are not increasing', { scales: [128, 64] }, /--scales must be increasing/],
    ['an unknown preset', { preset: 'cubism' }, /unknown preset 'cubism' \(available: gatys, high-level/],
    ['layer weights of the wrong length', { styleLayerWeights: [1, 2] }, /--style-layer-weights has 2 values for 5 style layers/],
    ['a noise ratio above 1', { noiseRatio: 2 }, /--noise-ratio must be between 0 and 1/],
    ['an animation without frames', { animation: 'gif' }, /--animation needs --save-every/],
  ];
  for (const [name, extra, message] of cases) {
    test(`${name}: one-line NstError`, () => {
      assert.throws(() => resolveStylizeOptions(base('x.png', extra)), (err: Error) => err instanceof NstError && message.test(err.message) && !err.message.includes('\n'));
    });
  }

  test('presets supply layers and weights; explicit options override; decay and blend weights are applied', () => {
    const hi = resolveStylizeOptions(base('x.png', { preset: 'high-level' }));
    assert.deepEqual(hi.styleLayers, ['relu3_1', 'relu4_1', 'relu5_1']);
    const soft = resolveStylizeOptions(base('x.png', { preset: 'soft-content' }));
    assert.deepEqual(soft.contentLayers, ['relu5_2']);
    const own = resolveStylizeOptions(base('x.png', { preset: 'high-level', styleLayers: ['relu1_1'] }));
    assert.deepEqual(own.styleLayers, ['relu1_1']);
    assert.deepEqual(resolveStylizeOptions(base('x.png', { preset: 'fine-texture' })).styleLayerWeights, [1, 0.5, 0.25, 0.125, 0.0625]);
    const decayed = resolveStylizeOptions(base('x.png', { styleLayerDecay: 0.5 }));
    assert.deepEqual(decayed.styleLayerWeights, [1, 0.5, 0.25, 0.125, 0.0625]);
    const blend = resolveStylizeOptions(base('x.png', { style: [STYLE, CONTENT], styleBlendWeights: [3, 1] }));
    assert.deepEqual(blend.styleBlendWeights, [0.75, 0.25]);
  });
});

describe('colour preservation', () => {
  test('histogram matching gives the style image the photo\'s colour mean and covariance', async () => {
    const [c, s] = await Promise.all([loadImage(CONTENT), loadImage(STYLE)]);
    const matched = matchColourStatistics(s, c);
    const target = colourMoments(c);
    const got = colourMoments(matched);
    for (let i = 0; i < 3; i++) {
      assert.ok(Math.abs(got.mean[i] - target.mean[i]) < 1e-4, `mean ${i}`);
      for (let j = 0; j < 3; j++) assert.ok(Math.abs(got.cov[i][j] - target.cov[i][j]) < 1e-4, `cov ${i}${j}: ${got.cov[i][j]} vs ${target.cov[i][j]}`);
    }
    const before = colourMoments(s);
    assert.ok(Math.abs(before.mean[0] - target.mean[0]) > 0.01, 'the inputs differ to begin with');
  });

  test('luminance mode keeps the photo\'s chroma; histogram mode keeps its colours closer than plain transfer', async () => {
    const lum = await runStylize(resolveStylizeOptions(base('lum.png', { preserveColors: 'luminance', iterations: 10 })));
    const plain = await runStylize(resolveStylizeOptions(base('plain.png', { iterations: 10 })));
    const hist = await runStylize(resolveStylizeOptions(base('hist.png', { preserveColors: 'histogram', iterations: 10 })));
    const size = { width: lum.width, height: lum.height };
    const [content, l, p, h] = await Promise.all([CONTENT, lum.output, plain.output, hist.output].map((f) => loadImage(f, size)));
    const n = size.width * size.height;
    const [cy, ly, py] = [content, l, p].map(rgbToYuv);
    const chromaDiffs: number[] = [];
    let plainChromaErr = 0;
    for (let i = n; i < 3 * n; i++) {
      chromaDiffs.push(Math.abs(ly.data[i] - cy.data[i]));
      plainChromaErr = Math.max(plainChromaErr, Math.abs(py.data[i] - cy.data[i]));
    }
    // Where the painted luminance is near black or white, the photo's chroma leaves the RGB gamut
    // and is clipped when saved (the bounded optimiser reaches those extremes): judge the 99th percentile.
    chromaDiffs.sort((a, b) => a - b);
    const chromaErr = chromaDiffs[Math.floor(chromaDiffs.length * 0.99)];
    assert.ok(chromaErr < 0.03, `luminance mode: 99th-percentile chroma difference ${chromaErr}`);
    assert.ok(plainChromaErr > 0.1, `plain transfer changes chroma (${plainChromaErr})`);
    let lumaDiff = 0;
    for (let i = 0; i < n; i++) lumaDiff += Math.abs(ly.data[i] - cy.data[i]) / n;
    assert.ok(lumaDiff > 0.01, 'luminance was still stylised');
    const dist = (a: ReturnType<typeof colourMoments>, b: ReturnType<typeof colourMoments>) => Math.hypot(...a.mean.map((v, i) => v - b.mean[i]));
    const mc = colourMoments(content);
    assert.ok(dist(colourMoments(h), mc) < dist(colourMoments(p), mc), 'histogram mode stays closer to the photo\'s colours');
  });
});

describe('L-BFGS memory', () => {
  test('--lbfgs-history changes the trajectory and is recorded in the report', async () => {
    const short = await runStylize(resolveStylizeOptions(base('h1.png', { iterations: 12, lbfgsHistory: 1, report: true })));
    const full = await runStylize(resolveStylizeOptions(base('h100.png', { iterations: 12 })));
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'h1.report.json'), 'utf8'));
    assert.equal(report.settings.lbfgsHistory, 1);
    assert.ok(full.losses!.total !== short.losses!.total, 'one pair of memory is a different optimiser');
    assert.ok(full.losses!.total < short.losses!.total * 1.5, `history 100 ends no worse: ${full.losses!.total} vs ${short.losses!.total}`);
  });
});

describe('multi-resolution upscaling', () => {
  test('plain upscaling is bilinear; with a reference it adds the detail band the coarse stage lacks', () => {
    tidy(() => {
      const reference = rand([1, 3, 12, 16]).mul(255);
      const coarse = resize(reference, 6, 8, 'area');
      const plain = upscaleStage(coarse, 12, 16);
      assert.equal(plain.sub(resize(coarse, 12, 16, 'bilinear')).abs().max().item(), 0);
      // The coarse image of the reference itself comes back as the reference, detail included.
      assert.ok(upscaleStage(coarse, 12, 16, reference).sub(reference).abs().max().item() < 1e-3);
      // Any other coarse result gets the same band on top of its own upscaling.
      const other = rand([1, 3, 6, 8]).mul(255);
      const added = upscaleStage(other, 12, 16, reference).sub(resize(other, 12, 16, 'bilinear'));
      const band = reference.sub(resize(coarse, 12, 16, 'bilinear'));
      assert.ok(added.sub(band).abs().max().item() < 1e-3, 'the added detail is the reference band');
      assert.ok(band.abs().max().item() > 1, 'the band is not empty');
    });
  });
});

describe('objective options', () => {
  test('a style mask: changes where the mask is 0 leave that style\'s loss unchanged', () => {
    tidy(() => {
      const [h, w] = [24, 32];
      const style = toCaffe(rand([1, 3, 24, 24]));
      const mask = tensor(Float32Array.from({ length: h * w }, (_, i) => (i % w < w / 2 ? 1 : 0)), [1, 1, h, w]);
      const objective = new GatysObjective(net, null, [{ image: style, mask }], { content: [], style: ['relu1_1'] }, { content: 0, style: 100, tv: 0 });
      try {
        const x = toCaffe(rand([1, 3, h, w]));
        const pixels = x.data();
        for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let xx = w / 2 + 1; xx < w; xx++) pixels[(c * h + y) * w + xx] += 50;
        const changed = tensor(pixels, [1, 3, h, w]);
        const a = objective.terms(x).total.item();
        const b = objective.terms(changed).total.item();
        assert.ok(a > 0);
        assert.equal(a, b, 'masked-out region does not affect the loss');
        const full = new GatysObjective(net, null, style, { content: [], style: ['relu1_1'] }, { content: 0, style: 100, tv: 0 });
        assert.notEqual(full.terms(x).total.item(), full.terms(changed).total.item(), 'without a mask it does');
        full.dispose();
      } finally {
        objective.dispose();
      }
    });
  });

  test('blended styles target Σ wᵢ Gᵢ', () => {
    tidy(() => {
      const s1 = toCaffe(rand([1, 3, 32, 32]));
      const s2 = toCaffe(rand([1, 3, 32, 32]));
      const o = new GatysObjective(net, null, [{ image: s1, weight: 0.25 }, { image: s2, weight: 0.75 }], { content: [], style: ['relu2_1'] }, { content: 0, style: 1, tv: 0 });
      const f = (s: Tensor) => gramMatrix(net.forward(s, ['relu2_1']).get('relu2_1')!);
      const expected = f(s1).mul(0.25).add(f(s2).mul(0.75));
      assert.ok(mseLoss(o.styleTarget('relu2_1')!, expected).item() < 1e-6 * expected.square().mean().item());
      o.dispose();
    });
  });

  test('normalised gradients do not grow with the distance to the target (a linear layer)', () => {
    tidy(() => {
      const content = toCaffe(rand([1, 3, 16, 16]));
      const delta = rand([1, 3, 16, 16]).sub(0.5).mul(20);
      const grad = (normalizeGradients: boolean, k: number) => {
        const o = new GatysObjective(net, content, content, { content: ['conv1_1'], style: [] }, { content: 5, style: 0, tv: 0 }, { normalizeGradients });
        const x = content.add(delta.mul(k)).detach().variable();
        const g = o.evaluate(x).grad.norm().item();
        o.dispose();
        return g;
      };
      assert.ok(relErr(grad(true, 2), grad(true, 1)) < 1e-3, 'normalised: same gradient at twice the distance');
      assert.ok(relErr(grad(false, 2), 2 * grad(false, 1)) < 1e-3, 'plain: the gradient doubles');
    });
  });

  test("'sum' normalisation is the paper's ½Σ(F−P)² and Σ(G−A)²/(4N²M²)", () => {
    tidy(() => {
      const content = toCaffe(rand([1, 3, 16, 16]));
      const style = toCaffe(rand([1, 3, 16, 16]));
      const x = toCaffe(rand([1, 3, 16, 16]));
      const o = new GatysObjective(net, content, style, { content: ['relu1_1'], style: ['relu1_1'] }, { content: 2, style: 3, tv: 0 }, { normalization: 'sum' });
      const t = o.terms(x);
      const fx = net.forward(x, ['relu1_1']).get('relu1_1')!;
      const fc = net.forward(content, ['relu1_1']).get('relu1_1')!;
      const fs = net.forward(style, ['relu1_1']).get('relu1_1')!;
      const expectedContent = fx.sub(fc).square().sum().item() * 0.5 * 2;
      const raw = (f: Tensor) => f.reshape([64, 256]).matmul(f.reshape([64, 256]).transpose(0, 1));
      const expectedStyle = (raw(fx).sub(raw(fs)).square().sum().item() * 3) / (4 * 64 * 64 * 256 * 256);
      assert.ok(relErr(t.content.get('relu1_1')!.item(), expectedContent) < 1e-4);
      assert.ok(relErr(t.style.get('relu1_1')!.item(), expectedStyle) < 1e-3);
      o.dispose();
    });
  });
});

describe('runs', () => {
  test('multi-resolution stages grow in size and end at the last scale', async () => {
    const r = await runStylize(resolveStylizeOptions(base('ms.png', { scales: [32, 48], scaleIterations: [4, 3] })));
    assert.deepEqual(r.stages.map((s) => Math.max(s.size.width, s.size.height)), [32, 48]);
    assert.deepEqual(r.stages.map((s) => s.iterations), [4, 3]);
    assert.equal(r.iterations, 7);
    const meta = await sharp(r.output).metadata();
    assert.equal(Math.max(meta.width!, meta.height!), 48);
    for (const s of r.stages) assert.ok(s.peakRssMiB > 0);
  });

  test('noise ratio moves the start away from the content', async () => {
    const first = async (noiseRatio: number) => {
      let loss = NaN;
      await runStylize(resolveStylizeOptions(base(`nr${noiseRatio}.png`, { noiseRatio, iterations: 1 })), {
        onProgress: (p) => (loss = Object.values(p.losses.content)[0]),
      });
      return loss;
    };
    assert.equal(await first(0), 0);
    assert.ok((await first(0.5)) > 0);
  });

  test('two masked styles, a report, a loss plot and an animation', async () => {
    const left = await writeMask('left.png', 64, 48, true);
    const right = await writeMask('right.png', 64, 48, false);
    const r = await runStylize(
      resolveStylizeOptions(base('masked.png', { style: [STYLE, CONTENT], styleMasks: [left, right], iterations: 6, saveEvery: 2, animation: 'webp', printEvery: 2 })),
    );
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'masked.report.json'), 'utf8'));
    assert.deepEqual(report.settings.styles, [STYLE, CONTENT]);
    assert.deepEqual(report.losses.map((l: { iteration: number }) => l.iteration), [1, 2, 4, 6]);
    assert.ok(Object.keys(report.losses[0].losses.style).length === 5);
    assert.ok(report.result.seconds > 0 && report.result.stages.length === 1);
    const svg = fs.readFileSync(path.join(dir, 'masked.losses.svg'), 'utf8');
    assert.match(svg, /^<svg[\s\S]*<polyline[\s\S]*<\/svg>$/);
    const anim = await sharp(path.join(dir, 'masked.anim.webp')).metadata();
    assert.equal(anim.pages, r.intermediates.length + 1);
    assert.deepEqual(r.intermediates.map((f) => path.basename(f)), ['masked_0002.png', 'masked_0004.png']);
  });
});
