/**
 * Peak memory of one feed-forward stylisation at one size, in a fresh process:
 * `node dist/bench/fast-memory.js SIZE [STYLE] [TILE]` prints JSON with the RSS after loading the
 * network and the photo (baseMiB) and the peak RSS (peakMiB). With TILE, the photo is stylised in
 * tiles of that side (src/transfer/fast/tiled.ts), whose per-pixel figure is fitted to these numbers.
 */
import { configureThread, rand, tidy } from '../src/engine';
import { loadStyleModel } from '../src/models/style-model-format';
import { resolveFastOptions } from '../src/transfer/fast/fast-options';
import { stylizeImage } from '../src/transfer/fast/run';
import { planFastTiling, stylizeImageTiled } from '../src/transfer/fast/tiled';
import { PROJECT_ROOT } from '../src/models/model-dir';
import * as path from 'node:path';

const size = Number(process.argv[2] ?? 512);
const style = process.argv[3] ?? 'wave';
const tile = process.argv[4] ? Number(process.argv[4]) : undefined;
configureThread({});
const options = resolveFastOptions({ style, content: path.join(PROJECT_ROOT, 'package.json'), output: '/tmp/unused.png' });
const model = loadStyleModel(options.modelPath);
const image = { width: size, height: size, data: tidy(() => rand([1, 3, size, size]).data()) };
const baseMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
const t0 = Date.now();
const plan = tile ? planFastTiling(size, size, 2 ** 50, 0, tile) : null;
const out = plan ? stylizeImageTiled(model.net, image, plan) : stylizeImage(model.net, image);
const peakMiB = Math.round(process.resourceUsage().maxRSS / 1024);
process.stdout.write(JSON.stringify({ size, tile: tile ?? null, baseMiB, peakMiB, bytesPerPixel: Math.round(((peakMiB - baseMiB) * 2 ** 20) / (tile ? tile * tile : size * size)), seconds: (Date.now() - t0) / 1000, outWidth: out.width }) + '\n');
model.net.dispose();
