/** The loss contract's score of an image file: what a saved result is worth, with the default losses. */
import { keep, tidy } from '../../engine';
import { loadImage } from '../../image';
import { GatysObjective } from '../../losses';
import type { Vgg19 } from '../../models';
import { imageToTensor } from '../image-tensor';
import { STYLIZE_DEFAULTS } from './options';

/** Scores `file` against `content` and `style`, both loaded with their longest side at `size`. */
export async function scoreImageFile(net: Vgg19, file: string, content: string, style: string, size: number): Promise<number> {
  const [c, s, out] = await Promise.all([loadImage(content, { maxSide: size }), loadImage(style, { maxSide: size }), loadImage(file)]);
  const [ct, st] = tidy(() => [net.preprocess(imageToTensor(c)), net.preprocess(imageToTensor(s))]).map(keep);
  const objective = new GatysObjective(
    net,
    ct,
    st,
    { content: STYLIZE_DEFAULTS.contentLayers, style: STYLIZE_DEFAULTS.styleLayers },
    { content: STYLIZE_DEFAULTS.contentWeight, style: STYLIZE_DEFAULTS.styleWeight, tv: STYLIZE_DEFAULTS.tvWeight },
  );
  try {
    return tidy(() => objective.evaluate(net.preprocess(imageToTensor(out)).detach().variable()).losses.total);
  } finally {
    objective.dispose();
    ct.dispose();
    st.dispose();
  }
}
