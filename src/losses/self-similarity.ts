/**
 * STROTSS's content loss: the structure of the photo is what is like what, not the feature values
 * themselves. At the same N sampled positions of the photo and of the output, the cosine-distance
 * self-similarity matrices ([N, N]) are each normalised by their column sums and compared by mean
 * absolute difference (times N, as STROTSS scales it, so the value does not shrink with N). A
 * painting's texture can then replace the photo's, as long as it keeps its relations.
 */
import { Tensor } from '../engine';
import { cosineDistances } from './remd';

/** Cosine-distance self-similarity of the rows, each column divided by its sum. */
export function normalisedSelfDistances(rows: Tensor): Tensor {
  const d = cosineDistances(rows, rows);
  return d.div(d.sum([0], true).add(1e-8));
}

/** output, photo: [N, D] rows at the same positions. */
export function selfSimilarityLoss(output: Tensor, photo: Tensor): Tensor {
  if (output.shape.join() !== photo.shape.join()) throw new Error(`selfSimilarityLoss: shapes differ ([${output.shape}] vs [${photo.shape}])`);
  return normalisedSelfDistances(output).sub(normalisedSelfDistances(photo)).abs().mean().mul(output.shape[0]);
}
