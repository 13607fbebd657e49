/**
 * VGG19's convolutional part as a feature extractor: conv1_1 … relu5_4 with max or average
 * pooling, run only as deep as the deepest requested layer. Input is the convention of the weights
 * (`preprocessing`, from the model's nst-model.json): Caffe (BGR, 0–255, mean-subtracted; the
 * original weights, and the default) or torchvision (RGB, 0–1, mean/std); `preprocess()` converts
 * an RGB [0,1] NCHW image to it (see `preprocess.ts`).
 */
import { NstError } from '../errors';
import { conv2d, maxPool2d, avgPool2d, Precision, Tensor, tensor, keep, tidy } from '../engine';
import { findModelFile } from './model-dir';
import { readLayersModelWeights } from './tfjs-layers';
import { readVgg19Info } from './model-registry';
import { deprocessImage, Preprocessing, preprocessImage } from './preprocess';

/** Channels per conv layer, 'M' for a pooling layer, as in the paper's configuration E. */
const CONFIG: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512];

export type Pooling = 'max' | 'avg';

/**
 * The gradient of max pooling. 'argmax' (the exact gradient) sends each window's gradient to its
 * largest input only; optimising pixels, that keeps raising the same pixel of every 2×2 window,
 * and flat regions (a clear sky) grow a dotted lattice at the pooling stride (issue 28: the
 * period-2 phase chi-square of the sky 5.1 at 256 px, 11.4 at 512). 'spread' passes it back as
 * average pooling would, evenly over the window, while the forward pass (so the loss, and what the
 * style looks like) stays max pooling's exactly: the lattice goes (0.5), the strokes stay.
 */
export type PoolGradient = 'argmax' | 'spread';
/** Compute precision of the convolutions: bf16 halves the work on CPUs with bf16 instructions. */
export type { Precision };

interface Op {
  name: string;
  kind: 'conv' | 'relu' | 'pool';
  /** Keras name of the conv layer, e.g. block1_conv1. */
  keras?: string;
}

/** Every layer in forward order: conv1_1, relu1_1, …, pool1, … relu5_4. */
export const VGG19_LAYERS: readonly Op[] = (() => {
  const ops: Op[] = [];
  let block = 1;
  let index = 1;
  for (const v of CONFIG) {
    if (v === 'M') {
      ops.push({ name: `pool${block}`, kind: 'pool' });
      block++;
      index = 1;
    } else {
      ops.push({ name: `conv${block}_${index}`, kind: 'conv', keras: `block${block}_conv${index}` });
      ops.push({ name: `relu${block}_${index}`, kind: 'relu' });
      index++;
    }
  }
  return ops;
})();

export const VGG19_LAYER_NAMES: readonly string[] = VGG19_LAYERS.map((o) => o.name);

/** How many input pixels a side one position of this layer's feature map spans: 2 per pooling before it (relu1_1: 1, relu3_1: 4). */
export function layerStride(name: string): number {
  const at = VGG19_LAYER_NAMES.indexOf(name);
  if (at < 0) throw new Error(`unknown VGG19 layer '${name}'`);
  return 2 ** VGG19_LAYERS.slice(0, at + 1).filter((o) => o.kind === 'pool').length;
}

/** Throws a one-line error naming the valid layers when a name is unknown. */
export function checkLayerNames(names: string[], what: string): void {
  for (const n of names) {
    if (!VGG19_LAYER_NAMES.includes(n)) {
      throw new NstError(`unknown ${what} layer '${n}' (VGG19 layers: conv1_1, relu1_1, …, pool1, …, relu5_4)`);
    }
  }
}

export interface Vgg19Options {
  /** Directory that holds `vgg19/model.json` (default: the model directory search order). */
  modelDir?: string;
  pooling?: Pooling;
  /** How max pooling's gradient flows back (default 'argmax', the exact gradient). */
  poolGradient?: PoolGradient;
  device?: string;
  /** Only load weights up to this layer (saves memory when deeper layers are unused). */
  upTo?: string;
  /** 'fp32' (default) or 'bf16': weights and activations in bfloat16, features returned as float32 (unless `asComputed`). */
  precision?: Precision;
  /**
   * Channels-last memory layout. Default: on for bf16 (its oneDNN kernels need it: 6x faster
   * here), off for fp32 (where libtorch 1.13's channels-last backward is 4x slower on CPU).
   */
  channelsLast?: boolean;
}

