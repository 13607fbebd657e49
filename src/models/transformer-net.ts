/**
 * The feed-forward style transfer network of Johnson et al. (2016) with instance normalisation
 * (Ulyanov et al. 2016), in two variants that share one parameter layout:
 *
 *   conv_in   9×9 conv, stride 1, 3 → 32          + norm + relu
 *   down1     3×3 conv, stride 2, 32 → 64         + norm + relu
 *   down2     3×3 conv, stride 2, 64 → 128        + norm + relu
 *   res1..5   x + norm(conv(relu(norm(conv(x)))))   (3×3, 128 → 128)
 *   up1       ×2 upsampling, 128 → 64             + norm + relu
 *   up2       ×2 upsampling, 64 → 32              + norm + relu
 *   conv_out  9×9 conv, stride 1, 32 → 3          (+ norm, 'johnson-ml5' only)
 *   output    tanh(x) · 150 + 127.5 on the 0..255 scale
 *
 * 'johnson-ml5'      the layout of the pretrained ml5.js/deeplearn.js networks: zero padding
 *                    ('same'; stride-2 convs pad like TensorFlow SAME), transposed 3×3 convs
 *                    (stride 2, output cropped to 2H×2W), no conv biases, instance norm eps 1e-3
 *                    after every conv including the last.
 * 'johnson-upsample' our trainable layout: reflection padding, nearest-neighbour ×2 upsampling
 *                    followed by a 3×3 conv (no checkerboard artefacts), instance norm eps 1e-5,
 *                    and a plain conv with bias (no norm) before the tanh output.
 *
 * Images go in and come out as RGB in [0,1], NCHW (the network itself sees 0..255). The output is
 * not clamped (training needs the gradient); `stylise` clamps. Any input size works: the output
 * is cropped back to the input size when it is not a multiple of 4.
 *
 * Parameters are stored in the TensorFlow layouts of the pretrained checkpoints, so the bytes of a
 * converted checkpoint are unchanged and a browser (TF.js) can use them as they are:
 *   `<layer>.weight`       conv [kh, kw, in, out]; transposed conv [kh, kw, out, in]
 *   `<layer>.norm.scale`   [C], `<layer>.norm.shift` [C]
 *   `conv_out.bias`        [3] ('johnson-upsample' only)
 */
import { NstError } from '../errors';
import {
  conv2d,
  instanceNorm,
  dispose,
  keep,
  noGrad,
  pad,
  rand,
  resize,
  tensor,
  Tensor,
  tidy,
  zeros,
  full,
  gradEnabled,
  Precision,
} from '../engine';
import { edgePad, subPixelKernel, subPixelTransposedConv } from './transformer-layers';

export type TransformerVariant = 'johnson-ml5' | 'johnson-upsample';
/** The layers before the residual blocks (full → ¼ resolution) and after them (¼ → full). */
export const ENCODER_LAYERS = ['conv_in', 'down1', 'down2'] as const;
export const DECODER_LAYERS = ['up1', 'up2', 'conv_out'] as const;

/**
 * How the ml5 networks see past the image's edges. 'reflect' (the default): every convolution pads
 * by reflection and the transposed convolutions read a mirrored row/column before the first, so
 * nothing darkens the borders. 'exact': the original zero padding, bit for bit the pretrained
 * networks (their parity tests), with a dark 3–4 px frame on the left and top (issue 28).
 * Networks of the 'johnson-upsample' layout always reflect: both modes are the same for them.
 */
export type FastPadding = 'exact' | 'reflect';
export const FAST_PADDINGS: readonly FastPadding[] = ['exact', 'reflect'];
export const TRANSFORMER_VARIANTS: readonly TransformerVariant[] = ['johnson-ml5', 'johnson-upsample'];

