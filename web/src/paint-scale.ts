/**
 * Painting a photo at a larger size than it has, then resizing the result back (fitted styles'
 * finish): the network's strokes have a fixed size in pixels, so at 1.5× they come out two thirds
 * as large relative to the photo. The server's twin is src/transfer/arbitrary/paint-scale.ts; the
 * resizes are the ones libtorch does there: bilinear up with half-pixel centres (align_corners
 * false: TF.js's halfPixelCenters), and back down by area averaging (adaptive average pooling:
 * output pixel i averages input pixels floor(i·in/out) … ceil((i+1)·in/out) − 1, done here as two
 * averaging matrices, since TF.js has no adaptive pooling).
 */
import type * as TF from '@tensorflow/tfjs';

/** Photos are painted at most this long side (px) when scaled up (PAINT_SCALE_MAX_SIDE on the server). */
const PAINT_SCALE_MAX_SIDE = 2048;

/** The painting size of a width × height photo at `scale` (the server's paintedSize). */
export function paintedSize(width: number, height: number, scale: number): { width: number; height: number } {
  const longest = Math.max(width, height);
  const s = scale > 1 ? Math.max(1, Math.min(scale, PAINT_SCALE_MAX_SIDE / longest)) : scale;
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/** The [out, in] matrix of adaptive average pooling along one axis. */
function areaMatrix(out: number, size: number): TF.Tensor2D {
  const m = new Float32Array(out * size);
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * size) / out);
    const end = Math.ceil(((i + 1) * size) / out);
    for (let j = start; j < end; j++) m[i * size + j] = 1 / (end - start);
  }
  return tf.tensor2d(m, [out, size]);
}

/** An NHWC image (batch 1) resized to height × width by area averaging. */
function resizeArea(x: TF.Tensor4D, height: number, width: number): TF.Tensor4D {
  return tf.tidy(() => {
    const [, h, w, c] = x.shape;
    const rows = tf.matMul(areaMatrix(height, h), tf.reshape(x, [h, w * c])); // [height, w·c]
    const cols = tf.matMul(areaMatrix(width, w), tf.reshape(tf.transpose(tf.reshape(rows, [height, w, c]), [1, 0, 2]), [w, height * c])); // [width, height·c]
    return tf.reshape(tf.transpose(tf.reshape(cols, [width, height, c]), [1, 0, 2]), [1, height, width, c]) as TF.Tensor4D;
  });
}

/**
 * `stylise(x)` on the photo (NHWC, [0,1]) resized to its painted size (bilinear), the result
 * resized back to the photo's size (area), clamped to [0,1]. At scale 1, exactly `stylise(x)`.
 */
export function paintAtScale(x: TF.Tensor4D, scale: number, stylise: (x: TF.Tensor4D) => TF.Tensor4D): TF.Tensor4D {
  const [, height, width] = x.shape;
  const size = paintedSize(width, height, scale);
  if (size.width === width && size.height === height) return stylise(x);
  return tf.tidy(() => tf.clipByValue(resizeArea(stylise(tf.image.resizeBilinear(x, [size.height, size.width], false, true)), height, width), 0, 1) as TF.Tensor4D);
}
