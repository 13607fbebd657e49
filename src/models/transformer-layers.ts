/**
 * Layer building blocks of the transformer networks that libtorch 1.13 lacks in the form we need:
 * the ml5 networks' transposed convolution as a sub-pixel convolution (a plain convolution runs
 * in bf16 and channels-last and is faster in fp32 too), and edge padding by index gathers (no
 * bf16 reflection padding on CPU). All are tensor ops, so gradients flow through them.
 */
import { conv2d, pad, Tensor } from '../engine';

/** Reflection or replication padding by `p` on all four sides as two index gathers (any dtype). */
export function edgePadByGather(x: Tensor, p: number, mode: 'reflect' | 'replicate'): Tensor {
  const indices = (n: number): number[] =>
    Array.from({ length: n + 2 * p }, (_, i) => {
      const j = i - p;
      if (mode === 'replicate') return Math.min(Math.max(j, 0), n - 1);
      return j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j;
    });
  return x.indexSelect(2, indices(x.shape[2])).indexSelect(3, indices(x.shape[3]));
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
 * which are interleaved into the doubled grid.
 */
export function subPixelTransposedConv(x: Tensor, kernel: Tensor): Tensor {
  const [n, , height, width] = x.shape;
  const outChannels = kernel.shape[0] / 4;
  const phases = conv2d(pad(x, [1, 0, 1, 0], 'constant', 0), kernel, null, 1, 0);
  return phases
    .reshape([n, outChannels, 2, 2, height, width])
    .permute([0, 1, 4, 2, 5, 3])
    .reshape([n, outChannels, 2 * height, 2 * width]);
}
