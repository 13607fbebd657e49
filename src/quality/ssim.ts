/**
 * SSIM of the luminance (Wang et al. 2004): 11 × 11 Gaussian window (σ 1.5), data range 1,
 * K1 0.01, K2 0.03, averaged over the valid window positions. Images of equal size, RGB [0,1].
 */
import { conv2d, tensor, Tensor, tidy } from '../engine';

const WINDOW = 11;
const SIGMA = 1.5;

function gaussianWindow(device: string): Tensor {
  const g: number[] = [];
  for (let i = 0; i < WINDOW; i++) g.push(Math.exp(-((i - (WINDOW - 1) / 2) ** 2) / (2 * SIGMA * SIGMA)));
  const s = g.reduce((x, y) => x + y, 0);
  const w = new Float32Array(WINDOW * WINDOW);
  for (let i = 0; i < WINDOW; i++) for (let j = 0; j < WINDOW; j++) w[i * WINDOW + j] = (g[i] * g[j]) / (s * s);
  return tensor(w, [1, 1, WINDOW, WINDOW], device);
}

/** ITU-R BT.601 luma of an RGB [0,1] 1 × 3 × H × W tensor, 1 × 1 × H × W. */
export function luminance(rgb: Tensor): Tensor {
  const [, , h, w] = rgb.shape;
  const weights = tensor([0.299, 0.587, 0.114], [1, 3, 1, 1], rgb.device);
  return rgb.mul(weights).sum([1], true).reshape([1, 1, h, w]);
}

export function ssimLuminance(a: Tensor, b: Tensor): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`ssim: shapes differ ([${a.shape}] vs [${b.shape}])`);
  return tidy(() => {
    const x = luminance(a.clamp(0, 1));
    const y = luminance(b.clamp(0, 1));
    const win = gaussianWindow(a.device);
    const blur = (t: Tensor) => conv2d(t, win, null);
    const mx = blur(x);
    const my = blur(y);
    const sxx = blur(x.mul(x)).sub(mx.mul(mx));
    const syy = blur(y.mul(y)).sub(my.mul(my));
    const sxy = blur(x.mul(y)).sub(mx.mul(my));
    const c1 = 0.01 ** 2;
    const c2 = 0.03 ** 2;
    const num = mx.mul(my).mul(2).add(c1).mul(sxy.mul(2).add(c2));
    const den = mx.square().add(my.square()).add(c1).mul(sxx.add(syy).add(c2));
    return num.div(den).mean().item();
  });
}
