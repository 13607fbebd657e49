/**
 * A content term the fit cannot trade away for texture: the self-similarity structure of the
 * photo at relu3_1 (what the quality check's CFSD measures). Each position's cosine similarity to
 * every other is softmaxed into a distribution, and the loss is the mean KL(photo ‖ output) over
 * positions. Unlike the Gram-weighted contract objective (style 20× content), it does not fall
 * when strokes replace the photo's forms, and it ignores colour, so the painting's palette and
 * strokes stay free.
 *
 * The features are average-pooled to at most 32 positions a side first: the N × N matrices (and
 * their gradients) then stay ≤ 1024² whatever the stage size, and the structure that matters
 * (edges of objects, not single strokes) survives the pooling.
 */
import { avgPool2d, keep, noGrad, Tensor, tidy } from '../../engine';
import { Vgg19 } from '../../models/vgg19';

export const STRUCTURE_LAYER = 'relu3_1';
const MAX_SIDE = 32;

/** Pooled, position-major, unit-length features: N × C. */
function unitPositions(features: Tensor): Tensor {
  const [, , h, w] = features.shape;
  const k = Math.max(1, Math.ceil(Math.max(h, w) / MAX_SIDE));
  const f = (k > 1 ? avgPool2d(features.cast('float32'), k) : features.cast('float32'));
  const [, c, ph, pw] = f.shape;
  const p = f.reshape([c, ph * pw]).transpose(0, 1);
  return p.div(p.square().sum([1], true).sqrt().add(1e-6));
}

/** Row-wise log-softmax of the cosine self-similarity. */
function logSimilarity(features: Tensor): Tensor {
  const p = unitPositions(features);
  return p.matmul(p.transpose(0, 1)).logSoftmax(1);
}

/** The photo's structure, computed once (no gradients); dispose() when done. */
export class StructureTarget {
  private constructor(private readonly logP: Tensor) {}

  /** From an RGB [0,1] photo. */
  static ofPhoto(vgg: Vgg19, photo: Tensor): StructureTarget {
    return new StructureTarget(keep(noGrad(() => tidy(() => logSimilarity(vgg.forward(vgg.preprocess(photo), [STRUCTURE_LAYER]).get(STRUCTURE_LAYER)!)))));
  }

  /** Mean over positions of KL(photo row ‖ output row), differentiable; output features at STRUCTURE_LAYER. */
  loss(outputFeatures: Tensor): Tensor {
    const logQ = logSimilarity(outputFeatures);
    const n = this.logP.shape[0];
    return this.logP.exp().mul(this.logP.sub(logQ)).sum().div(n);
  }

  dispose(): void {
    this.logP.dispose();
  }
}
