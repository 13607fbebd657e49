/**
 * Content-feature structural distance (CFSD, as StyleID, CVPR 2024, measures content kept): the
 * cosine self-similarity of every position with every other at relu3_1, each row turned into a
 * distribution by a softmax, and the mean KL divergence KL(photo ‖ output) over rows. It compares
 * structure (what is like what), not colour or texture, so a stylised photo that keeps its forms
 * scores near 0 and a field of texture scores high.
 */
import { Tensor, tidy } from '../engine';

/** Rows of the N × N similarity matrices handled at once (bounds memory: 512 × N floats). */
const ROW_CHUNK = 512;

/** Row-normalised positions × channels (unit vectors), from 1 × C × H × W features. */
function unitPositions(f: Tensor): Tensor {
  const [, c, h, w] = f.shape;
  const p = f.reshape([c, h * w]).transpose(0, 1);
  return p.div(p.square().sum([1], true).sqrt().add(1e-8));
}

/** Mean over positions of KL(softmax(S_photo row) ‖ softmax(S_output row)); 0 for equal structure. */
export function cfsd(photoFeatures: Tensor, outputFeatures: Tensor): number {
  const [, c, h, w] = photoFeatures.shape;
  const [, c2, h2, w2] = outputFeatures.shape;
  if (c !== c2 || h !== h2 || w !== w2) throw new Error(`cfsd: feature shapes differ ([${photoFeatures.shape}] vs [${outputFeatures.shape}])`);
  return tidy(() => {
    const a = unitPositions(photoFeatures);
    const b = unitPositions(outputFeatures);
    const n = h * w;
    let total = 0;
    for (let start = 0; start < n; start += ROW_CHUNK) {
      const len = Math.min(ROW_CHUNK, n - start);
      total += tidy(() => {
        const logP = a.narrow(0, start, len).matmul(a.transpose(0, 1)).logSoftmax(1);
        const logQ = b.narrow(0, start, len).matmul(b.transpose(0, 1)).logSoftmax(1);
        return logP.exp().mul(logP.sub(logQ)).sum().item();
      });
    }
    return total / n;
  });
}
