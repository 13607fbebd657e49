/**
 * Fast method: one forward pass of a trained network per frame, then, where the flow is
 * reliable, a blend with the previous stylised frame warped onto this one (detail-blend.ts: the
 * coarse band mostly from the previous frame, the fine detail mostly from this one). The blend is
 * recursive, so a stroke follows the scene instead of being redrawn differently in every frame.
 * Frames too large for the memory budget are painted in tiles, as `nst fast` paints a print
 * (frame-memory.ts plans them once: every frame has the same size).
 */
import { luminancePreserveColors, RgbImage } from '../image';
import { TransformerNet } from '../models/transformer-net';
import { stylizeImage } from '../transfer/fast/run';
import { FastTilingPlan, stylizeImageTiled } from '../transfer/fast/tiled';
import { BlendWeights, blendWarped } from './detail-blend';
import type { FramePainter, TemporalGuide } from './painter';

export class FastPainter implements FramePainter {
  readonly tile: number | null;

  /** blend: both weights 0 paints every frame on its own. tiling: null (or absent) paints frames whole. */
  constructor(
    private readonly net: TransformerNet,
    private readonly options: { blend: BlendWeights; preserveColors: 'none' | 'luminance'; tiling?: FastTilingPlan | null },
  ) {
    this.tile = options.tiling?.tile ?? null;
  }

  async paint(frame: RgbImage, guide: TemporalGuide | null): Promise<RgbImage> {
    const tiling = this.options.tiling;
    const styled = tiling ? stylizeImageTiled(this.net, frame, tiling, 'none') : stylizeImage(this.net, frame, 'none');
    const { coarse, detail } = this.options.blend;
    const out = guide && (coarse > 0 || detail > 0) ? blendWarped(styled, guide, this.options.blend) : styled;
    return this.options.preserveColors === 'luminance' ? luminancePreserveColors(out, frame) : out;
  }

  dispose(): void {
    this.net.dispose();
  }
}
