/**
 * The tensor type of the TypeScript API: an immutable-looking handle on a libtorch tensor, with
 * the ops the project uses as methods. Tensors are released by `dispose()` or by the enclosing
 * `tidy()` scope (see scope.ts). In-place methods end in `InPlace` and are never differentiated.
 */
import { native, NativeTensor } from './native';
import { track } from './scope';

export type Shape = number[];
export type PadMode = 'constant' | 'reflect' | 'replicate';
export type ResizeMode = 'nearest' | 'bilinear' | 'bicubic' | 'area';

export class Tensor {
  private handle: NativeTensor | null;

  /** Wraps a native tensor; it joins the innermost open tidy() scope. */
  constructor(handle: NativeTensor) {
    this.handle = handle;
    track(this);
  }

  /** The native handle (throws once disposed). */
  get raw(): NativeTensor {
    if (!this.handle) throw new Error('tensor used after dispose()');
    return this.handle;
  }

  get isDisposed(): boolean {
    return this.handle === null;
  }

  dispose(): void {
    if (this.handle) {
      this.handle.dispose();
      this.handle = null;
    }
  }

  get shape(): Shape {
    return this.raw.shape();
  }
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): string {
    return this.raw.dtype();
  }
  get device(): string {
    return this.raw.device();
  }
  /** Values as float32, row-major (copied to the CPU if needed). */
  data(): Float32Array {
    return this.raw.toFloat32Array();
  }
  /** The value of a one-element tensor. */
  item(): number {
    return this.raw.item();
  }

  // --- autograd
  get requiresGrad(): boolean {
    return this.raw.requiresGrad();
  }
  /** Marks a leaf tensor as a variable to differentiate with respect to. */
  variable(flag = true): this {
    this.raw.setRequiresGrad(flag);
    return this;
  }
  /** The accumulated gradient after backward(), or null. */
  grad(): Tensor | null {
    const g = this.raw.grad();
    return g ? new Tensor(g) : null;
  }
  zeroGrad(): void {
    native().zeroGrad(this.raw);
  }
  backward(): void {
    native().backward(this.raw);
  }

  // --- conversion
  to(device: string): Tensor {
    return wrap(native().toDevice(this.raw, device));
  }
  cast(dtype: 'float32' | 'bfloat16' | 'float16'): Tensor {
    return wrap(native().toDType(this.raw, dtype));
  }
  clone(): Tensor {
    return wrap(native().clone(this.raw));
  }
  detach(): Tensor {
    return wrap(native().detach(this.raw));
  }
  contiguous(channelsLast = false): Tensor {
    return wrap(native().contiguous(this.raw, channelsLast));
  }

  // --- elementwise (tensor or scalar operand, with broadcasting)
  add(other: Tensor | number): Tensor {
    return typeof other === 'number' ? wrap(native().addScalar(this.raw, other)) : wrap(native().add(this.raw, other.raw));
  }
  sub(other: Tensor | number): Tensor {
    return typeof other === 'number' ? wrap(native().addScalar(this.raw, -other)) : wrap(native().sub(this.raw, other.raw));
  }
  mul(other: Tensor | number): Tensor {
    return typeof other === 'number' ? wrap(native().mulScalar(this.raw, other)) : wrap(native().mul(this.raw, other.raw));
  }
  div(other: Tensor | number): Tensor {
    return typeof other === 'number' ? wrap(native().mulScalar(this.raw, 1 / other)) : wrap(native().div(this.raw, other.raw));
  }
  pow(exponent: number): Tensor {
    return wrap(native().powScalar(this.raw, exponent));
  }
  maximum(other: Tensor): Tensor {
    return wrap(native().maximum(this.raw, other.raw));
  }
  minimum(other: Tensor): Tensor {
    return wrap(native().minimum(this.raw, other.raw));
  }
  clamp(min: number | null, max: number | null): Tensor {
    return wrap(native().clamp(this.raw, min, max));
  }
  neg(): Tensor {
    return wrap(native().neg(this.raw));
  }
  relu(): Tensor {
    return wrap(native().relu(this.raw));
  }
  tanh(): Tensor {
    return wrap(native().tanh(this.raw));
  }
  sigmoid(): Tensor {
    return wrap(native().sigmoid(this.raw));
  }
  sqrt(): Tensor {
    return wrap(native().sqrt(this.raw));
  }
  abs(): Tensor {
    return wrap(native().abs(this.raw));
  }
  exp(): Tensor {
    return wrap(native().exp(this.raw));
  }
  log(): Tensor {
    return wrap(native().log(this.raw));
  }
  square(): Tensor {
    return wrap(native().square(this.raw));
  }

  // --- reductions (all elements when dims is omitted)
  sum(dims?: number[], keepdim = false): Tensor {
    return wrap(native().sum(this.raw, dims, keepdim));
  }
  mean(dims?: number[], keepdim = false): Tensor {
    return wrap(native().mean(this.raw, dims, keepdim));
  }
  /** Biased variance (divides by N), as instance normalisation uses it. */
  variance(dims?: number[], keepdim = false, unbiased = false): Tensor {
    return wrap(native().variance(this.raw, dims, keepdim, unbiased));
  }
  max(): Tensor {
    return wrap(native().max(this.raw));
  }
  min(): Tensor {
    return wrap(native().min(this.raw));
  }
  norm(): Tensor {
    return wrap(native().norm(this.raw));
  }
  /** Dot product of the two tensors seen as flat vectors. */
  dot(other: Tensor): Tensor {
    return wrap(native().dot(this.raw, other.raw));
  }

  // --- shape
  matmul(other: Tensor): Tensor {
    return wrap(native().matmul(this.raw, other.raw));
  }
  transpose(d0: number, d1: number): Tensor {
    return wrap(native().transpose(this.raw, d0, d1));
  }
  reshape(shape: Shape): Tensor {
    return wrap(native().reshape(this.raw, shape));
  }
  permute(dims: number[]): Tensor {
    return wrap(native().permute(this.raw, dims));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return wrap(native().narrow(this.raw, dim, start, length));
  }
  flip(dims: number[]): Tensor {
    return wrap(native().flip(this.raw, dims));
  }
  indexSelect(dim: number, indices: number[]): Tensor {
    return wrap(native().indexSelect(this.raw, dim, indices));
  }
  /** Rows (or slices along `dim`) picked by an index tensor, e.g. one from argmaxAlong. */
  indexSelectBy(dim: number, indices: Tensor): Tensor {
    return wrap(native().indexSelectBy(this.raw, dim, indices.raw));
  }
  /** The values sorted along `dim` (differentiable: the gradient follows the permutation). */
  sortAlong(dim: number, descending = false): Tensor {
    return wrap(native().sortAlong(this.raw, dim, descending));
  }
  maxAlong(dim: number, keepdim = false): Tensor {
    return wrap(native().maxAlong(this.raw, dim, keepdim));
  }
  minAlong(dim: number, keepdim = false): Tensor {
    return wrap(native().minAlong(this.raw, dim, keepdim));
  }
  /** Indices (int64) of the maxima along `dim`. */
  argmaxAlong(dim: number, keepdim = false): Tensor {
    return wrap(native().argmaxAlong(this.raw, dim, keepdim));
  }
  logSoftmax(dim: number): Tensor {
    return wrap(native().logSoftmax(this.raw, dim));
  }

  // --- in-place optimiser primitives (not differentiated)
  /** this += alpha * other */
  addInPlace(other: Tensor, alpha = 1): this {
    native().addInPlace(this.raw, other.raw, alpha);
    return this;
  }
  mulInPlace(scalar: number): this {
    native().mulScalarInPlace(this.raw, scalar);
    return this;
  }
  /** this += value * a * b */
  addcmulInPlace(a: Tensor, b: Tensor, value: number): this {
    native().addcmulInPlace(this.raw, a.raw, b.raw, value);
    return this;
  }
  /** this += value * a / b */
  addcdivInPlace(a: Tensor, b: Tensor, value: number): this {
    native().addcdivInPlace(this.raw, a.raw, b.raw, value);
    return this;
  }
  copyInPlace(src: Tensor): this {
    native().copyInPlace(this.raw, src.raw);
    return this;
  }
  fillInPlace(value: number): this {
    native().fillInPlace(this.raw, value);
    return this;
  }
  clampInPlace(min: number | null, max: number | null): this {
    native().clampInPlace(this.raw, min, max);
    return this;
  }
}

