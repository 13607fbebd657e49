/**
 * Measures, in this (fresh) process, how much resident memory a computation adds over the
 * process's base at a few image sizes: the Gatys objective's forward + backward, or a fast-style
 * network's forward pass. Run by calibration.ts as a child process (`node probe.js '<spec JSON>'`),
 * so that nothing else the parent holds or has freed distorts the peak; prints one JSON line.
 */
import { configureThread, dispose, keep, noGrad, rand, tidy } from '../../engine';
import { Vgg19 } from '../../models';
import { GatysObjective } from '../../losses';
import { loadStyleModel } from '../../models/style-model-format';
import { STYLIZE_DEFAULTS } from '../gatys/options';
import { peakResidentBytes, residentBytes } from './peak';
import type { ProbeResult, ProbeSpec } from './types';

/** Evaluations per size: the first one also builds oneDNN's kernels and weight layouts. */
const REPEATS = 2;

export function runProbe(spec: ProbeSpec): ProbeResult {
  configureThread({ threads: spec.threads, device: 'cpu' });
  const peaks: number[] = [];
  if (spec.kind === 'gatys') {
    const net = Vgg19.load({ modelDir: spec.modelDir, upTo: 'relu5_1', precision: spec.precision });
    const base = residentBytes();
    for (const size of spec.sizes) {
      const [content, style] = tidy(() => [net.preprocess(rand([1, 3, size, size])), net.preprocess(rand([1, 3, 64, 64]))]).map(keep);
      const objective = new GatysObjective(
        net,
        content,
        [{ image: style, weight: 1 }],
        { content: STYLIZE_DEFAULTS.contentLayers, style: STYLIZE_DEFAULTS.styleLayers },
        { content: STYLIZE_DEFAULTS.contentWeight, style: STYLIZE_DEFAULTS.styleWeight, tv: STYLIZE_DEFAULTS.tvWeight },
        { checkpoint: spec.checkpoint },
      );
      const x = keep(content.clone().variable());
      for (let i = 0; i < REPEATS; i++) tidy(() => objective.evaluate(x).losses.total);
      peaks.push(peakResidentBytes() - base);
      for (const t of [x, objective, content, style]) t.dispose();
    }
    net.dispose();
    return { sizes: spec.sizes, peaks, baseBytes: base };
  }
  const model = loadStyleModel(spec.modelPath, 'cpu');
  model.net.precision = spec.precision;
  const base = residentBytes();
  // As a tile of a print-size photo runs (fast/tiled.ts), the costlier case: normalised with the
  // whole photo's recorded statistics. One pass of a photo that fits costs a little less.
  const net = model.net;
  net.normStatistics = { mode: 'record', stats: new Map() };
  noGrad(() => tidy(() => net.forward(rand([1, 3, 64, 64]))));
  net.normStatistics.mode = 'use';
  for (const size of spec.sizes) {
    for (let i = 0; i < REPEATS; i++) noGrad(() => tidy(() => net.stylise(rand([1, 3, size, size])).sum().item()));
    peaks.push(peakResidentBytes() - base);
  }
  for (const { mean, variance } of net.normStatistics.stats.values()) dispose([mean, variance]);
  net.normStatistics = null;
  net.dispose();
  return { sizes: spec.sizes, peaks, baseBytes: base };
}

if (require.main === module) {
  try {
    process.stdout.write(JSON.stringify(runProbe(JSON.parse(process.argv[2]) as ProbeSpec)) + '\n');
  } catch (e) {
    process.stderr.write(`memory probe: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
