/**
 * Ruder et al.'s short-term temporal loss: the stylised frame x should equal the previous
 * stylised frame warped onto it, wherever the warp is reliable:
 *   L = w · (1/D) Σ c · (x − W(x_prev))²     (D = 3·H·W, c the per-pixel certainty)
 * in the network's input space (x is the optimised image as VGG19 sees it). Its gradient
 * 2w/D · c · (x − W(x_prev)) is closed-form, so it is added to the Gatys gradient directly.
 */
import { keep, Tensor, tensor, tidy } from '../engine';
import type { Vgg19 } from '../models/vgg19';
import { imageToTensor } from '../transfer/image-tensor';
import type { TemporalGuide } from './painter';

export class TemporalLoss {
  private readonly target: Tensor;
  private readonly certainty: Tensor;

  constructor(net: Vgg19, guide: TemporalGuide, private readonly weight: number, device = 'cpu') {
    const { width, height } = guide.warped;
    this.target = keep(tidy(() => net.preprocess(imageToTensor(guide.warped, device))));
    this.certainty = keep(tensor(guide.certainty, [1, 1, height, width], device));
  }

  /** The loss at x and its gradient (in the caller's tidy scope). */
  evaluate(x: Tensor): { loss: number; grad: Tensor } {
    const diff = x.detach().sub(this.target);
    const weighted = diff.mul(this.certainty);
    const scale = this.weight / x.size;
    return { loss: weighted.mul(diff).sum().item() * scale, grad: weighted.mul(2 * scale) };
  }

  dispose(): void {
    this.target.dispose();
    this.certainty.dispose();
  }
}