function wrap(handle: NativeTensor): Tensor {
  return new Tensor(handle);
}

// --- creation

/** A float32 tensor from values in row-major order. */
export function tensor(values: Float32Array | number[], shape: Shape, device = 'cpu'): Tensor {
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  return wrap(native().fromFloat32Array(data, shape, device));
}
export function full(shape: Shape, value: number, device = 'cpu'): Tensor {
  return wrap(native().full(shape, value, device));
}
export function zeros(shape: Shape, device = 'cpu'): Tensor {
  return full(shape, 0, device);
}
/** Standard normal samples from libtorch's generator (seed it with `manualSeed`). */
export function randn(shape: Shape, device = 'cpu'): Tensor {
  return wrap(native().randn(shape, device));
}
/** Uniform samples in [0, 1). */
export function rand(shape: Shape, device = 'cpu'): Tensor {
  return wrap(native().rand(shape, device));
}

// --- multi-tensor and layer ops (NCHW)

export function cat(list: Tensor[], dim: number): Tensor {
  return wrap(native().cat(list.map((t) => t.raw), dim));
}
export function stack(list: Tensor[], dim: number): Tensor {
  return wrap(native().stack(list.map((t) => t.raw), dim));
}
/** groups > 1: grouped convolution (groups = input channels: depthwise, weight [C·m, 1, kh, kw]). */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, stride = 1, padding = 0, groups = 1): Tensor {
  return wrap(native().conv2d(x.raw, weight.raw, bias ? bias.raw : null, [stride, stride], [padding, padding], groups));
}
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null, stride = 1, padding = 0, outputPadding = 0): Tensor {
  return wrap(native().convTranspose2d(x.raw, weight.raw, bias ? bias.raw : null, [stride, stride], [padding, padding], [outputPadding, outputPadding]));
}
export function maxPool2d(x: Tensor, kernel: number, stride = kernel): Tensor {
  return wrap(native().maxPool2d(x.raw, [kernel, kernel], [stride, stride]));
}
export function avgPool2d(x: Tensor, kernel: number, stride = kernel): Tensor {
  return wrap(native().avgPool2d(x.raw, [kernel, kernel], [stride, stride]));
}
/** Pads the last two dims: pads = [left, right, top, bottom]. */
export function pad(x: Tensor, pads: [number, number, number, number], mode: PadMode = 'constant', value = 0): Tensor {
  return wrap(native().pad(x.raw, pads, mode, value));
}
/** Resizes an NCHW tensor to [height, width]. */
export function resize(x: Tensor, height: number, width: number, mode: ResizeMode = 'bilinear', alignCorners = false): Tensor {
  return wrap(native().interpolate(x.raw, [height, width], mode, alignCorners));
}
/** Instance normalisation (NCHW): (x − mean) / √(var + eps) per sample and channel, then · weight + bias. */
export function instanceNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  return wrap(native().instanceNorm(x.raw, weight ? weight.raw : null, bias ? bias.raw : null, eps));
}
/** mean((a - b)^2) over all elements. */
export function mseLoss(a: Tensor, b: Tensor): Tensor {
  return wrap(native().mseLoss(a.raw, b.raw));
}
/**
 * Gradients of Σ outputs with respect to inputs, without touching `.grad`. With gradOutputs,
 * the vector-Jacobian product Σ ⟨gradOutputs[i], d outputs[i]⟩ instead. retainGraph keeps the
 * graph alive for another pass.
 */
export function gradients(
  outputs: Tensor[],
  inputs: Tensor[],
  options: { gradOutputs?: Tensor[]; retainGraph?: boolean } = {},
): (Tensor | null)[] {
  return native()
    .gradients(outputs.map((t) => t.raw), inputs.map((t) => t.raw), options.gradOutputs?.map((t) => t.raw), options.retainGraph ?? false)
    .map((g) => (g ? wrap(g) : null));
}
