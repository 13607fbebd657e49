/** Total variation: Σ (x[h+1] − x[h])² + Σ (x[w+1] − x[w])², on the preprocessed image (NCHW). */
import { Tensor } from '../engine';

export function totalVariation(x: Tensor): Tensor {
  const [, , h, w] = x.shape;
  const dh = x.narrow(2, 1, h - 1).sub(x.narrow(2, 0, h - 1));
  const dw = x.narrow(3, 1, w - 1).sub(x.narrow(3, 0, w - 1));
  return dh.square().sum().add(dw.square().sum());
}
