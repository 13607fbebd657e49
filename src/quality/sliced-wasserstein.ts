/**
 * Sliced-Wasserstein distance between two feature distributions (Heitz et al. 2021 as a measure):
 * both C × N feature sets are projected on the same K fixed random unit directions, each
 * projection is sorted, and the sorted values are compared quantile by quantile (the shorter set
 * is resampled to the longer one's quantiles). The directions come from a fixed seed, in
 * TypeScript, so the score is the same on every machine.
 */
import { resize, tensor, Tensor, tidy } from '../engine';
import { seededRandom } from '../util/random';

export const SWD_PROJECTIONS = 64;
const directionCache = new Map<string, Float32Array>();

/** K unit directions in C dimensions, K × C, from a fixed seed. */
export function fixedDirections(channels: number, count = SWD_PROJECTIONS, seed = 1234): Float32Array {
  const key = `${channels}:${count}:${seed}`;
  const cached = directionCache.get(key);
  if (cached) return cached;
  const random = seededRandom(seed + channels);
  const d = new Float32Array(count * channels);
  for (let k = 0; k < count; k++) {
    let norm = 0;
    for (let c = 0; c < channels; c++) {
      // Box–Muller: Gaussian components give directions uniform on the sphere.
      const u = Math.max(random(), 1e-12);
      const v = random();
      const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      d[k * channels + c] = g;
      norm += g * g;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let c = 0; c < channels; c++) d[k * channels + c] *= inv;
  }
  directionCache.set(key, d);
  return d;
}

/** Sorted projections, K × N, of 1 × C × H × W features. */
function sortedProjections(features: Tensor, directions: Tensor): Tensor {
  const [, c, h, w] = features.shape;
  return directions.matmul(features.reshape([c, h * w])).sortAlong(1);
}

/**
 * sqrt(mean over directions and quantiles of the squared difference of sorted projections): the
 * sliced 2-Wasserstein distance between the two sets of feature vectors.
 */
export function slicedWasserstein(a: Tensor, b: Tensor, projections = SWD_PROJECTIONS): number {
  return tidy(() => {
    const c = a.shape[1];
    if (b.shape[1] !== c) throw new Error(`slicedWasserstein: ${c} vs ${b.shape[1]} channels`);
    const dirs = tensor(fixedDirections(c, projections), [projections, c], a.device);
    let pa = sortedProjections(a, dirs);
    let pb = sortedProjections(b, dirs);
    const n = Math.max(pa.shape[1], pb.shape[1]);
    // Quantile functions resampled to a common length (linear interpolation along the sorted axis).
    const toLength = (p: Tensor) => (p.shape[1] === n ? p : resize(p.reshape([1, 1, projections, p.shape[1]]), projections, n, 'bilinear', true).reshape([projections, n]));
    pa = toLength(pa);
    pb = toLength(pb);
    return Math.sqrt(pa.sub(pb).square().mean().item());
  });
}
