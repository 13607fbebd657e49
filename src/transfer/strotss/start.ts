/**
 * STROTSS's start of the first (coarsest) stage: the painting's mean colour plus the photo's finest
 * detail band (the photo minus its half-size blur, the top of a Laplacian pyramid). Starting from
 * the photo itself would sit exactly on the kink of the self-similarity loss (a mean absolute
 * difference, 0 there), where no descent direction shows in the gradient and L-BFGS's first line
 * search fails; from here the layout comes from the photo and the colours from the painting.
 */
import { resize, Tensor } from '../../engine';
import { Vgg19 } from '../../models/vgg19';

/** content, style: preprocessed (the network's convention), any sizes; the result has the content's size. */
export function strotssStart(net: Vgg19, content: Tensor, style: Tensor): Tensor {
  const photo = net.deprocess(content);
  const [, , h, w] = photo.shape;
  const blurred = resize(resize(photo, Math.max(1, Math.floor(h / 2)), Math.max(1, Math.floor(w / 2)), 'bilinear'), h, w, 'bilinear');
  const meanColour = net.deprocess(style).mean([2, 3], true);
  return net.preprocess(photo.sub(blurred).add(meanColour));
}
