/**
 * The engine's half of scripts/device-check.sh: parity and speed on one device, JSON on stdout.
 *
 * Parity (fp32, TF32 off): the default Gatys objective (losses and image gradient) at 256² and
 * 10 L-BFGS steps, and a feed-forward stylisation, each computed on the CPU and on --device; the
 * device's losses, gradient and inputs are also written to --work for the PyTorch side to compare.
 * Speed on --device (libtorch's default math, as PyTorch's): fwd+grad at --sizes, a whole run of
 * --iterations L-BFGS iterations at 512², fast stylisation at 512² and 1024², one training step
 * (256², batch 4). Weights: the random VGG19 of random-vgg19.ts in --model-dir; a seeded random
 * transformer. Numbers are medians of --repeats runs after a warm-up, in milliseconds.
 *
 * Usage: node dist/bench/device/device-bench.js --device cuda --model-dir DIR --work DIR
 *        [--sizes 512,1024] [--iterations 500] [--repeats 5] [--fast-sizes 512,1024] [--train-size 256]
 *        [--threads N]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configureThread, engineInfo, keep, manualSeed, setCudaMath, synchronize, tensor, Tensor, tidy } from '../../src/engine';
import { GatysObjective } from '../../src/losses';
import { TransformerNet } from '../../src/models/transformer-net';
import { Vgg19, VGG19_LAYER_NAMES } from '../../src/models/vgg19';
import { Lbfgs } from '../../src/optim';
import { seededRandom } from '../../src/util/random';
import { ADAM_DEFAULTS, ParamAdam } from '../../src/transfer/fast/adam';
import { PerceptualLoss } from '../../src/transfer/fast/loss';
import { TRAIN_DEFAULTS } from '../../src/transfer/fast/train-options';
import { trainStep, TRAIN_VARIANT } from '../../src/transfer/fast/train';
import { STYLIZE_DEFAULTS } from '../../src/transfer/gatys/options';
import { DeviceName } from '../../src/engine/device';

interface Args {
  device: DeviceName;
  modelDir: string;
  work: string;
  sizes: number[];
  iterations: number;
  repeats: number;
  fastSizes: number[];
  trainSize: number;
  threads?: number;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const modelDir = get('model-dir');
  const work = get('work');
  if (!modelDir || !work) throw new Error('--model-dir and --work are required');
  return {
    device: (get('device') ?? 'cpu') as DeviceName,
    modelDir,
    work,
    sizes: (get('sizes') ?? '512,1024').split(',').map(Number),
    iterations: Number(get('iterations') ?? 500),
    repeats: Number(get('repeats') ?? 5),
    fastSizes: (get('fast-sizes') ?? '512,1024').split(',').map(Number),
    trainSize: Number(get('train-size') ?? 256),
    threads: get('threads') ? Number(get('threads')) : undefined,
  };
}

const LAYERS = { content: STYLIZE_DEFAULTS.contentLayers, style: STYLIZE_DEFAULTS.styleLayers };
const WEIGHTS = { content: STYLIZE_DEFAULTS.contentWeight, style: STYLIZE_DEFAULTS.styleWeight, tv: STYLIZE_DEFAULTS.tvWeight };
const round = (x: number, digits = 4) => Number(x.toPrecision(digits));

/** A seeded RGB [0,1] image, 1×3×size×size, as planar floats (the same bytes go to PyTorch). */
function seededImage(size: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  // Smooth-ish content (a gradient plus noise) so the losses are not dominated by white noise.
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < size * size; i++) out[c * size * size + i] = Math.min(1, Math.max(0, 0.5 * ((i % size) / size + c / 3) + 0.3 * r()));
  }
  return out;
}

/** Median milliseconds of fn over `repeats` runs after a warm-up, waiting for the device each time. */
function timeMs(device: string, repeats: number, fn: () => void): { median: number; min: number } {
  fn();
  synchronize(device);
  const runs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    synchronize(device);
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  runs.sort((a, b) => a - b);
  return { median: round(runs[Math.floor(runs.length / 2)]), min: round(runs[0]) };
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Largest difference of two [0,1] images in 8-bit steps (0 or 1: equal within rounding). */
function maxByteDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(Math.round(a[i] * 255) - Math.round(b[i] * 255)));
  return m;
}

