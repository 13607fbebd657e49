/**
 * A print-size run in a fresh process: `node dist/bench/print-size.js SCALES MAX_MEMORY ITERATIONS [CONTENT] [STYLE]`
 * (e.g. `512,1024,2048 4GB 20,10,6`) runs `stylize` multi-resolution under the memory budget and
 * prints JSON: per stage the size, tile grid, seconds and peak RSS; the process's peak RSS; and
 * the seam metric of the output (gradient on the last stage's tile borders / elsewhere).
 * `node dist/bench/print-size.js compare 1024 100 512`: tiled vs untiled objective (see compare).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { loadImage } from '../src/image';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { resolveStylizeOptions, runStylize, STYLIZE_DEFAULTS } from '../src/transfer/gatys';
import { noGrad, tidy } from '../src/engine';
import { GatysObjective } from '../src/losses';
import { Vgg19 } from '../src/models';
import { imageToTensor } from '../src/transfer/image-tensor';
import { blendSpecFor, seamMetric, tileSeamLines } from '../src/transfer/tiling';

/**
 * `compare SIZE ITERATIONS TILE`: the same run (single stage) untiled and in tiles of TILE px, both
 * outputs scored with the whole-image objective; the target is tiled within 5 % of untiled.
 */
async function compare(size: number, iterations: number, tile: number): Promise<void> {
  const shared = path.join(PROJECT_ROOT, '..', 'shared', 'images');
  const base = { content: path.join(shared, 'content', 'tubingen.jpg'), style: path.join(shared, 'style', 'starry_night.jpg'), size, iterations, seed: 1, report: false };
  const runs: Record<string, unknown> = {};
  const scores: number[] = [];
  for (const tileSize of [undefined, tile]) {
    const output = path.join(os.tmpdir(), `nst-compare-${process.pid}-${tileSize ?? 'whole'}.png`);
    const t0 = Date.now();
    const result = await runStylize(resolveStylizeOptions({ ...base, output, tileSize }));
    const score = await wholeObjective(base.content, base.style, output, size);
    scores.push(score);
    runs[tileSize ? 'tiled' : 'untiled'] = { objective: score, seconds: (Date.now() - t0) / 1000, tiling: result.stages[0].tiling ?? null };
  }
  process.stdout.write(JSON.stringify({ size, iterations, tile, ...runs, tiledOverUntiled: scores[1] / scores[0] }, null, 1) + '\n');
}

/** The default objective of `output` against the content and style at `size`, evaluated whole. */
async function wholeObjective(contentFile: string, styleFile: string, output: string, size: number): Promise<number> {
  const net = Vgg19.load({ upTo: 'relu5_1' });
  try {
    const [c, s, o] = await Promise.all([loadImage(contentFile, { maxSide: size }), loadImage(styleFile, { maxSide: size }), loadImage(output)]);
    return noGrad(() => tidy(() => {
      const objective = new GatysObjective(net, net.preprocess(imageToTensor(c)), net.preprocess(imageToTensor(s)), { content: STYLIZE_DEFAULTS.contentLayers, style: STYLIZE_DEFAULTS.styleLayers }, { content: STYLIZE_DEFAULTS.contentWeight, style: STYLIZE_DEFAULTS.styleWeight, tv: STYLIZE_DEFAULTS.tvWeight });
      try {
        return objective.terms(net.preprocess(imageToTensor(o))).total.item();
      } finally {
        objective.dispose();
      }
    }));
  } finally {
    net.dispose();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'compare') return compare(Number(process.argv[3] ?? 1024), Number(process.argv[4] ?? 100), Number(process.argv[5] ?? 512));
  const [scales, maxMemory, iterations] = [process.argv[2] ?? '512,1024,2048', process.argv[3] ?? '4GB', process.argv[4] ?? '20,10,6'];
  const shared = path.join(PROJECT_ROOT, '..', 'shared', 'images');
  const content = process.argv[5] ?? path.join(shared, 'content', 'tubingen.jpg');
  const style = process.argv[6] ?? path.join(shared, 'style', 'starry_night.jpg');
  const output = path.join(os.tmpdir(), `nst-print-${process.pid}.png`);
  const options = resolveStylizeOptions({
    content, style, output, report: false, seed: 1,
    scales: scales.split(',').map(Number),
    scaleIterations: iterations.split(',').map(Number),
    maxMemory,
  });
  const t0 = Date.now();
  const result = await runStylize(options);
  const last = result.stages[result.stages.length - 1];
  const image = await loadImage(output);
  const t = last.tiling;
  const seams = t ? seamMetric(image, ...(Object.values(tileSeamLines(image.width, image.height, { tile: t.tile, overlap: t.overlap }, blendSpecFor(t.tile), t.passes)) as [number[], number[]])) : null;
  process.stdout.write(JSON.stringify({
    scales, maxMemory, iterations, output,
    width: result.width, height: result.height,
    stages: result.stages,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    budgetMiB: Math.round(options.maxMemory / 2 ** 20),
    seams,
    seconds: (Date.now() - t0) / 1000,
  }, null, 1) + '\n');
}

main().catch((err) => {
  process.stderr.write(`print-size failed: ${(err as Error).message}\n`);
  process.exit(1);
});
