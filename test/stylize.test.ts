/**
 * The stylize library API: determinism for a seed, no tensor left behind after a run, each init
 * mode, Adam, and cancellation through an AbortSignal (the current image is still written).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { liveTensors } from '../src/engine';
import { loadImage } from '../src/image';
import { resolveStylizeOptions, runStylize, stylize, StylizeOptions } from '../src/transfer/gatys';
import { MODELS_DIR, REFERENCE_DIR } from './helpers/reference';

const CONTENT = path.join(REFERENCE_DIR, 'content.png');
const STYLE = path.join(REFERENCE_DIR, 'style.png');
let dir: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-stylize-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function options(name: string, extra: Partial<StylizeOptions> = {}): StylizeOptions {
  return { content: CONTENT, style: STYLE, output: path.join(dir, name), size: 48, iterations: 6, threads: 2, modelDir: MODELS_DIR, seed: 7, ...extra };
}

describe('runStylize', () => {
  test('the same seed gives the same image (noise init), and no tensor outlives the run', async () => {
    const baseline = liveTensors();
    const a = await runStylize(resolveStylizeOptions(options('a.png', { init: 'noise' })));
    assert.equal(liveTensors(), baseline, 'every tensor released');
    const b = await runStylize(resolveStylizeOptions(options('b.png', { init: 'noise' })));
    const c = await runStylize(resolveStylizeOptions(options('c.png', { init: 'noise', seed: 8 })));
    assert.equal(a.losses!.total, b.losses!.total);
    assert.notEqual(a.losses!.total, c.losses!.total);
    const [ia, ib] = await Promise.all([loadImage(a.output), loadImage(b.output)]);
    assert.deepEqual(ia.data, ib.data);
  });

  test('each init mode starts where it says and the loss goes down', async () => {
    for (const init of ['content', 'style', 'noise', STYLE]) {
      const losses: number[] = [];
      const r = await runStylize(resolveStylizeOptions(options('init.png', { init, iterations: 15 })), {
        onProgress: (p) => losses.push(p.losses.total),
      });
      assert.equal(r.iterations, 15);
      // L-BFGS without line search may overshoot early on (as torch's does); judge the end.
      const end = Math.min(...losses.slice(-3));
      assert.ok(end < 0.9 * losses[0], `${init}: ${losses[0]} → ${end}`);
      if (init === 'content') assert.ok(Object.values(r.losses!.content)[0] > 0);
    }
  });

  test('Adam lowers the objective too', async () => {
    const losses: number[] = [];
    await runStylize(resolveStylizeOptions(options('adam.png', { optimizer: 'adam', iterations: 10 })), {
      onProgress: (p) => losses.push(p.losses.total),
    });
    assert.ok(losses[9] < 0.9 * losses[0], `${losses[0]} → ${losses[9]}`);
  });
});

describe('stylize (worker thread)', () => {
  test('reports progress, and an abort stops early but still writes the image', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const result = await stylize(options('aborted.png', { iterations: 1000 }), {
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.iteration);
        if (p.iteration === 3) controller.abort();
      },
    });
    assert.equal(result.cancelled, true);
    assert.ok(result.iterations >= 3 && result.iterations < 10, `stopped at ${result.iterations}`);
    assert.deepEqual(seen.slice(0, 3), [1, 2, 3]);
    const img = await loadImage(result.output);
    assert.equal(Math.max(img.width, img.height), 48);
  });

  test('a bad option is rejected before any work starts', async () => {
    await assert.rejects(stylize(options('x.png', { styleLayers: ['relu6_1'] })), /unknown style layer 'relu6_1'/);
    assert.equal(fs.existsSync(path.join(dir, 'x.png')), false);
  });
});