interface ObjectiveRun {
  losses: Record<string, number>;
  grad: Float32Array;
  /** RGB [0,1] image after 10 L-BFGS steps from the content image. */
  after10: Float32Array;
}

function runObjective(device: string, modelDir: string, content: Float32Array, style: Float32Array, size: number): ObjectiveRun {
  const net = Vgg19.load({ modelDir, device, upTo: 'relu5_1' });
  const [c, s] = tidy(() => [net.preprocess(tensor(content, [1, 3, size, size], device)), net.preprocess(tensor(style, [1, 3, size, size], device))]).map(keep);
  const objective = new GatysObjective(net, c, s, LAYERS, WEIGHTS);
  const x = keep(c.clone().variable());
  const opt = new Lbfgs(x);
  try {
    const { losses, grad } = tidy(() => {
      const e = objective.evaluate(x);
      return { losses: e.losses, grad: e.grad.data() };
    });
    const flat: Record<string, number> = { total: losses.total, tv: losses.tv };
    for (const [k, v] of Object.entries(losses.content)) flat[`content.${k}`] = v;
    for (const [k, v] of Object.entries(losses.style)) flat[`style.${k}`] = v;
    for (let i = 0; i < 10; i++) tidy(() => {
      const e = objective.evaluate(x);
      opt.step(e.losses.total, e.grad);
    });
    const after10 = tidy(() => net.deprocess(x).clamp(0, 1).data());
    return { losses: flat, grad, after10 };
  } finally {
    for (const t of [opt, objective, x, c, s, net]) t.dispose();
  }
}

function parity(args: Args) {
  const size = 256;
  const content = seededImage(size, 11);
  const style = seededImage(size, 12);
  const math = setCudaMath({ tf32Conv: false, tf32Matmul: false });
  const cpu = runObjective('cpu', args.modelDir, content, style, size);
  const dev = runObjective(args.device, args.modelDir, content, style, size);
  setCudaMath(math);
  fs.mkdirSync(args.work, { recursive: true });
  fs.writeFileSync(path.join(args.work, 'content.bin'), Buffer.from(content.buffer));
  fs.writeFileSync(path.join(args.work, 'style.bin'), Buffer.from(style.buffer));
  fs.writeFileSync(path.join(args.work, 'engine-grad.bin'), Buffer.from(dev.grad.buffer));
  fs.writeFileSync(path.join(args.work, 'engine-losses.json'), JSON.stringify({ size, device: args.device, losses: dev.losses }));
  const lossRelErr = Math.max(...Object.keys(cpu.losses).map((k) => Math.abs(dev.losses[k] - cpu.losses[k]) / Math.max(Math.abs(cpu.losses[k]), 1e-12)));
  const gradRelErr = maxAbsDiff(dev.grad, cpu.grad) / maxAbs(cpu.grad);

  // Feed-forward: the same seeded random network on both devices.
  manualSeed(5);
  const cpuNet = TransformerNet.initialise(TRAIN_VARIANT, 'cpu');
  const stored = cpuNet.storedWeights();
  const devNet = TransformerNet.fromWeights(TRAIN_VARIANT, stored, { device: args.device, source: 'device-bench' });
  const photo = seededImage(size, 13);
  const [a, b] = [cpuNet, devNet].map((n) => tidy(() => n.stylise(tensor(photo, [1, 3, size, size], n.device)).data()));
  cpuNet.dispose();
  devNet.dispose();
  const fastBytes = maxByteDiff(a, b);
  const lbfgsBytes = maxByteDiff(cpu.after10, dev.after10);
  return {
    size,
    tf32: false,
    cpuLosses: cpu.losses,
    deviceLosses: dev.losses,
    lossMaxRelErr: round(lossRelErr, 3),
    gradMaxRelErr: round(gradRelErr, 3),
    lbfgs10MaxByteDiff: lbfgsBytes,
    fastMaxByteDiff: fastBytes,
    pass: lossRelErr <= 1e-3 && gradRelErr <= 1e-3 && fastBytes <= 1,
  };
}

