/**
 * Peak memory of stylize iterations at one size, in a fresh process (so nothing else counts):
 * `node dist/bench/peak-memory.js SIZE PRECISION [ITERATIONS]` prints JSON with peakRssMiB.
 */
import { configureThread, keep, rand, tidy } from '../src/engine';
import { Precision, Vgg19 } from '../src/models';
import { GatysObjective } from '../src/losses';
import { Lbfgs } from '../src/optim';
import { STYLIZE_DEFAULTS } from '../src/transfer/gatys/options';

const size = Number(process.argv[2] ?? 512);
const precision = (process.argv[3] ?? 'fp32') as Precision;
const iterations = Number(process.argv[4] ?? 5);
configureThread({});
const net = Vgg19.load({ upTo: 'relu5_1', precision });
const [content, style] = tidy(() => [net.preprocess(rand([1, 3, size, size])), net.preprocess(rand([1, 3, size, size]))]).map(keep);
const objective = new GatysObjective(
  net,
  content,
  style,
  { content: STYLIZE_DEFAULTS.contentLayers, style: STYLIZE_DEFAULTS.styleLayers },
  { content: STYLIZE_DEFAULTS.contentWeight, style: STYLIZE_DEFAULTS.styleWeight, tv: STYLIZE_DEFAULTS.tvWeight },
);
const x = keep(content.clone().variable());
const opt = new Lbfgs(x);
for (let i = 0; i < iterations; i++) {
  tidy(() => {
    const { losses, grad } = objective.evaluate(x);
    opt.step(losses.total, grad);
  });
}
process.stdout.write(JSON.stringify({ size, precision, iterations, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
