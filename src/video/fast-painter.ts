/**
 * Fast method: one forward pass of a trained network per frame, then, where the flow is
 * reliable, a blend with the previous stylised frame warped onto this one (detail-blend.ts: the
 * coarse band mostly from the previous frame, the fine detail mostly from this one). The blend is
 * recursive, so a stroke follows the scene instead of being redrawn differently in every frame.
 */
import { luminancePreserveColors, RgbImage } from '../image';
import { TransformerNet } from '../models/transformer-net';
import { stylizeImage } from '../transfer/fast/run';
import { BlendWeights, blendWarped } from './detail-blend';
import type { FramePainter, TemporalGuide } from './painter';

export class FastPainter implements FramePainter {
  /** blend: both weights 0 paints every frame on its own. */
  constructor(
    private readonly net: TransformerNet,
    private readonly options: { blend: BlendWeights; preserveColors: 'none' | 'luminance' },
  ) {}

  async paint(frame: RgbImage, guide: TemporalGuide | null): Promise<RgbImage> {
    const styled = stylizeImage(this.net, frame, 'none');
    const { coarse, detail } = this.options.blend;
    const out = guide && (coarse > 0 || detail > 0) ? blendWarped(styled, guide, this.options.blend) : styled;
    return this.options.preserveColors === 'luminance' ? luminancePreserveColors(out, frame) : out;
  }

  dispose(): void {
    this.net.dispose();
  }
}
