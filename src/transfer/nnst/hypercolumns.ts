/**
 * Hypercolumns: the activations of several VGG19 layers at one position, stacked into one vector.
 * Each layer is divided by its channel count (so wide layers do not dominate a cosine) and resized
 * to one grid, a quarter of the image's side (NNST's choice: fine enough for brush strokes, coarse
 * enough that the neighbour search stays a few matrix products).
 */
import { cat, resize, Tensor } from '../../engine';
import { Vgg19 } from '../../models';

/** The grid of an image's hypercolumns: a quarter of its side, at least 1 position. */
export function hypercolumnGrid(height: number, width: number): { height: number; width: number } {
  return { height: Math.max(1, Math.floor(height / 4)), width: Math.max(1, Math.floor(width / 4)) };
}

/** Resizes a feature map to the grid: area averaging when shrinking (no aliasing), bilinear when enlarging. */
function toGrid(f: Tensor, height: number, width: number): Tensor {
  const [, , h, w] = f.shape;
  if (h === height && w === width) return f;
  return resize(f, height, width, h >= height && w >= width ? 'area' : 'bilinear');
}

/**
 * 1 × C × h × w hypercolumns of x (preprocessed NCHW) at `layers`, on the grid of x's size; float32,
 * differentiable with respect to x. They join the caller's tidy() scope.
 */
export function hypercolumns(net: Vgg19, x: Tensor, layers: readonly string[]): Tensor {
  const [, , h, w] = x.shape;
  const grid = hypercolumnGrid(h, w);
  // Resized in the network's precision and cast to float32 on the (16× smaller) grid: float32
  // copies of the full-size activations would cost more memory than the network itself.
  const features = net.forward(x, layers, { asComputed: true });
  return cat(layers.map((l) => {
    const f = features.get(l)!;
    return toGrid(f, grid.height, grid.width).cast('float32').contiguous().div(f.shape[1]);
  }), 1);
}

/** N × C rows (one per grid position) of 1 × C × h × w hypercolumns. */
export function asRows(columns: Tensor): Tensor {
  const [, c, h, w] = columns.shape;
  return columns.reshape([c, h * w]).transpose(0, 1);
}
