/**
 * The optimisation the user gets: pixels inside the displayable range on every evaluation, the
 * reported loss equal to the score of the written file, no overshoot and no saturated speckles on
 * a content start, overflow reported as a failure (CLI and server), and the quality schedules.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { configureThread, keep, tensor, tidy } from '../src/engine';
import { LbfgsWolfe } from '../src/optim';
import { loadImage, RgbImage } from '../src/image';
import { Vgg19 } from '../src/models';
import { GatysObjective } from '../src/losses';
import { hasConverged, planStages, resolveStylizeOptions, runStylize, StylizeOptions } from '../src/transfer/gatys';
import { imageBox, makeOptimizer } from '../src/transfer/gatys/optimiser-choice';
import { imageToTensor } from '../src/transfer/image-tensor';
import { scoreImageFile } from '../src/transfer/gatys/score-file';
import { disposePairs, resampledPairs } from '../src/transfer/gatys/warm-start';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { MODELS_DIR, REFERENCE_DIR } from './helpers/reference';
import { CONTENT_PNG, jobForm, json, startTestServer, STYLE_PNG, waitForJob } from './helpers/server';

const SHARED_IMAGES = path.join(PROJECT_ROOT, '..', 'shared', 'images');
const CONTENT = path.join(REFERENCE_DIR, 'content.png');
const STYLE = path.join(REFERENCE_DIR, 'style.png');
let dir: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-ttq-'));
  configureThread({ threads: 2 });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function options(name: string, extra: Partial<StylizeOptions> = {}): StylizeOptions {
  return { content: CONTENT, style: STYLE, output: path.join(dir, name), size: 64, iterations: 10, threads: 2, modelDir: MODELS_DIR, seed: 3, precision: 'fp32', ...extra };
}

/** The loss contract's score of an image file, at the run's sizes (content and style at `size`). */
async function scoreFile(file: string, size: number): Promise<number> {
  const net = Vgg19.load({ modelDir: MODELS_DIR, upTo: 'relu5_1', precision: 'fp32' });
  try {
    return await scoreImageFile(net, file, CONTENT, STYLE, size);
  } finally {
    net.dispose();
  }
}

/** Pixels at 0 or 255 in some channel that differ from their 3×3 median there by more than 100/255. */
function isolatedSaturatedPixels(img: RgbImage): number {
  const { width: w, height: h, data } = img;
  let count = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      for (let c = 0; c < 3; c++) {
        const v = data[(y * w + x) * 3 + c];
        if (v !== 0 && v !== 255) continue;
        const around: number[] = [];
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) around.push(data[((y + dy) * w + x + dx) * 3 + c]);
        around.sort((a, b) => a - b);
        if (Math.abs(v - around[4]) > 100) {
          count++;
          break;
        }
      }
    }
  }
  return count;
}

