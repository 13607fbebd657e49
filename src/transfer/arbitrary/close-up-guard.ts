/**
 * The close-up guard of `nst styles fit` (issue 24; off by default, `closeUpPhoto`). The fit's two
 * training photos (a mountain and a power drill) do not show how a flat-colour painting treats a
 * close-up: Candy and clip art sat at the structure level on them, yet painted the check's cat as
 * strokes (CFSD 1.6–1.9× the Johnson networks'). The guard paints a close-up (not a check photo)
 * with the fitted vector after the stages and compares its structure loss S (structure-loss.ts)
 * with the four pretrained Johnson networks' median S on the same photo. Above `ratio` × that
 * median, one more stage runs with the close-up among the photos and a hinge on it at that level;
 * below, the vector is kept as it is. Measured: it holds the close-up at the level, but for Candy
 * and clip art that barely carries over to the check's cat (docs/fitted-styles-quality.md), so the
 * default recipe does not run it.
 */
import type { DeviceName } from '../../engine/device';
import { noGrad, Tensor, tensor, tidy } from '../../engine';
import { ArbitraryStyleTransformer, STYLE_VECTOR_LENGTH } from '../../models/arbitrary-transformer';
import { findModelFile } from '../../models/model-dir';
import { loadStyleModel } from '../../models/style-model-format';
import { Vgg19 } from '../../models/vgg19';
import { StructureTarget, STRUCTURE_LAYER } from './structure-loss';

/** The four pretrained Johnson styles: the reference of "keeps the photo". */
export const JOHNSON_STYLES = ['wave', 'udnie', 'scream', 'wreck'] as const;

/** S of an image y (RGB [0,1]) against the photo's structure. */
function structureOfImage(vgg: Vgg19, target: StructureTarget, y: Tensor): number {
  return noGrad(() => tidy(() => target.loss(vgg.forward(vgg.preprocess(y), [STRUCTURE_LAYER]).get(STRUCTURE_LAYER)!).item()));
}

export interface CloseUpCheck {
  /** S of the close-up painted with the fitted vector. */
  structure: number;
  /** Median S of the four Johnson networks' outputs of the close-up. */
  johnsonMedian: number;
  /** ratio × johnsonMedian: above it the guard stage runs, and its hinge holds the close-up there. */
  level: number;
  triggered: boolean;
}

/** Scores the fitted vector on the close-up against the Johnson networks (no gradients). */
export function checkCloseUp(
  transformer: ArbitraryStyleTransformer,
  vgg: Vgg19,
  vector: Float32Array,
  closeUp: Tensor,
  ratio: number,
  options: { modelDir?: string; device?: DeviceName } = {},
): CloseUpCheck {
  const target = StructureTarget.ofPhoto(vgg, closeUp);
  try {
    const johnson = JOHNSON_STYLES.map((style) => {
      const dir = findModelFile(`fast-style/${style}/manifest.json`, options.modelDir, 'the close-up guard compares with the pretrained networks in ../shared/models').replace(/[\\/]manifest\.json$/, '');
      const model = loadStyleModel(dir, options.device ?? 'cpu');
      try {
        return noGrad(() => tidy(() => structureOfImage(vgg, target, model.net.stylise(closeUp))));
      } finally {
        model.net.dispose();
      }
    });
    const structure = noGrad(() => tidy(() => structureOfImage(vgg, target, transformer.stylise(closeUp, tensor(vector, [STYLE_VECTOR_LENGTH])))));
    const johnsonMedian = median(johnson);
    const level = ratio * johnsonMedian;
    return { structure, johnsonMedian, level, triggered: structure > level };
  } finally {
    target.dispose();
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
