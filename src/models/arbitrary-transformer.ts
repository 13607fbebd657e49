/**
 * The style transformer of Ghiasi et al. 2017 (Magenta "arbitrary image stylization"), separable-
 * convolution variant: one network that paints a photo in any style, steered by a 100-number
 * style vector. Ported from the TF.js graph model in
 * `<model dir>/arbitrary-style/magenta-transformer-separable/` (weights read by name; no TF
 * runtime). The graph, as run here (NCHW; the graph itself is NHWC):
 *
 *   contract  conv 9×9 3→32 s1, conv 3×3 32→64 s2, conv 3×3 64→128 s2; each + batch norm
 *             (frozen statistics, eps 1e-3, folded into the conv at load) + ReLU
 *   residual  ×5: x + SN(sep(ReLU(SN(sep(x)))))               sep = depthwise 3×3 + pointwise 1×1
 *   expand    ×2 nearest, sep 3×3 128→64, SN, ReLU; ×2 nearest, sep 3×3 64→32, SN, ReLU;
 *             sep 9×9 32→3, SN, sigmoid
 *
 * SN is conditional instance normalisation (eps 1e-5) whose per-channel scale and shift are affine
 * functions of the style vector (1×1 convs on it in the graph): all 13 layers' scale and shift
 * come from one [100 → 2758] matrix product here. Input and output are RGB in [0,1].
 *
 * Padding: the graph pads with zeros ('zero', exact port: it leaves a 2–4 px frame on every
 * output); 'reflect' (the default) pads by reflection, which removes the frame at the same loss.
 * Sizes that are not multiples of 4 are padded by reflection up to one in `stylise` and cropped.
 */
import { NstError } from '../errors';
import { cat, conv2d, dispose, instanceNorm, keep, noGrad, pad, resize, tensor, Tensor, tidy } from '../engine';
import type { Precision } from '../engine';
import { readLayersModelWeights, NamedWeight } from './tfjs-layers';
import { edgePad } from './transformer-layers';

/** Length of a style vector. */
export const STYLE_VECTOR_LENGTH = 100;
export type ArbitraryPadding = 'zero' | 'reflect';
export const ARBITRARY_MODEL_SUBDIR = 'arbitrary-style/magenta-transformer-separable';

const BN_EPS = 1e-3;
const STYLE_NORM_EPS = 1e-5;

interface ContractSpec {
  name: string;
  kernel: number;
  stride: number;
}

interface SeparableSpec {
  /** Our name. */
  name: string;
  /** Graph scope of the depthwise and pointwise weights. */
  convScope: string;
  /** Graph scope of the style-norm parameters (`style_params/<scope>/StyleNorm/Conv[_1]`). */
  normScope: string;
  kernel: number;
  in: number;
  out: number;
}

const CONTRACT: ContractSpec[] = [
  { name: 'contract/conv1', kernel: 9, stride: 1 },
  { name: 'contract/conv2', kernel: 3, stride: 2 },
  { name: 'contract/conv3', kernel: 3, stride: 2 },
];

/** The separable conv layers in forward order, each followed by a style norm. */
const SEPARABLE: SeparableSpec[] = (() => {
  const out: SeparableSpec[] = [];
  for (let r = 1; r <= 5; r++) {
    for (const i of [1, 2]) {
      out.push({
        name: `residual${r}/conv${i}`,
        convScope: `transformer/residual/residual${r}/dilate_conv${i}`,
        normScope: `style_params/transformer/residual/residual${r}/conv${i}`,
        kernel: 3,
        in: 128,
        out: 128,
      });
    }
  }
  const expand: [number, number, number][] = [
    [3, 128, 64],
    [3, 64, 32],
    [9, 32, 3],
  ];
  expand.forEach(([kernel, inC, outC], i) =>
    out.push({
      name: `expand/conv${i + 1}`,
      convScope: `transformer/expand/conv${i + 1}/dilate_conv`,
      normScope: `style_params/transformer/expand/conv${i + 1}/conv`,
      kernel,
      in: inC,
      out: outC,
    }),
  );
  return out;
})();

/** Per-layer scale and shift of the style norms (fp32 [C] each), computed from a style vector. */
export type StyleNormParams = Map<string, { scale: Tensor; shift: Tensor }>;

export class ArbitraryStyleTransformer {
  /** fp32 weights in libtorch layouts: contract conv (BN folded) + bias, depthwise, pointwise. */
  private readonly params = new Map<string, Tensor>();
  /** [100, Σ 2·C]: the style vector → every style norm's scale and shift, and its bias. */
  private styleMatrix!: Tensor;
  private styleBias!: Tensor;
  /** Conv weights in compute precision and layout, built on first use (the network is frozen). */
  private readonly weightCache = new Map<string, Tensor>();
  private computePrecision: Precision = 'fp32';
  /** 'reflect' (default) or 'zero' (the graph's own padding; for comparisons with it). */
  padding: ArbitraryPadding = 'reflect';