export interface ForwardOptions {
  /** Return activations in the compute precision and layout instead of float32. */
  asComputed?: boolean;
}

export class Vgg19 {
  private readonly weights = new Map<string, { kernel: Tensor; bias: Tensor }>();
  poolGradient: PoolGradient = 'argmax';

  private constructor(
    readonly pooling: Pooling,
    readonly source: string,
    readonly precision: Precision,
    readonly channelsLast: boolean,
    /** The input convention of the weights: 'caffe' or 'torchvision'. */
    readonly preprocessing: Preprocessing = 'caffe',
  ) {}

  /** RGB [0,1] NCHW → this network's input convention. */
  preprocess(rgb: Tensor): Tensor {
    return preprocessImage(rgb, this.preprocessing);
  }

  /** This network's input convention → RGB [0,1] NCHW (not clamped). */
  deprocess(x: Tensor): Tensor {
    return deprocessImage(x, this.preprocessing);
  }

  /** Loads the ImageNet weights (TF.js layers format) and converts kernels HWIO → OIHW. */
  static load(options: Vgg19Options = {}): Vgg19 {
    const file = findModelFile('vgg19/model.json', options.modelDir,
      "get the weights with 'nst models fetch vgg19', or convert a file you have with 'nst models import FILE'");
    const info = readVgg19Info(file);
    const raw = readLayersModelWeights(file);
    const precision = options.precision ?? 'fp32';
    const channelsLast = options.channelsLast ?? precision === 'bf16';
    const net = new Vgg19(options.pooling ?? 'max', file, precision, channelsLast, info.preprocessing);
    net.poolGradient = options.poolGradient ?? 'argmax';
    const dtype = precision === 'bf16' ? 'bfloat16' : 'float32';
    const last = options.upTo ? VGG19_LAYER_NAMES.indexOf(options.upTo) : VGG19_LAYERS.length - 1;
    let inChannels = 3;
    for (const op of VGG19_LAYERS.slice(0, last + 1)) {
      if (op.kind !== 'conv' || !op.keras) continue;
      const k = raw.get(`${op.keras}/kernel`);
      const b = raw.get(`${op.keras}/bias`);
      if (!k || !b) throw new NstError(`${file} lacks ${op.keras} (not a VGG19 model?)`);
      if (k.shape.length !== 4 || k.shape[0] !== 3 || k.shape[1] !== 3 || k.shape[2] !== inChannels || b.shape.length !== 1 || b.shape[0] !== k.shape[3]) {
        throw new NstError(`${file}: ${op.keras} has shape [${k.shape}], expected [3,3,${inChannels},out] (not a VGG19 model?)`);
      }
      inChannels = k.shape[3];
      const device = options.device ?? 'cpu';
      const kernel = keep(tidy(() => tensor(k.values, k.shape).permute([3, 2, 0, 1]).to(device).cast(dtype).contiguous(channelsLast)));
      const bias = keep(tidy(() => tensor(b.values, b.shape).to(device).cast(dtype)));
      net.weights.set(op.name, { kernel, bias });
    }
    return net;
  }

  /**
   * Runs the network on x (NCHW, preprocessed, float32) up to the deepest of `wanted` and returns
   * those layers' activations as float32 (whatever the compute precision), so losses, Gram
   * matrices and gradients accumulate in full precision. Activations join the caller's tidy() scope.
   * With `asComputed`, bf16 activations stay bf16 and channels-last (for losses that compute in
   * the network's precision: bf16 Gram matrices are 5x faster than float32 ones here).
   */
  forward(x: Tensor, wanted: Iterable<string>, options: ForwardOptions = {}): Map<string, Tensor> {
    const want = new Set(wanted);
    checkLayerNames([...want], 'requested');
    const last = Math.max(...[...want].map((n) => VGG19_LAYER_NAMES.indexOf(n)));
    const { output, features } = this.forwardRange(x, 0, last + 1, want, options);
    // (No layers wanted: the output is x itself, which belongs to the caller.)
    if (output !== x && ![...features.values()].includes(output)) output.dispose();
    return features;
  }