/** The architecture as recorded in a saved model's metadata (everything is fixed by the variant). */
export interface TransformerArchitecture {
  variant: TransformerVariant;
  /** Channels at full, 1/2 and 1/4 resolution. */
  channels: [number, number, number];
  residualBlocks: number;
  padding: 'zero' | 'reflect';
  upsampling: 'transposed' | 'nearest';
  norm: 'instance';
  normEps: number;
  /** Output: tanh(x) · outputScale + outputOffset on the 0..255 scale. */
  outputActivation: 'tanh';
  outputScale: number;
  outputOffset: number;
}

export function architectureOf(variant: TransformerVariant): TransformerArchitecture {
  const ml5 = variant === 'johnson-ml5';
  return {
    variant,
    channels: [32, 64, 128],
    residualBlocks: 5,
    padding: ml5 ? 'zero' : 'reflect',
    upsampling: ml5 ? 'transposed' : 'nearest',
    norm: 'instance',
    normEps: ml5 ? 1e-3 : 1e-5,
    outputActivation: 'tanh',
    outputScale: 150,
    outputOffset: 127.5,
  };
}

interface LayerSpec {
  name: string;
  kernel: number;
  in: number;
  out: number;
  kind: 'conv' | 'down' | 'up';
  norm: boolean;
  bias: boolean;
}

/** The layers in forward order (also the order of the pretrained checkpoints' variables). */
export function layerSpecs(variant: TransformerVariant): LayerSpec[] {
  const [c1, c2, c3] = architectureOf(variant).channels;
  const ml5 = variant === 'johnson-ml5';
  const specs: LayerSpec[] = [
    { name: 'conv_in', kernel: 9, in: 3, out: c1, kind: 'conv', norm: true, bias: false },
    { name: 'down1', kernel: 3, in: c1, out: c2, kind: 'down', norm: true, bias: false },
    { name: 'down2', kernel: 3, in: c2, out: c3, kind: 'down', norm: true, bias: false },
  ];
  for (let r = 1; r <= architectureOf(variant).residualBlocks; r++) {
    for (const i of [1, 2]) specs.push({ name: `res${r}.conv${i}`, kernel: 3, in: c3, out: c3, kind: 'conv', norm: true, bias: false });
  }
  specs.push(
    { name: 'up1', kernel: 3, in: c3, out: c2, kind: 'up', norm: true, bias: false },
    { name: 'up2', kernel: 3, in: c2, out: c1, kind: 'up', norm: true, bias: false },
    { name: 'conv_out', kernel: 9, in: c1, out: 3, kind: 'conv', norm: ml5, bias: !ml5 },
  );
  return specs;
}

/** Every parameter's name and stored shape, in canonical order. */
export function parameterShapes(variant: TransformerVariant): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  for (const l of layerSpecs(variant)) {
    const transposed = l.kind === 'up' && variant === 'johnson-ml5';
    out.push({ name: `${l.name}.weight`, shape: transposed ? [l.kernel, l.kernel, l.out, l.in] : [l.kernel, l.kernel, l.in, l.out] });
    if (l.norm) out.push({ name: `${l.name}.norm.scale`, shape: [l.out] }, { name: `${l.name}.norm.shift`, shape: [l.out] });
    if (l.bias) out.push({ name: `${l.name}.bias`, shape: [l.out] });
  }
  return out;
}

/** A parameter in its stored layout (see the file comment). */
export interface StoredWeight {
  shape: number[];
  values: Float32Array;
}

export class TransformerNet {
  readonly architecture: TransformerArchitecture;
  private readonly specs: LayerSpec[];
  /** Parameters in the layouts libtorch wants (conv OIHW, transposed conv [in, out, kh, kw]). */
  private readonly params = new Map<string, Tensor>();

