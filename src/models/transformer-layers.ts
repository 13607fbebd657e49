/**
 * Layer building blocks of the transformer networks that libtorch 1.13 lacks in the form we need:
 * the ml5 networks' transposed convolution as a sub-pixel convolution (a plain convolution runs
 * in bf16 and channels-last and is faster in fp32 too), and edge padding (no bf16 reflection
 * padding on CPU). All are tensor ops, so gradients flow through them.
 */
import { cat, conv2d, pad, Tensor } from '../engine';

/**
 * Reflection or replication padding by `p` on all four sides, any dtype (libtorch 1.13 has no
 * bf16 reflection padding on CPU) and 4–30× faster than libtorch's own in fp32 or than gathering
 * the whole image: only the 2p mirrored rows and columns are gathered. Without gradients it is a
 * zero pad with the strips copied in (keeps channels-last); with them, two concatenations (the
 * engine's in-place copies are not recorded by autograd).
 */
export function edgePad(x: Tensor, p: number, mode: 'reflect' | 'replicate'): Tensor {
  if (p === 0) return x;
  const [, , h, w] = x.shape;
  const range = (f: (i: number) => number) => Array.from({ length: p }, (_, i) => f(i));
  // Row/column i < p of the padding mirrors source p − i (reflect) or 0 (replicate); the far side alike.
  const near = range((i) => (mode === 'reflect' ? p - i : 0));
  const far = (n: number) => range((i) => (mode === 'reflect' ? n - 2 - i : n - 1));
  if (x.requiresGrad) {
    const rows = cat([x.indexSelect(2, near), x, x.indexSelect(2, far(h))], 2);
    return cat([rows.indexSelect(3, near), rows, rows.indexSelect(3, far(w))], 3);
  }
  const out = pad(x, [p, p, p, p], 'constant', 0);
  out.narrow(2, 0, p).narrow(3, p, w).copyInPlace(x.indexSelect(2, near));
  out.narrow(2, h + p, p).narrow(3, p, w).copyInPlace(x.indexSelect(2, far(h)));
  // Columns from the row-padded tensor, so the corners mirror both ways.
  out.narrow(3, 0, p).copyInPlace(out.indexSelect(3, near.map((j) => j + p)));
  out.narrow(3, w + p, p).copyInPlace(out.indexSelect(3, far(w).map((j) => j + p)));
  return out;
}

/**
 * Transposed-conv weight [in, out, 3, 3] → sub-pixel conv weight [4·out, in, 2, 2]: output channel
 * 4o + 2py + px computes phase (py, px) of channel o. An even output row 2m takes input rows
 * m−1 and m through kernel rows 2 and 0; an odd row 2m+1 takes row m through kernel row 1
 * (window row 0 unused, zero). Columns alike. Built from tensor ops, so gradients flow through it.
 */
export function subPixelKernel(w: Tensor): Tensor {
  const [inChannels, outChannels] = w.shape;
  const taps = [2, 0, 3, 1]; // index 3 is the zero tap added by the padding
  const withZero = pad(w, [0, 1, 0, 1], 'constant', 0);
  const rows = withZero.indexSelect(2, taps).reshape([inChannels, outChannels, 2, 2, 4]);
  const both = rows.indexSelect(4, taps).reshape([inChannels, outChannels, 2, 2, 2, 2]); // [in, out, py, r, px, c]
  return both.permute([1, 2, 4, 0, 3, 5]).reshape([4 * outChannels, inChannels, 2, 2]);
}

/**
 * A 3×3 stride-2 transposed convolution (padding 0, output cropped to 2H×2W) as a sub-pixel
 * convolution: `kernel` from {@link subPixelKernel} gives the four output phases of each channel,
 * which are interleaved into the doubled grid. `edges`: what lies before the first row/column.
 */
export function subPixelTransposedConv(x: Tensor, kernel: Tensor, edges: 'zero' | 'reflect' = 'zero'): Tensor {
  const [n, , height, width] = x.shape;
  const outChannels = kernel.shape[0] / 4;
  // The first output row and column also read input row/column −1: zero in the original
  // transposed convolution, which starves them (the ml5 networks' dark top and left frame);
  // 'reflect' gives them the mirrored row/column 1, as an image continued past its edge would.
  const mirror = edges === 'reflect' && Math.min(height, width) > 1;
  const padded = mirror ? edgePad(x, 1, 'reflect').narrow(2, 0, height + 1).narrow(3, 0, width + 1) : pad(x, [1, 0, 1, 0], 'constant', 0);
  const phases = conv2d(padded, kernel, null, 1, 0);
  return phases
    .reshape([n, outChannels, 2, 2, height, width])
    .permute([0, 1, 4, 2, 5, 3])
    .reshape([n, outChannels, 2 * height, 2 * width]);
}
