/**
 * What the video benchmark and tests measure of painted frames:
 * - flicker, as the temporal warping error (Lai et al. 2018; Ruder et al. 2016): the mean
 *   |O_t − W(O_{t−1})| over the pixels visible in both frames, averaged over t, where W warps the
 *   previous output onto frame t with the (true or estimated) backward flow;
 * - how much of the style the frames keep: their mean Gatys style loss against the painting.
 */
import { keep, noGrad, tidy } from '../engine';
import type { RgbImage } from '../image';
import { GatysObjective } from '../losses';
import type { Vgg19 } from '../models/vgg19';
import { STYLIZE_DEFAULTS } from '../transfer/gatys/options';
import { imageToTensor } from '../transfer/image-tensor';
import type { Flow } from './flow';
import { warpImage } from './warp';

/**
 * outputs: the painted frames; backward[t−1]: flow of frame t onto frame t−1; valid[t−1]
 * (optional): per-pixel weights in [0,1], 0 where the pixel of frame t is not visible in frame
 * t−1 (default: 1 where its source lies inside the frame, else 0). Values in [0,1] per channel.
 */
export function temporalWarpingError(outputs: RgbImage[], backward: Flow[], valid?: Float32Array[]): number {
  let total = 0;
  for (let t = 1; t < outputs.length; t++) {
    const flow = backward[t - 1];
    const warped = warpImage(outputs[t - 1], flow);
    const n = flow.width * flow.height;
    const cur = outputs[t].data;
    let sum = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const x = (i % flow.width) + flow.u[i];
      const y = Math.floor(i / flow.width) + flow.v[i];
      const weight = valid ? valid[t - 1][i] : x >= 0 && y >= 0 && x <= flow.width - 1 && y <= flow.height - 1 ? 1 : 0;
      if (weight <= 0) continue;
      for (let k = 0; k < 3; k++) sum += weight * Math.abs(cur[k * n + i] - warped.data[k * n + i]);
      count += 3 * weight;
    }
    total += count > 0 ? sum / count : 0;
  }
  return outputs.length > 1 ? total / (outputs.length - 1) : 0;
}

/** Mean style loss of the frames against the painting (VGG19, the default Gatys style layers, weight 1). */
export function meanStyleLoss(net: Vgg19, style: RgbImage, frames: RgbImage[]): number {
  const target = keep(tidy(() => net.preprocess(imageToTensor(style))));
  const objective = new GatysObjective(net, null, target, { content: [], style: STYLIZE_DEFAULTS.styleLayers }, { content: 0, style: 1, tv: 0 });
  try {
    const losses = frames.map((f) => noGrad(() => tidy(() => objective.terms(net.preprocess(imageToTensor(f))).total.item())));
    return losses.reduce((a, b) => a + b, 0) / losses.length;
  } finally {
    objective.dispose();
    target.dispose();
  }
}
