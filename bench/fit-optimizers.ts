/**
 * Which optimiser fits a style vector in fewer loss evaluations: the fit's own VectorLbfgs
 * (backtracking Armijo search, capped step) or the project's LbfgsWolfe (torch's strong-Wolfe
 * search). Counts, not seconds (the machine is shared). The first stage of the default recipe
 * (content ×10, from the zero vector: where the choice of steps matters most), at one size, run
 * with each optimiser: VectorLbfgs for `budget` evaluations sets the target (its best loss); the
 * others run until they reach it (or 1.5 × budget). Written: the best loss every 5 evaluations
 * and the evaluations each needed to reach the target.
 *
 *   node dist/bench/fit-optimizers.js [painting] [out.json] [size=256] [budget=30]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configureThread, keep, Tensor, tidy } from '../src/engine';
import { loadImage } from '../src/image';
import { STYLE_VECTOR_LENGTH } from '../src/models/arbitrary-transformer';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { Vgg19 } from '../src/models/vgg19';
import { LbfgsWolfe } from '../src/optim';
import { FitLossSettings, fitStage, VectorOptimizerFactory } from '../src/transfer/arbitrary/fit';
import { FIT_DEFAULTS, resolveFitOptions } from '../src/transfer/arbitrary/options';
import { deepestLayer, loadArbitraryTransformer, loadTrainingPhotos } from '../src/transfer/arbitrary/run-fit';
import { VectorLbfgs } from '../src/transfer/arbitrary/vector-lbfgs';
import { imageToTensor } from '../src/transfer/image-tensor';

const OPTIMIZERS: Record<string, VectorOptimizerFactory> = {
  'vector-lbfgs': (v) => new VectorLbfgs(v),
  'lbfgs-wolfe polyak': (v) => new LbfgsWolfe(v, { firstStep: 'polyak' }),
  'lbfgs-wolfe torch': (v) => new LbfgsWolfe(v, { firstStep: 'torch' }),
};
const REFERENCE = 'vector-lbfgs';

/** Stops a run once it has reached `target` (evaluations are what is counted, and they are slow). */
class StopAt {
  constructor(private readonly inner: ReturnType<VectorOptimizerFactory>, private readonly reached: () => boolean) {}
  step(loss: number, grad: Tensor): boolean {
    return this.inner.step(loss, grad) || this.reached();
  }
  dispose(): void {
    this.inner.dispose();
  }
}

async function main(): Promise<void> {
  const painting = process.argv[2] || path.join(PROJECT_ROOT, '..', 'shared', 'images', 'style', 'starry_night.jpg');
  const out = process.argv[3] || 'fit-optimizers.json';
  const size = Number(process.argv[4] || 256);
  const referenceBudget = Number(process.argv[5] || 30);
  const otherBudget = Math.round(1.5 * referenceBudget);
  configureThread({ threads: 2, seed: 1 });
  const o = resolveFitOptions({ styleImage: painting, name: 'bench', output: '/tmp/bench.style.json', overwrite: true, precision: 'fp32' });
  const settings: FitLossSettings = { contentWeight: o.contentWeight, styleWeight: o.styleWeight, tvWeight: o.tvWeight, contentLayers: o.contentLayers, styleLayers: o.styleLayers, styleLayerWeights: o.styleLayerWeights };
  const photos = await loadTrainingPhotos(o.photos, o.photoCount, size, o.seed, () => undefined);
  const transformer = loadArbitraryTransformer(undefined, 'cpu', 'fp32');
  const vgg = Vgg19.load({ upTo: deepestLayer([...o.contentLayers, ...o.styleLayers]), precision: 'fp32' });
  const held = [await loadImage(painting, { maxSide: size }), ...photos.images].map((img) => keep(tidy(() => imageToTensor(img))));
  const [paintingT, ...photosT] = held;
  const contentScale = FIT_DEFAULTS.stageContentScales[0];
  const runs: Record<string, number[]> = {};
  let target = -Infinity;
  const result = () => ({
    painting: path.basename(painting),
    photos: photos.paths.map((p) => path.basename(p)),
    size,
    start: 'zero vector',
    contentScale,
    referenceBudget,
    referenceBest: target,
    optimizers: Object.fromEntries(
      Object.entries(runs).map(([name, trace]) => {
        const reached = trace.findIndex((l) => l <= target);
        return [name, { evaluations: trace.length, evaluationsToReachReference: reached < 0 ? null : reached + 1, best: trace.at(-1), bestEvery5: trace.filter((_, i) => (i + 1) % 5 === 0) }];
      }),
    ),
  });
  for (const [name, make] of Object.entries(OPTIMIZERS)) {
    const evaluations = name === REFERENCE ? referenceBudget : otherBudget;
    const trace: number[] = (runs[name] = []);
    const factory: VectorOptimizerFactory = name === REFERENCE ? make : (v) => new StopAt(make(v), () => (trace.at(-1) ?? Infinity) <= target);
    fitStage(transformer, vgg, { painting: paintingT, photos: photosT, evaluations, contentScale }, settings, new Float32Array(STYLE_VECTOR_LENGTH), 0, {
      onStep: (s) => {
        trace.push(Math.min(s.losses.total, trace.at(-1) ?? Infinity));
        process.stderr.write(`${name}: ${s.evaluation}/${evaluations} loss ${s.losses.total.toExponential(4)} best ${trace.at(-1)!.toExponential(4)}\n`);
      },
    }, factory);
    if (name === REFERENCE) target = trace.at(-1)!;
    fs.writeFileSync(out, JSON.stringify(result(), null, 1) + '\n');
  }
  process.stdout.write(JSON.stringify(result(), null, 1) + '\n');
  for (const t of held) t.dispose();
  transformer.dispose();
  vgg.dispose();
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