  private constructor(
    readonly device: string,
    /** Where the weights came from. */
    readonly source: string,
  ) {}

  get precision(): Precision {
    return this.computePrecision;
  }
  /** 'bf16': convolutions in bfloat16, channels-last; norm statistics and style parameters stay fp32. */
  set precision(p: Precision) {
    if (p !== this.computePrecision) this.clearWeightCache();
    this.computePrecision = p;
  }

  /** Loads the graph model's weights (checked against SHA256SUMS when present). */
  static load(modelJsonPath: string, options: { device?: string } = {}): ArbitraryStyleTransformer {
    const weights = readLayersModelWeights(modelJsonPath, { skipIntegerWeights: true });
    return ArbitraryStyleTransformer.fromWeights(weights, { device: options.device, source: modelJsonPath });
  }

  /** Builds the network from the graph's named weights; a missing or misshapen one is a one-line error. */
  static fromWeights(weights: Map<string, NamedWeight>, options: { device?: string; source: string }): ArbitraryStyleTransformer {
    const net = new ArbitraryStyleTransformer(options.device ?? 'cpu', options.source);
    const get = (name: string, shape: number[]): Float32Array => {
      const w = weights.get(name);
      if (!w) throw new NstError(`${options.source}: missing weight ${name} (not the Magenta separable transformer?)`);
      if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
        throw new NstError(`${options.source}: weight ${name} has shape [${w.shape.join(',')}], expected [${shape.join(',')}]`);
      }
      if (!w.values.every(Number.isFinite)) throw new NstError(`${options.source}: weight ${name} contains NaN or infinite values`);
      return w.values;
    };
    const put = (name: string, t: Tensor) => net.params.set(name, keep(t.contiguous()));
    try {
      tidy(() => {
        let inC = 3;
        for (const [i, c] of CONTRACT.entries()) {
          const outC = [32, 64, 128][i];
          const scope = `transformer/${c.name}`;
          const w = tensor(get(`${scope}/weights`, [c.kernel, c.kernel, inC, outC]), [c.kernel, c.kernel, inC, outC]).permute([3, 2, 0, 1]);
          const bn = (n: string) => tensor(get(`${scope}/BatchNorm/${n}`, [outC]), [outC]);
          // Frozen batch norm folded into the conv: y = γ (conv(x) − μ)/√(σ² + ε) + β.
          const factor = bn('Const').div(bn('moving_variance').add(BN_EPS).sqrt());
          put(`${c.name}.weight`, w.mul(factor.reshape([outC, 1, 1, 1])));
          put(`${c.name}.bias`, bn('beta').sub(bn('moving_mean').mul(factor)));
          inC = outC;
        }
        const columns: Tensor[] = [];
        const biases: Tensor[] = [];
        for (const s of SEPARABLE) {
          const k = s.kernel;
          // Depthwise [k,k,C,1] → [C,1,k,k]; pointwise [1,1,in,out] → [out,in,1,1].
          put(`${s.name}.depthwise`, tensor(get(`${s.convScope}/depthwise_weights`, [k, k, s.in, 1]), [k, k, s.in, 1]).permute([2, 3, 0, 1]));
          put(`${s.name}.pointwise`, tensor(get(`${s.convScope}/pointwise_weights`, [1, 1, s.in, s.out]), [1, 1, s.in, s.out]).permute([3, 2, 0, 1]));
          // StyleNorm/Conv_1 gives the scale (γ), StyleNorm/Conv the shift (β).
          for (const conv of ['Conv_1', 'Conv']) {
            const scope = `${s.normScope}/StyleNorm/${conv}`;
            columns.push(tensor(get(`${scope}/weights`, [1, 1, STYLE_VECTOR_LENGTH, s.out]), [STYLE_VECTOR_LENGTH, s.out]));
            biases.push(tensor(get(`${scope}/biases`, [s.out]), [1, s.out]));
          }
        }
        net.styleMatrix = keep(cat(columns, 1).contiguous());
        net.styleBias = keep(cat(biases, 1).contiguous());
      });
      if (net.device !== 'cpu') net.moveTo(net.device);
    } catch (err) {
      net.dispose();
      throw err;
    }
    return net;
  }

  /** Scale and shift of every style norm for a style vector ([100] or [1,100]); differentiable. */
  styleNormParams(style: Tensor): StyleNormParams {
    if (style.size !== STYLE_VECTOR_LENGTH) throw new NstError(`a style vector has ${STYLE_VECTOR_LENGTH} numbers (got ${style.size})`);
    const all = style.reshape([1, STYLE_VECTOR_LENGTH]).matmul(this.styleMatrix).add(this.styleBias);
    const out: StyleNormParams = new Map();
    let offset = 0;
    for (const s of SEPARABLE) {
      const scale = all.narrow(1, offset, s.out).reshape([s.out]);
      const shift = all.narrow(1, offset + s.out, s.out).reshape([s.out]);
      out.set(s.name, { scale, shift });
      offset += 2 * s.out;
    }
    return out;
  }

  /**
   * RGB [0,1] NCHW photos (one style for the whole batch) → RGB in [0,1], same size when H and W
   * are multiples of 4 (otherwise cropped to the input's size). Differentiable with respect to
   * the style vector (and the photos).
   */
  forward(x: Tensor, style: Tensor | StyleNormParams): Tensor {
    const norms = style instanceof Tensor ? this.styleNormParams(style) : style;
    const [, , height, width] = x.shape;
    let h = this.toCompute(x);
    for (const c of CONTRACT) {
      const w = this.computeWeight(`${c.name}.weight`);
      const b = this.toCompute(this.params.get(`${c.name}.bias`)!);
      h = this.conv(h, w, b, c.kernel, c.stride, 1).relu();
    }
    for (let r = 1; r <= 5; r++) {
      const inner = this.separable(h, `residual${r}/conv1`, norms).relu();
      h = h.add(this.separable(inner, `residual${r}/conv2`, norms));
    }
    h = this.separable(resize(h, 2 * h.shape[2], 2 * h.shape[3], 'nearest'), 'expand/conv1', norms).relu();
    h = this.separable(resize(h, 2 * h.shape[2], 2 * h.shape[3], 'nearest'), 'expand/conv2', norms).relu();
    h = this.separable(h, 'expand/conv3', norms);
    if (this.computePrecision === 'bf16') h = h.cast('float32').contiguous();
    if (h.shape[2] !== height || h.shape[3] !== width) h = h.narrow(2, 0, height).narrow(3, 0, width);
    return h.sigmoid();
  }

  /**
   * Stylises RGB [0,1] photos (NCHW) without recording gradients. Any size: H and W are padded
   * by reflection up to multiples of 4 and the result cropped back.
   */
  stylise(x: Tensor, style: Tensor): Tensor {
    return noGrad(() =>
      tidy(() => {
        const [, , height, width] = x.shape;
        const padH = (4 - (height % 4)) % 4;
        const padW = (4 - (width % 4)) % 4;
        const canReflect = padH < height && padW < width;
        const input = padH || padW ? pad(x, [0, padW, 0, padH], canReflect ? 'reflect' : 'replicate') : x;
        const y = this.forward(input, style);
        return padH || padW ? y.narrow(2, 0, height).narrow(3, 0, width).contiguous() : y;
      }),
    );
  }

  dispose(): void {
    this.clearWeightCache();
    dispose([...this.params.values()]);
    this.params.clear();
    this.styleMatrix?.dispose();
    this.styleBias?.dispose();
  }

  private moveTo(device: string): void {
    for (const [name, t] of [...this.params]) {
      this.params.set(name, keep(t.to(device)));
      t.dispose();
    }
    const m = this.styleMatrix;
    const b = this.styleBias;
    this.styleMatrix = keep(m.to(device));
    this.styleBias = keep(b.to(device));
    m.dispose();
    b.dispose();
  }

  private separable(x: Tensor, name: string, norms: StyleNormParams): Tensor {
    const spec = SEPARABLE.find((s) => s.name === name)!;
    const depthwise = this.conv(x, this.computeWeight(`${name}.depthwise`), null, spec.kernel, 1, spec.in);
    const pointwise = conv2d(depthwise, this.computeWeight(`${name}.pointwise`), null);
    const { scale, shift } = norms.get(name)!;
    // One fused op; bf16 channels-last input with fp32 scale and shift (statistics in fp32).
    return instanceNorm(pointwise, scale, shift, STYLE_NORM_EPS);
  }

  /** A k×k conv with 'same' output size at stride 1 (half at stride 2), padded per `padding`. */
  private conv(x: Tensor, weight: Tensor, bias: Tensor | null, kernel: number, stride: number, groups: number): Tensor {
    const p = Math.floor(kernel / 2);
    // The graph pads symmetrically (Pad + VALID), which is the conv's own zero padding.
    if (this.padding === 'zero') return conv2d(x, weight, bias, stride, p, groups);
    const [, , h, w] = x.shape;
    const mode = p < Math.min(h, w) ? 'reflect' : 'replicate';
    const padded = edgePad(x, p, mode);
    return conv2d(this.computePrecision === 'bf16' ? padded.contiguous(true) : padded, weight, bias, stride, 0, groups);
  }

  private computeWeight(name: string): Tensor {
    let w = this.weightCache.get(name);
    if (!w) {
      w = keep(noGrad(() => tidy(() => this.toCompute(this.params.get(name)!).contiguous(this.computePrecision === 'bf16'))));
      this.weightCache.set(name, w);
    }
    return w;
  }

  private toCompute(t: Tensor): Tensor {
    if (this.computePrecision !== 'bf16') return t;
    const b = t.cast('bfloat16');
    return t.shape.length === 4 ? b.contiguous(true) : b;
  }

  private clearWeightCache(): void {
    dispose([...this.weightCache.values()]);
    this.weightCache.clear();
  }
}