  /**
   * The forward pass cut after each pooling layer, up to the deepest of `wanted`: [start, end)
   * ranges of VGG19_LAYERS. Checkpointing keeps only each range's input and recomputes the range's
   * activations when its backward pass comes (see GatysObjective's `checkpoint` option).
   */
  segments(wanted: Iterable<string>): [number, number][] {
    const last = Math.max(...[...wanted].map((n) => VGG19_LAYER_NAMES.indexOf(n)));
    const ranges: [number, number][] = [];
    let start = 0;
    VGG19_LAYERS.slice(0, last + 1).forEach((op, i) => {
      if (op.kind === 'pool' && i < last) {
        ranges.push([start, i + 1]);
        start = i + 1;
      }
    });
    ranges.push([start, last + 1]);
    return ranges;
  }

  /**
   * Runs layers [start, end) on h: the network's input (preprocessed float32) when start is 0,
   * otherwise the output of layer start − 1 as this method returned it. Returns that last output
   * (in the compute precision and layout) and the wanted layers' activations in the range (float32,
   * or as computed with `asComputed`). h itself is never disposed; the output joins the caller's scope.
   */
  forwardRange(x: Tensor, start: number, end: number, want: Set<string>, options: ForwardOptions = {}): { output: Tensor; features: Map<string, Tensor> } {
    const features = new Map<string, Tensor>();
    const returned = new Set<Tensor>();
    let h = x;
    if (start === 0) {
      if (this.precision === 'bf16') h = h.cast('bfloat16');
      if (this.channelsLast) h = h.contiguous(true);
    }
    // Release each intermediate handle as soon as the next layer has consumed it: autograd keeps
    // what backward needs, and holding the rest to the end of the caller's tidy() would double the
    // activation memory (at 512² that is over a gigabyte).
    const advance = (next: Tensor) => {
      if (h !== x && !returned.has(h)) h.dispose();
      h = next;
    };
    for (const op of VGG19_LAYERS.slice(start, end)) {
      if (op.kind === 'conv') {
        const w = this.weights.get(op.name);
        if (!w) throw new NstError(`VGG19 was loaded only up to an earlier layer than ${op.name}`);
        advance(conv2d(h, w.kernel, w.bias, 1, 1));
      } else if (op.kind === 'relu') {
        advance(h.relu());
      } else {
        const [, , fh, fw] = h.shape;
        if (fh < 2 || fw < 2) {
          throw new NstError(`the image is too small for VGG19 layer ${VGG19_LAYER_NAMES[end - 1]}: it shrinks to ${fh}x${fw} before ${op.name} (use a larger size or shallower layers)`);
        }
        advance(this.pool(h));
      }
      if (want.has(op.name)) {
        const feature = this.precision === 'bf16' && !options.asComputed ? h.cast('float32') : h;
        returned.add(feature);
        features.set(op.name, feature);
      }
    }
    return { output: h, features };
  }

  /** One 2×2 pooling layer; 'spread': max pooling's values with average pooling's gradient. */
  private pool(h: Tensor): Tensor {
    if (this.pooling === 'avg') return avgPool2d(h, 2);
    if (this.poolGradient === 'argmax' || !h.requiresGrad) return maxPool2d(h, 2);
    // max + (avg − avg) with only the last term differentiated: exactly max's values.
    return tidy(() => {
      const avg = avgPool2d(h, 2);
      return maxPool2d(h, 2).detach().add(avg.sub(avg.detach()));
    });
  }

  dispose(): void {
    for (const { kernel, bias } of this.weights.values()) {
      kernel.dispose();
      bias.dispose();
    }
    this.weights.clear();
  }
}
