/**
 * Fast method: one forward pass of a trained network per frame, then, where the flow is
 * reliable, a blend with the previous stylised frame warped onto this one:
 *   out = (1 − b·c) · net(frame) + b·c · W(out_prev)
 * with c the certainty (0 at occlusions, motion boundaries and new image borders, where the
 * network's own result is kept) and b the blend weight. The blend is recursive, so a stroke
 * follows the scene instead of being redrawn differently in every frame.
 */
import { luminancePreserveColors, RgbImage } from '../image';
import { TransformerNet } from '../models/transformer-net';
import { stylizeImage } from '../transfer/fast/run';
import type { FramePainter, TemporalGuide } from './painter';

export class FastPainter implements FramePainter {
  constructor(
    private readonly net: TransformerNet,
    private readonly options: { blend: number; preserveColors: 'none' | 'luminance' },
  ) {}

  async paint(frame: RgbImage, guide: TemporalGuide | null): Promise<RgbImage> {
    const styled = stylizeImage(this.net, frame, 'none');
    const out = guide && this.options.blend > 0 ? blendWarped(styled, guide, this.options.blend) : styled;
    return this.options.preserveColors === 'luminance' ? luminancePreserveColors(out, frame) : out;
  }

  dispose(): void {
    this.net.dispose();
  }
}

/** (1 − b·c) · current + b·c · warped, per pixel. */
export function blendWarped(current: RgbImage, guide: TemporalGuide, blend: number): RgbImage {
  const n = current.width * current.height;
  const data = new Float32Array(current.data.length);
  const w = guide.warped.data;
  for (let i = 0; i < n; i++) {
    const a = blend * guide.certainty[i];
    for (let k = 0; k < 3; k++) {
      const j = k * n + i;
      data[j] = (1 - a) * current.data[j] + a * w[j];
    }
  }
  return { width: current.width, height: current.height, data };
}
