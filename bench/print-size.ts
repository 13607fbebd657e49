/**
 * A print-size run in a fresh process: `node dist/bench/print-size.js SCALES MAX_MEMORY ITERATIONS [CONTENT] [STYLE]`
 * (e.g. `512,1024,2048 4GB 20,10,6`) runs `stylize` multi-resolution under the memory budget and
 * prints JSON: per stage the size, tile grid, seconds and peak RSS; the process's peak RSS; and
 * the seam metric of the output (gradient on the last stage's tile borders / elsewhere).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { loadImage } from '../src/image';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { resolveStylizeOptions, runStylize } from '../src/transfer/gatys';
import { blendSpecFor, seamMetric, tileSeamLines } from '../src/transfer/tiling';

async function main(): Promise<void> {
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