function speed(args: Args) {
  const { device, repeats } = args;
  const net = Vgg19.load({ modelDir: args.modelDir, device, upTo: 'relu5_1' });
  const fwdGradMs: Record<string, unknown> = {};
  for (const size of args.sizes) {
    const [c, s] = tidy(() => [net.preprocess(tensor(seededImage(size, 21), [1, 3, size, size], device)), net.preprocess(tensor(seededImage(size, 22), [1, 3, size, size], device))]).map(keep);
    const objective = new GatysObjective(net, c, s, LAYERS, WEIGHTS);
    const x = keep(c.clone().variable());
    fwdGradMs[String(size)] = timeMs(device, repeats, () => tidy(() => void objective.evaluate(x)));
    for (const t of [objective, x, c, s]) t.dispose();
  }

  // A whole run: the loop of `nst stylize` at 512² (objective + L-BFGS), loading excluded.
  const size = 512;
  const [c, s] = tidy(() => [net.preprocess(tensor(seededImage(size, 31), [1, 3, size, size], device)), net.preprocess(tensor(seededImage(size, 32), [1, 3, size, size], device))]).map(keep);
  const objective = new GatysObjective(net, c, s, LAYERS, WEIGHTS);
  const x = keep(c.clone().variable());
  const opt = new Lbfgs(x);
  synchronize(device);
  const t0 = process.hrtime.bigint();
  let finalLoss = NaN;
  for (let i = 0; i < args.iterations; i++) tidy(() => {
    const e = objective.evaluate(x);
    finalLoss = e.losses.total;
    opt.step(e.losses.total, e.grad);
  });
  synchronize(device);
  const runSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const t of [opt, objective, x, c, s]) t.dispose();

  // Feed-forward stylisation (compute only; the result stays on the device) and a training step.
  manualSeed(7);
  const transformer = TransformerNet.initialise(TRAIN_VARIANT, device);
  const fastMs: Record<string, unknown> = {};
  for (const sz of args.fastSizes) {
    const photo = keep(tensor(seededImage(sz, 41), [1, 3, sz, sz], device));
    fastMs[String(sz)] = timeMs(device, repeats, () => tidy(() => void transformer.stylise(photo)));
    photo.dispose();
  }
  transformer.dispose();

  const layers = [...TRAIN_DEFAULTS.contentLayers, ...TRAIN_DEFAULTS.styleLayers];
  const deepest = layers.reduce((a, b) => (VGG19_LAYER_NAMES.indexOf(a) > VGG19_LAYER_NAMES.indexOf(b) ? a : b));
  const trainVgg = Vgg19.load({ modelDir: args.modelDir, device, upTo: deepest });
  const ts = args.trainSize;
  const styleImage = keep(tensor(seededImage(ts, 51), [1, 3, ts, ts], device));
  const loss = new PerceptualLoss(trainVgg, styleImage, { content: TRAIN_DEFAULTS.contentLayers, style: TRAIN_DEFAULTS.styleLayers }, { content: TRAIN_DEFAULTS.contentWeight, style: TRAIN_DEFAULTS.styleWeight, tv: TRAIN_DEFAULTS.tvWeight });
  const student = TransformerNet.initialise(TRAIN_VARIANT, device);
  const params: Map<string, Tensor> = student.parameters();
  for (const p of params.values()) p.variable();
  const adam = new ParamAdam(params, { learningRate: TRAIN_DEFAULTS.learningRate, ...ADAM_DEFAULTS });
  const batch = new Float32Array(4 * 3 * ts * ts).map((_, i) => (i % 97) / 97);
  const trainStepMs = timeMs(device, repeats, () => void trainStep(student, loss, adam, params, batch, 4, ts, device));
  for (const t of [adam, student, loss, styleImage, trainVgg, net]) t.dispose();
  return {
    fwdGradMs,
    run512: { iterations: args.iterations, seconds: round(runSeconds), msPerIteration: round((runSeconds * 1000) / args.iterations), finalLoss },
    fastStyliseMs: fastMs,
    trainStepBatch4Ms: { size: ts, ...trainStepMs },
  };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const runtime = configureThread({ threads: args.threads, device: args.device, seed: 1 });
  setCudaMath({ cudnnBenchmark: true });
  process.stderr.write(`device-bench: parity on ${runtime.device} vs cpu\n`);
  const parityResult = parity(args);
  process.stderr.write(`device-bench: speed on ${runtime.device}\n`);
  const speedResult = speed(args);
  const report = { engine: { ...engineInfo(), device: runtime.device, cudnnBenchmark: true }, parity: parityResult, speed: speedResult };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

try {
  main();
} catch (err) {
  process.stderr.write(`device-bench failed: ${(err as Error).message}\n`);
  process.exit(1);
}