describe('bounded optimisation', () => {
  test('every evaluated image stays inside the displayable range (L-BFGS and Adam)', async () => {
    const net = Vgg19.load({ modelDir: MODELS_DIR, upTo: 'relu5_1', precision: 'fp32' });
    const [c, s] = await Promise.all([loadImage(CONTENT, { maxSide: 48 }), loadImage(STYLE, { maxSide: 48 })]);
    const [ct, st] = tidy(() => [net.preprocess(imageToTensor(c)), net.preprocess(imageToTensor(s))]).map(keep);
    const objective = new GatysObjective(net, ct, st, { content: ['relu4_2'], style: ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'] }, { content: 5, style: 100, tv: 1e-3 });
    const box = imageBox(net, 'cpu');
    try {
      for (const optimizer of ['lbfgs', 'adam'] as const) {
        const resolved = resolveStylizeOptions(options('unused.png', { optimizer }));
        const x = keep(ct.clone().variable());
        const opt = makeOptimizer(resolved, x, box);
        let saturated = 0;
        try {
          for (let i = 0; i < 12; i++) {
            tidy(() => {
              const rgb = net.deprocess(x);
              const [lo, hi] = [rgb.min().item(), rgb.max().item()];
              assert.ok(lo >= -1e-5 && hi <= 1 + 1e-5, `${optimizer} evaluation ${i + 1}: pixels in [${lo}, ${hi}]`);
              if (hi > 1 - 1e-5 || lo < 1e-5) saturated++;
              const { losses, grad } = objective.evaluate(x);
              opt.step(losses.total, grad);
            });
          }
        } finally {
          opt.dispose();
          x.dispose();
        }
        assert.ok(saturated > 0, `${optimizer}: the bounds were reached (else this test proves nothing)`);
      }
    } finally {
      box.dispose();
      objective.dispose();
      ct.dispose();
      st.dispose();
      net.dispose();
    }
  });

  test('the reported final loss is the loss-contract score of the written PNG within 1 %', async () => {
    for (const extra of [{}, { optimizer: 'adam' as const, iterations: 15 }]) {
      const r = await runStylize(resolveStylizeOptions(options('scored.png', extra)));
      const score = await scoreFile(r.output, 64);
      const rel = Math.abs(score - r.losses!.total) / score;
      assert.ok(rel < 0.01, `${JSON.stringify(extra)}: reported ${r.losses!.total} vs file ${score} (${(rel * 100).toFixed(2)} %)`);
    }
    // Unbounded (as torch's L-BFGS runs), the file scores worse than what was reported.
    const free = await runStylize(resolveStylizeOptions(options('free.png', { bounded: false, lineSearch: 'none', iterations: 20 })));
    const freeScore = await scoreFile(free.output, 64);
    assert.ok(freeScore > free.losses!.total * 1.01, `unbounded: reported ${free.losses!.total}, file ${freeScore}`);
  });
});

describe('no overshoot on a content start', () => {
  test('192 px, 8 iterations: no evaluation above 10× the start, no isolated saturated pixels (the classic step has both)', async () => {
    const run = async (name: string, extra: Partial<StylizeOptions>) => {
      const evaluated: number[] = [];
      const r = await runStylize(
        resolveStylizeOptions({
          content: path.join(SHARED_IMAGES, 'content', 'tubingen.jpg'),
          style: path.join(SHARED_IMAGES, 'style', 'starry_night.jpg'),
          output: path.join(dir, name),
          size: 192,
          iterations: 8,
          threads: 2,
          modelDir: MODELS_DIR,
          seed: 1,
          report: false,
          ...extra,
        }),
        { onProgress: (p) => evaluated.push(p.evaluated) },
      );
      return { evaluated, speckles: isolatedSaturatedPixels(await loadImage(r.output)) };
    };
    const ours = await run('default.png', {});
    const worst = Math.max(...ours.evaluated) / ours.evaluated[0];
    assert.ok(worst <= 10, `an evaluation reached ${worst.toPrecision(3)}× the starting loss: ${ours.evaluated.map((v) => v.toExponential(2))}`);
    assert.equal(ours.speckles, 0, 'isolated saturated pixels in the default run');
    const classic = await run('classic.png', { lineSearch: 'none', bounded: false });
    const classicWorst = Math.max(...classic.evaluated) / classic.evaluated[0];
    assert.ok(classicWorst > 10 || classic.speckles > 0, `the classic step shows neither defect (${classicWorst}×, ${classic.speckles} speckles): the test would not catch them`);
  });
});

describe('overflow is a failure', () => {
  // Inside the box the loss stays finite whatever the step; the classic unbounded fixed step is
  // where an overflow can still happen.
  test('CLI: a diverging run exits 2 naming the term, and still writes the last finite image', () => {
    const out = path.join(dir, 'diverged.png');
    const r = spawnSync(
      process.execPath,
      [path.join(PROJECT_ROOT, 'bin', 'nst.js'), 'stylize', '-c', CONTENT, '-s', STYLE, '-o', out, '--size', '64', '--iterations', '5', '--learning-rate', '1e9', '--precision', 'fp32', '--line-search', 'none', '--unbounded', '--model-dir', MODELS_DIR, '--threads', '2', '--no-report'],
      { encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('nst:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^nst: error: the (style loss at relu\d_\d|content loss at relu\d_\d|total-variation loss|total loss) \(.*\) overflowed/);
    assert.ok(fs.existsSync(out), 'the last finite image is written');
  });

  test('server: the job fails with that message', async () => {
    const server = await startTestServer();
    try {
      const res = await fetch(`${server.url}/api/jobs`, {
        method: 'POST',
        body: jobForm({ method: 'stylize', size: 64, iterations: 5, learningRate: 1e9, lineSearch: 'none', bounded: false }, { content: CONTENT_PNG, style: STYLE_PNG }),
      });
      const created = await json(res);
      assert.equal(res.status, 201, JSON.stringify(created));
      const job = await waitForJob(server.url, created.id, (j) => j.status !== 'queued' && j.status !== 'running', 300_000);
      assert.equal(job.status, 'failed');
      assert.match(job.error, /overflowed/);
    } finally {
      await server.close();
    }
  });
});

describe('quality schedules', () => {
  test('stages 2× apart (standard) or √2 (draft, high) from a fraction of the size (never below 128 px), ending at the size', () => {
    assert.deepEqual(planStages(512, 'standard').map((s) => s.size), [128, 256, 512]);
    assert.deepEqual(planStages(1024, 'standard').map((s) => s.size), [256, 512, 1024]);
    assert.deepEqual(planStages(512, 'draft').map((s) => s.size), [256, 362, 512]);
    assert.deepEqual(planStages(100, 'standard').map((s) => s.size), [100]);
    const sizes = planStages(512, 'high').map((s) => s.size);
    assert.deepEqual(sizes, [128, 181, 256, 362, 512]);
    for (let i = 1; i < sizes.length; i++) assert.ok(Math.abs(sizes[i] / sizes[i - 1] - Math.SQRT2) < 0.01);
  });

  test('the default is the standard quality; explicit iterations give one stage of exactly that many', () => {
    const d = resolveStylizeOptions(options('q.png', { iterations: undefined, size: 256 }));
    assert.equal(d.quality, 'standard');
    assert.deepEqual(d.scales, [128, 256]);
    assert.ok(d.scaleTolerances.every((t) => t > 0));
    const explicit = resolveStylizeOptions(options('q.png', { iterations: 42, size: 256 }));
    assert.equal(explicit.quality, null);
    assert.deepEqual(explicit.scales, [256]);
    assert.deepEqual(explicit.scaleIterations, [42]);
    assert.deepEqual(explicit.scaleTolerances, [0]);
    const both = resolveStylizeOptions(options('q.png', { iterations: 42, quality: 'draft', size: 256 }));
    assert.deepEqual(both.scales, [128, 181, 256]);
    assert.equal(both.scaleIterations[2], 42);
    assert.throws(() => resolveStylizeOptions(options('q.png', { quality: 'best' as never })), /unknown quality 'best'/);
  });

  test('convergence: a stage stops once its best loss improves by less than the tolerance over 10 evaluations', () => {
    const slow = Array.from({ length: 30 }, (_, i) => 100 - i * 0.01);
    assert.equal(hasConverged(slow, 0.005), true);
    const fast = Array.from({ length: 30 }, (_, i) => 100 * 0.9 ** i);
    assert.equal(hasConverged(fast, 0.005), false);
    assert.equal(hasConverged(slow.slice(0, 10), 0.005), false, 'not before a whole window');
    assert.equal(hasConverged(slow, 0), false, 'tolerance 0: never');
  });

  test('a draft run reports its stages, each stopped by convergence or its cap, and writes the output size', async () => {
    const r = await runStylize(resolveStylizeOptions(options('draft.png', { iterations: undefined, quality: 'draft', size: 192 })));
    assert.equal(r.quality, 'draft');
    const img = await loadImage(r.output);
    assert.equal(Math.max(img.width, img.height), 192);
    assert.deepEqual(r.stages.map((s) => Math.max(s.size.width, s.size.height)), [136, 192]);
    for (const s of r.stages) assert.ok(s.converged || s.iterations === s.maxIterations, JSON.stringify(s));
    assert.equal(r.iterations, r.stages.reduce((n, s) => n + s.iterations, 0));
  });
});

describe('warm start between stages', () => {
  test('resampled curvature pairs keep s·y, and y·y shrinks with the pixel count (H0 grows with it)', () => {
    tidy(() => {
      const field = (h: number, w: number, fx: number, fy: number) => {
        const data = new Float32Array(3 * h * w);
        for (let c = 0; c < 3; c++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) data[(c * h + i) * w + j] = Math.sin((fx * j) / w + c) * Math.cos((fy * i) / h);
        return tensor(data, [1, 3, h, w]);
      };
      const s = field(24, 32, 3, 2);
      const y = field(24, 32, 2, 3).mul(1 / (24 * 32)); // a mean-normalised loss's gradient scale
      const before = { sy: s.dot(y).item(), yy: y.dot(y).item() };
      const out = resampledPairs({ s: [keep(s.clone())], y: [keep(y.clone())] }, 24 * 32, 34, 45);
      const after = { sy: out.s[0].dot(out.y[0]).item(), yy: out.y[0].dot(out.y[0]).item() };
      disposePairs(out);
      assert.ok(Math.abs(after.sy / before.sy - 1) < 0.05, `s·y ${before.sy} → ${after.sy}`);
      const expected = (24 * 32) / (34 * 45);
      assert.ok(Math.abs(after.yy / before.yy / expected - 1) < 0.05, `y·y ratio ${after.yy / before.yy} vs ${expected}`);
    });
  });

  test('L-BFGS warm-started with the pairs of an earlier run gets further in the same evaluations', () => {
    // An ill-conditioned quadratic ½ Σ aᵢ(xᵢ − 1)²: curvature learnt once serves the next start.
    const n = 200;
    const a = tensor(Array.from({ length: n }, (_, i) => 10 ** ((3 * i) / (n - 1))), [n]);
    const run = (start: number, evaluations: number, warm?: ReturnType<LbfgsWolfe['exportHistory']>) => {
      const x = keep(tensor(new Array(n).fill(start), [n]));
      const opt = new LbfgsWolfe(x, { warmStart: warm });
      let f = Infinity;
      for (let k = 0; k < evaluations; k++) {
        tidy(() => {
          const d = x.sub(1);
          f = d.square().mul(a).sum().item() / 2;
          opt.step(f, d.mul(a));
        });
      }
      const pairs = opt.exportHistory((s, y) => [s.clone(), y.clone()]);
      opt.dispose();
      x.dispose();
      return { f, pairs };
    };
    const earlier = run(3, 30);
    const cold = run(-2, 12);
    disposePairs(cold.pairs);
    const warm = run(-2, 12, earlier.pairs);
    disposePairs(warm.pairs);
    assert.ok(warm.f < cold.f / 10, `after 12 evaluations: warm ${warm.f.toExponential(3)}, cold ${cold.f.toExponential(3)}`);
  });
});