  /**
   * Compute precision: 'bf16' runs the whole network in bfloat16 with channels-last layouts
   * (oneDNN's fast path on CPUs with bf16 instructions); the normalisation statistics are
   * accumulated in float32 and the parameters stay float32, so training still updates fp32
   * weights through the casts.
   */
  get precision(): Precision {
    return this.computePrecision;
  }
  set precision(p: Precision) {
    if (p !== this.computePrecision) this.clearWeightCache();
    this.computePrecision = p;
  }
  private computePrecision: Precision = 'fp32';
  /** Edge handling of the ml5 networks (see FastPadding). */
  padding: FastPadding = 'reflect';
  /** True once `parameters()` has handed the weights out (to an optimiser that updates them in place). */
  private trainable = false;
  /** Conv weights in compute layout and precision, built once for inference on a frozen network. */
  private readonly weightCache = new Map<string, Tensor>();

  private constructor(readonly variant: TransformerVariant, readonly device: string) {
    this.architecture = architectureOf(variant);
    this.specs = layerSpecs(variant);
  }

  /**
   * Builds a network from stored weights. Every parameter must be present with exactly its
   * stored shape; anything else is a one-line NstError naming the parameter (`source` says where
   * the weights came from). `rename` maps our names to the file's (for checkpoint formats).
   */
  static fromWeights(
    variant: TransformerVariant,
    weights: Map<string, StoredWeight>,
    options: { device?: string; source: string; rename?: (name: string) => string },
  ): TransformerNet {
    const net = new TransformerNet(variant, options.device ?? 'cpu');
    try {
      for (const { name, shape } of parameterShapes(variant)) {
        const key = options.rename ? options.rename(name) : name;
        const w = weights.get(key);
        const label = key === name ? name : `${key} (${name})`;
        if (!w) throw new NstError(`${options.source}: missing variable ${label}`);
        if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
          throw new NstError(`${options.source}: variable ${label} has shape [${w.shape.join(',')}], expected [${shape.join(',')}]`);
        }
        if (w.values.length !== shape.reduce((a, b) => a * b, 1)) throw new NstError(`${options.source}: variable ${label} has the wrong number of values`);
        if (!w.values.every(Number.isFinite)) throw new NstError(`${options.source}: variable ${label} contains NaN or infinite values`);
        net.params.set(name, keep(tidy(() => toTorchLayout(name, tensor(w.values, w.shape, net.device)).contiguous())));
      }
    } catch (err) {
      net.dispose();
      throw err;
    }
    return net;
  }

  /**
   * A freshly initialised network for training: conv weights and biases uniform in ±1/√fan_in
   * (PyTorch's default), norm scale 1 and shift 0. Seed libtorch (configureThread) to reproduce.
   */
  static initialise(variant: TransformerVariant, device = 'cpu'): TransformerNet {
    const net = new TransformerNet(variant, device);
    noGrad(() => {
      for (const { name, shape } of parameterShapes(variant)) {
        const t = tidy(() => {
          if (name.endsWith('.norm.scale')) return full(shape, 1, device);
          if (name.endsWith('.norm.shift')) return zeros(shape, device);
          const layer = net.specs.find((l) => name.startsWith(`${l.name}.`))!;
          const bound = 1 / Math.sqrt(layer.in * layer.kernel * layer.kernel);
          return toTorchLayout(name, rand(shape, device).mul(2 * bound).sub(bound)).contiguous();
        });
        net.params.set(name, keep(t));
      }
    });
    return net;
  }

  /** The parameters (libtorch layouts), in canonical order; mark them as variables to train. */
  parameters(): Map<string, Tensor> {
    // The caller may change the weights in place from now on: stop caching derived weights.
    this.trainable = true;
    this.clearWeightCache();
    return this.params;
  }

  /** Every parameter in its stored layout, as plain arrays (for saving). */
  storedWeights(): Map<string, StoredWeight> {
    const out = new Map<string, StoredWeight>();
    for (const [name, t] of this.params) {
      tidy(() => {
        const stored = toStoredLayout(name, t.detach()).contiguous();
        out.set(name, { shape: stored.shape, values: stored.data() });
      });
    }
    return out;
  }

  /** Converts a gradient or optimiser moment (libtorch layout) of a parameter to its stored layout. */
  static toStored(name: string, t: Tensor): StoredWeight {
    return tidy(() => {
      const s = toStoredLayout(name, t).contiguous();
      return { shape: s.shape, values: s.data() };
    });
  }

  /** And back: a stored-layout array as a tensor in libtorch layout. */
  static fromStored(name: string, w: StoredWeight, device = 'cpu'): Tensor {
    return tidy(() => toTorchLayout(name, tensor(w.values, w.shape, device)).contiguous());
  }

  /** RGB [0,1] NCHW in → RGB NCHW out, same size, on the [0,1] scale but not clamped. */
  forward(x: Tensor): Tensor {
    const [, , height, width] = x.shape;
    // Without autograd nothing needs a layer's output once the next layer has read it: each step
    // frees its intermediates and its input at once, so a pass holds ~2 activations instead of
    // all of them until it ends (at 836² in bf16: 3.5 GB → a fraction; tiles of print-size photos
    // are planned on this). Training keeps them for the backward pass.
    const inference = !gradEnabled();
    const step = (input: Tensor, fn: (h: Tensor) => Tensor): Tensor => {
      if (!inference) return fn(input);
      const out = tidy(() => fn(input));
      if (input !== x) input.dispose();
      return out;
    };
    let h = this.networkInput(x);
    for (const name of this.stageNames()) h = step(h, (t) => this.stage(name, t));
    return this.networkOutput(h, height, width);
  }

  /** The forward pass's stages in order: the encoder's layers, the residual blocks 'res1'…, the decoder's layers. */
  stageNames(): string[] {
    const blocks = Array.from({ length: this.architecture.residualBlocks }, (_, i) => `res${i + 1}`);
    return [...ENCODER_LAYERS, ...blocks, ...DECODER_LAYERS];
  }

  /** An RGB [0,1] NCHW image as the first stage's input (0..255, compute precision and layout). */
  networkInput(x: Tensor): Tensor {
    return this.toCompute(x.mul(255));
  }

  /**
   * One stage of the forward pass. `preNorm` (encoder and decoder layers only): the convolution's
   * output before its normalisation, whose statistics tiled inference gathers tile by tile.
   */
  stage(name: string, h: Tensor, preNorm = false): Tensor {
    if (/^res\d+$/.test(name)) {
      if (gradEnabled()) return h.add(this.layer(`${name}.conv2`, this.layer(`${name}.conv1`, h, true), false));
      // Inference: the block's first half is freed as soon as the second conv has read it, and the
      // sum lands in the residual's own memory (x + r and r + x are the same floats), so a block
      // holds its input and two activations at most (tiled inference runs the blocks on a whole
      // print-size photo's ¼-resolution activations).
      const half = this.layer(`${name}.conv1`, h, true);
      return this.layer(`${name}.conv2`, half, false, false, true).addInPlace(h);
    }
    return this.layer(name, h, name !== 'conv_out', preNorm);
  }

  /** Whether a layer normalises its output (every one but 'johnson-upsample''s conv_out). */
  isNormalised(layer: string): boolean {
    return this.specs.some((l) => l.name === layer && l.norm);
  }

  /** The last stage's output as RGB NCHW on the [0,1] scale (not clamped), cropped to height × width. */
  networkOutput(h: Tensor, height: number, width: number): Tensor {
    if (h.shape[2] !== height || h.shape[3] !== width) h = h.narrow(2, 0, height).narrow(3, 0, width);
    const { outputScale, outputOffset } = this.architecture;
    if (this.computePrecision === 'bf16') h = h.cast('float32').contiguous();
    return h.tanh().mul(outputScale / 255).add(outputOffset / 255);
  }

  /** Stylises RGB [0,1] images (NCHW) without recording gradients; the result is clamped to [0,1]. */
  stylise(x: Tensor): Tensor {
    return noGrad(() => tidy(() => this.forward(x).clamp(0, 1)));
  }

  dispose(): void {
    this.clearWeightCache();
    dispose([...this.params.values()]);
    this.params.clear();
  }

  private clearWeightCache(): void {
    dispose([...this.weightCache.values()]);
    this.weightCache.clear();
  }

  /**
   * One layer: (upsampling,) padding, convolution, normalisation, relu. Without autograd nothing
   * reads a temporary again once the next op has, so each is freed at once (and `x` as well where
   * the caller hands it over: `consume`): a layer holds its input and one or two temporaries
   * instead of all of them until it ends, and the relu runs in place.
   */
  private layer(name: string, x: Tensor, relu: boolean, preNorm = false, consume = false): Tensor {
    const spec = this.specs.find((l) => l.name === name)!;
    const inference = !gradEnabled();
    const then = (t: Tensor, op: (t: Tensor) => Tensor): Tensor => {
      if (!inference) return op(t);
      const out = tidy(() => op(t));
      if (out !== t && (t !== x || consume)) t.dispose();
      return out;
    };
    let h: Tensor;
    if (spec.kind === 'up' && this.variant === 'johnson-ml5') {
      h = then(x, (t) => this.transposedConv(name, t));
    } else {
      const input = spec.kind === 'up' ? then(x, (t) => resize(t, 2 * t.shape[2], 2 * t.shape[3], 'nearest')) : x;
      const stride = spec.kind === 'down' ? 2 : 1;
      const bias = spec.bias ? this.toCompute(this.params.get(`${name}.bias`)!) : null;
      const weight = this.computeWeight(name, (w) => w);
      // Zero 'same' padding at stride 1 is the convolution's own (no padded copy of the input).
      const zeroSame = this.variant === 'johnson-ml5' && this.padding === 'exact' && stride === 1;
      const padding = zeroSame ? Math.floor(spec.kernel / 2) : 0;
      const padded = zeroSame ? input : then(input, (t) => this.padFor(t, spec.kernel, stride));
      h = then(padded, (t) => conv2d(t, weight, bias, stride, padding));
    }
    if (preNorm) return h;
    if (spec.norm) h = then(h, (t) => this.instanceNorm(t, name));
    if (!relu) return h;
    // h is this layer's own (a convolution's or normalisation's output): relu in place is the same.
    return inference ? h.clampInPlace(0, null) : h.relu();
  }

  /**
   * The ml5 networks' 3×3 stride-2 transposed convolution (output cropped to 2H×2W), computed as
   * a sub-pixel convolution: one 2×2 convolution with four output phases, interleaved into the
   * doubled grid. Same values, a plain convolution that runs in bf16 and channels-last
   * (libtorch 1.13's bf16 transposed convolution fails on CPU), and about twice as fast in fp32.
   */
  private transposedConv(name: string, x: Tensor): Tensor {
    const grid = subPixelTransposedConv(x, this.computeWeight(name, subPixelKernel), this.padding === 'exact' ? 'zero' : 'reflect');
    return this.computePrecision === 'bf16' ? grid.contiguous(true) : grid;
  }

  /** A conv weight in compute layout and precision; cached while the network is frozen for inference. */
  private computeWeight(name: string, derive: (w: Tensor) => Tensor): Tensor {
    // contiguous() also makes a new handle, so the cache never owns (and disposes) a parameter itself.
    const build = () => this.toCompute(derive(this.params.get(`${name}.weight`)!)).contiguous(this.computePrecision === 'bf16');
    if (this.trainable) return build();
    let w = this.weightCache.get(name);
    if (!w) {
      w = keep(noGrad(() => tidy(build)));
      this.weightCache.set(name, w);
    }
    return w;
  }

  /** A tensor in the compute precision (bf16: channels-last for 4-d tensors). */
  private toCompute(t: Tensor): Tensor {
    if (this.computePrecision !== 'bf16') return t;
    const b = t.cast('bfloat16');
    return t.shape.length === 4 ? b.contiguous(true) : b;
  }

  /**
   * Padding the conv's own zero padding cannot do: reflection 'same' padding (ours, any stride;
   * the ml5 networks' outside exact mode) and TensorFlow SAME at stride 2 (ml5; asymmetric, zero
   * in exact mode, mirrored otherwise). ml5's exact stride-1 zero padding is the conv's.
   */
  private padFor(x: Tensor, kernel: number, stride: number): Tensor {
    const [, , h, w] = x.shape;
    const p = Math.floor(kernel / 2);
    // Reflection needs the padding to be smaller than the image; tiny inputs fall back to replication.
    const mirrored = () => edgePad(x, p, p < Math.min(h, w) ? 'reflect' : 'replicate');
    const layout = (t: Tensor) => (this.computePrecision === 'bf16' ? t.contiguous(true) : t);
    if (this.variant === 'johnson-upsample') return layout(mirrored());
    const same = (n: number): [number, number] => {
      const total = Math.max((Math.ceil(n / stride) - 1) * stride + kernel - n, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    };
    const [top, bottom] = same(h);
    const [left, right] = same(w);
    if (this.padding === 'exact') return pad(x, [left, right, top, bottom], 'constant', 0);
    // SAME never pads more than p on a side: mirror p all round, keep what SAME pads.
    return layout(mirrored().narrow(2, p - top, h + top + bottom).narrow(3, p - left, w + left + right));
  }

  /**
   * Instance-normalisation statistics: 'record' stores each layer's per-channel mean and variance
   * of the next forward pass; 'use' normalises with stored ones instead of the input's own. Tiled
   * inference (src/transfer/fast/tiled.ts) records them on the whole photo (downscaled to fit)
   * and uses them in every tile, so all tiles share one normalisation and no tile looks different.
   */
  normStatistics: { mode: 'record' | 'use'; stats: Map<string, { mean: Tensor; variance: Tensor }> } | null = null;

  private instanceNorm(x: Tensor, name: string): Tensor {
    // One fused libtorch op: scale · (x − mean) / √(biased var + eps) + shift. It takes bf16
    // channels-last input with fp32 scale and shift (statistics accumulate in fp32).
    const scale = this.params.get(`${name}.norm.scale`)!;
    const shift = this.params.get(`${name}.norm.shift`)!;
    const ns = this.normStatistics;
    if (ns?.mode === 'use' && ns.stats.has(name)) {
      const { mean, variance } = ns.stats.get(name)!;
      const c = scale.shape[0];
      // y = x·factor + (shift − mean·factor) in fp32, one full-size temporary at a time (tiles of
      // print-size photos run here, planned with the plain pass's memory).
      const factor = scale.reshape([1, c, 1, 1]).div(variance.add(this.architecture.normEps).sqrt());
      const offset = shift.reshape([1, c, 1, 1]).sub(mean.mul(factor));
      const f = x.cast('float32');
      const y = f.mul(factor);
      if (f !== x) f.dispose();
      y.addInPlace(offset);
      const out = this.toCompute(y);
      if (out !== y) y.dispose();
      return out;
    }
    if (ns?.mode === 'record') {
      const f = x.cast('float32');
      ns.stats.get(name)?.mean.dispose();
      ns.stats.get(name)?.variance.dispose();
      ns.stats.set(name, { mean: keep(f.mean([2, 3], true)), variance: keep(f.variance([2, 3], true)) });
    }
    return instanceNorm(x, scale, shift, this.architecture.normEps);
  }
}

/** Stored (TF) layout → libtorch layout: conv HWIO → OIHW; transposed [kh,kw,out,in] → [in,out,kh,kw]. */
function toTorchLayout(name: string, t: Tensor): Tensor {
  return name.endsWith('.weight') ? t.permute([3, 2, 0, 1]) : t;
}

/** Inverse of toTorchLayout (the permutation [3,2,0,1] is its own inverse up to [2,3,1,0]). */
function toStoredLayout(name: string, t: Tensor): Tensor {
  return name.endsWith('.weight') ? t.permute([2, 3, 1, 0]) : t;
}
