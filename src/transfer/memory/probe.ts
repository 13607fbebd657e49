/**
 * Measures, in this (fresh) process, how much resident memory a computation adds over the
 * process's base at a few image sizes: the Gatys objective's forward + backward, a fast-style
 * network's tiled inference, or its residual blocks on a whole photo's ¼-resolution activations. Run by calibration.ts as a child process (`node probe.js '<spec JSON>'`),
 * so that nothing else the parent holds or has freed distorts the peak; prints one JSON line.
 */
import { configureThread, keep, noGrad, rand, tidy } from '../../engine';
import { Vgg19 } from '../../models';
import { GatysObjective } from '../../losses';
import { loadStyleModel } from '../../models/style-model-format';
import type { TransformerNet } from '../../models/transformer-net';
import { fastTilePlan, stylizeImageTiled } from '../fast/tiled';
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
  if (spec.kind === 'fast-blocks') return probeResidualBlocks(model.net, spec);
  // Tiled inference itself (fast/tiled.ts) on a photo of a few tiles of `size` px: the encoder's
  // and decoder's statistics passes hold more than one plain pass, and each tile's share of the
  // whole ¼-resolution activation and images (~70 of ~1,000 B/px) is counted with it, to be safe.
  const net = model.net;
  const base = residentBytes();
  for (const size of spec.sizes) {
    const photo = { width: size, height: size, data: Float32Array.from({ length: 3 * size * size }, () => Math.random()) };
    for (let i = 0; i < REPEATS; i++) stylizeImageTiled(net, photo, fastTilePlan(size));
    peaks.push(peakResidentBytes() - base);
  }
  net.dispose();
  return { sizes: spec.sizes, peaks, baseBytes: base };
}

/**
 * The residual blocks on a whole photo's ¼-resolution activations, block by block as tiled
 * inference runs them (fast/tiled.ts): its input in the compute precision and layout, each
 * block's input freed once read. The input itself is counted: the tiles assemble it.
 */
function probeResidualBlocks(net: TransformerNet, spec: ProbeSpec): ProbeResult {
  const blocks = net.stageNames().filter((n) => /^res\d+$/.test(n));
  const channels = net.architecture.channels[2];
  const base = residentBytes();
  const peaks: number[] = [];
  for (const size of spec.sizes) {
    const q = Math.ceil(size / 4);
    for (let i = 0; i < REPEATS; i++) {
      noGrad(() => {
        let h = tidy(() => {
          const x = rand([1, channels, q, q]);
          return spec.precision === 'bf16' ? x.cast('bfloat16').contiguous(true) : x;
        });
        for (const name of blocks) {
          const next = tidy(() => net.stage(name, h));
          h.dispose();
          h = next;
        }
        h.dispose();
      });
    }
    peaks.push(peakResidentBytes() - base);
  }
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
