/**
 * Memory of the Gatys objective's forward + backward at one size, in a fresh process (so nothing
 * else counts): `node dist/bench/tile-memory.js SIZE PRECISION [EVALUATIONS] [checkpoint]` prints JSON with the
 * RSS after loading VGG19 and the inputs (baseMiB) and the peak RSS (peakMiB). The tiling memory
 * model (src/transfer/tiling/memory.ts) is fitted to these numbers: bench/bench.ts --tiling reruns it.
 */
import { configureThread, keep, rand, tidy } from '../src/engine';
import { Precision, Vgg19 } from '../src/models';
import { GatysObjective } from '../src/losses';
import { STYLIZE_DEFAULTS } from '../src/transfer/gatys/options';

const size = Number(process.argv[2] ?? 256);
const precision = (process.argv[3] ?? 'fp32') as Precision;
const evaluations = Number(process.argv[4] ?? 3);
const checkpoint = process.argv[5] === 'checkpoint';
configureThread({});
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
const net = Vgg19.load({ upTo: 'relu5_1', precision });
const [content, style] = tidy(() => [net.preprocess(rand([1, 3, size, size])), net.preprocess(rand([1, 3, 64, 64]))]).map(keep);
const objective = new GatysObjective(
  net,
  content,
  style,
  { content: STYLIZE_DEFAULTS.contentLayers, style: STYLIZE_DEFAULTS.styleLayers },
  { content: STYLIZE_DEFAULTS.contentWeight, style: STYLIZE_DEFAULTS.styleWeight, tv: STYLIZE_DEFAULTS.tvWeight },
  { checkpoint },
);
const x = keep(content.clone().variable());
const baseMiB = mib(process.memoryUsage().rss);
const peakBefore = Math.round(process.resourceUsage().maxRSS / 1024);
const t0 = performance.now();
for (let i = 0; i < evaluations; i++) tidy(() => objective.evaluate(x).losses.total);
const secondsPerEvaluation = (performance.now() - t0) / 1000 / evaluations;
const peakMiB = Math.round(process.resourceUsage().maxRSS / 1024);
process.stdout.write(JSON.stringify({ size, precision, checkpoint, evaluations, secondsPerEvaluation, baseMiB, peakBeforeMiB: peakBefore, peakMiB, bytesPerPixel: Math.round(((peakMiB - baseMiB) * 2 ** 20) / (size * size)) }) + '\n');
