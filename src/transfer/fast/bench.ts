/**
 * Timings of the feed-forward method, for `npm run bench`: one stylisation (forward pass of a
 * pretrained network, no I/O) at 256² and 512², and one training step (network + VGG19 loss +
 * backward + Adam, random photos, no I/O) at 256² with batch 1 and 4, in fp32 and (batch 4) in
 * bf16, as `nst train --precision auto` runs on CPUs with bf16 instructions. Runs in the calling thread;
 * each number is the median of `repeats` runs after one warm-up run.
 */
import { configureThread, DeviceName, keep, rand, Tensor, tidy } from '../../engine';
import { findModelFile } from '../../models/model-dir';
import { loadStyleModel } from '../../models/style-model-format';
import { TransformerNet } from '../../models/transformer-net';
import { Precision, Vgg19, VGG19_LAYER_NAMES } from '../../models/vgg19';
import { ADAM_DEFAULTS, ParamAdam } from './adam';
import { PerceptualLoss } from './loss';
import { TRAIN_DEFAULTS } from './train-options';
import { trainStep, TRAIN_VARIANT } from './train';

export interface FastBenchResult {
  threads: number;
  device: string;
  /** Style network used for the stylisation timings. */
  model: string;
  stylize256Ms: number;
  stylize512Ms: number;
  /** The same in bf16 (where the CPU has bf16 instructions; else equal to fp32 work). */
  stylize256MsBf16: number;
  stylize512MsBf16: number;
  trainStep256Batch1Ms: number;
  trainStep256Batch4Ms: number;
  /** Batch 4 in bf16 (network and VGG19 in bf16). */
  trainStep256Batch4MsBf16: number;
}

export interface FastBenchOptions {
  threads?: number;
  device?: DeviceName;
  /** Runs per measurement (median reported). Default 3. */
  repeats?: number;
  /** Pretrained style to time. Default 'wave'. */
  style?: string;
  modelDir?: string;
}

export async function benchFast(options: FastBenchOptions = {}): Promise<FastBenchResult> {
  const runtime = configureThread({ threads: options.threads, device: options.device, seed: 1 });
  const device = runtime.device;
  const repeats = options.repeats ?? 3;
  const style = options.style ?? 'wave';
  const modelPath = findModelFile(`fast-style/${style}/manifest.json`, options.modelDir).replace(/[\\/]manifest\.json$/, '');

  const model = loadStyleModel(modelPath, device);
  let stylize256Ms: number;
  let stylize512Ms: number;
  let stylize256MsBf16: number;
  let stylize512MsBf16: number;
  try {
    const timeStylise = (size: number) => {
      const x = keep(rand([1, 3, size, size], device));
      try {
        return median(repeats, () => tidy(() => model.net.stylise(x).data()));
      } finally {
        x.dispose();
      }
    };
    stylize256Ms = timeStylise(256);
    stylize512Ms = timeStylise(512);
    model.net.precision = 'bf16';
    stylize256MsBf16 = timeStylise(256);
    stylize512MsBf16 = timeStylise(512);
    model.net.precision = 'fp32';
  } finally {
    model.net.dispose();
  }

  const layers = [...TRAIN_DEFAULTS.contentLayers, ...TRAIN_DEFAULTS.styleLayers];
  const deepest = layers.reduce((a, b) => (VGG19_LAYER_NAMES.indexOf(a) > VGG19_LAYER_NAMES.indexOf(b) ? a : b));
  const timeStep = (batch: number, precision: Precision) => {
    const vgg = Vgg19.load({ modelDir: options.modelDir, device, upTo: deepest, precision });
    const held: { dispose(): void }[] = [vgg];
    try {
      const styleImage = keep(rand([1, 3, 256, 256], device));
      held.push(styleImage);
      const loss = new PerceptualLoss(
        vgg,
        styleImage,
        { content: TRAIN_DEFAULTS.contentLayers, style: TRAIN_DEFAULTS.styleLayers },
        { content: TRAIN_DEFAULTS.contentWeight, style: TRAIN_DEFAULTS.styleWeight, tv: TRAIN_DEFAULTS.tvWeight },
      );
      held.push(loss);
      const net = TransformerNet.initialise(TRAIN_VARIANT, device);
      held.push(net);
      net.precision = precision;
      const params: Map<string, Tensor> = net.parameters();
      for (const p of params.values()) p.variable();
      const adam = new ParamAdam(params, { learningRate: TRAIN_DEFAULTS.learningRate, ...ADAM_DEFAULTS });
      held.push(adam);
      const data = new Float32Array(batch * 3 * 256 * 256).map(() => Math.random());
      return median(repeats, () => trainStep(net, loss, adam, params, data, batch, 256, device));
    } finally {
      for (const h of held.reverse()) h.dispose();
    }
  };
  const trainStep256Batch1Ms = timeStep(1, 'fp32');
  const trainStep256Batch4Ms = timeStep(4, 'fp32');
  const trainStep256Batch4MsBf16 = timeStep(4, 'bf16');
  return { threads: runtime.threads, device, model: style, stylize256Ms, stylize512Ms, stylize256MsBf16, stylize512MsBf16, trainStep256Batch1Ms, trainStep256Batch4Ms, trainStep256Batch4MsBf16 };
}

function median(repeats: number, fn: () => unknown): number {
  fn(); // warm-up (allocator, oneDNN kernels)
  const times: number[] = [];
  for (let i = 0; i < Math.max(1, repeats); i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return Number(times[Math.floor(times.length / 2)].toFixed(1));
}
