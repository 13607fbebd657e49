/**
 * Feed-forward stylisation of photos too large for one pass (prints: `nst fast --size 4096`), in
 * overlapping tiles within a memory budget. Instance normalisation makes a network's output
 * depend on the statistics of the whole input, so tiles normalised on their own would each get
 * a different look: the statistics are recorded once on the whole photo (downscaled to fit) and
 * every tile is normalised with them. Tiles overlap and are blended with smooth weights
 * (../tiling/blend.ts), which also hides the padding at tile edges.
 */
import { noGrad, resize, Tensor, tidy } from '../../engine';
import { NstError } from '../../errors';
import { luminancePreserveColors, RgbImage } from '../../image';
import type { TransformerNet } from '../../models/transformer-net';
import { blendWeights, BlendSpec, overlapFor } from '../tiling/blend';
import { planGrid } from '../tiling/grid';
import { formatBytes } from '../tiling/memory-size';
import { imageToTensor } from '../image-tensor';
import type { PreserveColors } from './options';
import type { Precision } from '../../models';
import { calibratedCost, Calibration, FAST_PROBE_SIZES, MemoryCost } from '../memory';

/**
 * Peak bytes per pixel of one forward pass of the transformer network, the first guess before
 * the machine's own figure (../memory) is measured. With each layer's input freed once read, a
 * pass in the tiles' mode measured ~700 B/px in bf16 and ~1,000 in fp32 on one AMD EPYC (it was
 * 2,870–3,150 when every layer's output lived until the pass ended); 1,200 leaves room for CPUs
 * that pick other kernels, and MEASURE_ABOVE measures wherever that guess is within 2× of the room.
 */
export const FAST_BYTES_PER_PIXEL = 1200;
/** The table's cost: the first guess, and the fallback where the probe cannot run. */
export const FAST_TABLE_COST: MemoryCost = { fixedBytes: 0, bytesPerPixel: FAST_BYTES_PER_PIXEL };
/** The photo, its tensor, the blended output and its weights: bytes per pixel. */
const FAST_WHOLE_BYTES_PER_PIXEL = 60;
const SAFETY = 0.9;
/** Measure the network on this machine when the table's one pass needs more than this share of the budget's room. */
const MEASURE_ABOVE = 0.5;

/**
 * The network's cost for planning a photo: the table far from the budget; measured on this
 * machine (../memory, cached per machine) where the budget is close.
 */
export function fastCostFor(width: number, height: number, maxMemory: number, baseBytes: number, measure: { modelPath: string; precision: Precision; threads: number; device: string }): Calibration | null {
  const room = maxMemory * SAFETY - baseBytes - width * height * FAST_WHOLE_BYTES_PER_PIXEL;
  if (measure.device !== 'cpu' || width * height * FAST_BYTES_PER_PIXEL <= MEASURE_ABOVE * room) return null;
  return calibratedCost({ kind: 'fast', precision: measure.precision, threads: measure.threads, sizes: FAST_PROBE_SIZES, modelPath: measure.modelPath }, FAST_TABLE_COST);
}
export const FAST_MIN_TILE = 64;

export interface FastTilingPlan {
  tile: number;
  blend: BlendSpec;
  /** Longest side of the downscaled photo the normalisation statistics are taken from. */
  statsSide: number;
}

/** null when the photo fits one pass; otherwise the tiles (or an NstError when not even a minimal tile fits). */
export function planFastTiling(width: number, height: number, maxMemory: number, baseBytes: number, tileSize?: number, cost: MemoryCost = FAST_TABLE_COST): FastTilingPlan | null {
  const available = maxMemory * SAFETY - baseBytes - width * height * FAST_WHOLE_BYTES_PER_PIXEL - cost.fixedBytes;
  const fits = (px: number) => px * cost.bytesPerPixel <= available;
  if (tileSize === undefined && fits(width * height)) return null;
  const largest = Math.floor(Math.sqrt(Math.max(0, available) / cost.bytesPerPixel) / 4) * 4;
  if (largest < FAST_MIN_TILE) {
    const minimum = (baseBytes + width * height * FAST_WHOLE_BYTES_PER_PIXEL + cost.fixedBytes + FAST_MIN_TILE ** 2 * cost.bytesPerPixel) / SAFETY;
    throw new NstError(`--max-memory ${formatBytes(maxMemory)} is too small for ${width}x${height}: one ${FAST_MIN_TILE}-px tile needs at least ${formatBytes(minimum)}`);
  }
  const tile = Math.min(tileSize ?? largest, Math.max(width, height));
  return {
    tile,
    // The network sees ~100 px around a pixel: generous margins, a long ramp.
    blend: { margin: Math.max(4, Math.round(tile / 10)), ramp: Math.max(8, Math.round(tile / 8)) },
    statsSide: Math.min(Math.max(width, height), largest),
  };
}

/** Stylises `image` tile by tile; same result size, clamped to [0,1]. */
export function stylizeImageTiled(net: TransformerNet, image: RgbImage, plan: FastTilingPlan, preserveColors: PreserveColors = 'none'): RgbImage {
  const { width, height } = image;
  const plane = width * height;
  const acc = new Float32Array(3 * plane);
  const weight = new Float32Array(plane);
  const x = imageToTensor(image, net.device);
  net.normStatistics = { mode: 'record', stats: new Map() };
  try {
    // 1. The normalisation statistics of the whole photo, at a size that fits one pass.
    noGrad(() =>
      tidy(() => {
        const s = plan.statsSide / Math.max(width, height);
        const small = s < 1 ? resize(x, Math.max(1, Math.round(height * s)), Math.max(1, Math.round(width * s)), 'area') : x;
        net.forward(small);
      }),
    );
    net.normStatistics.mode = 'use';
    // 2. Every tile with those statistics, blended into the output.
    for (const rect of planGrid(width, height, { tile: plan.tile, overlap: overlapFor(plan.blend) })) {
      const w = blendWeights(rect, width, height, plan.blend);
      const y = tidy(() => {
        const crop: Tensor = x.narrow(2, rect.y, rect.height).narrow(3, rect.x, rect.width);
        return net.stylise(crop).data();
      });
      const tp = rect.width * rect.height;
      for (let r = 0; r < rect.height; r++) {
        for (let c = 0; c < rect.width; c++) {
          const wi = r * rect.width + c;
          const o = (rect.y + r) * width + rect.x + c;
          const wv = w[wi];
          weight[o] += wv;
          acc[o] += wv * y[wi];
          acc[plane + o] += wv * y[tp + wi];
          acc[2 * plane + o] += wv * y[2 * tp + wi];
        }
      }
    }
  } finally {
    for (const { mean, variance } of net.normStatistics?.stats.values() ?? []) {
      mean.dispose();
      variance.dispose();
    }
    net.normStatistics = null;
    x.dispose();
  }
  for (let i = 0; i < plane; i++) {
    const wv = weight[i] > 0 ? weight[i] : 1;
    acc[i] /= wv;
    acc[plane + i] /= wv;
    acc[2 * plane + i] /= wv;
  }
  const out: RgbImage = { width, height, data: acc };
  return preserveColors === 'luminance' ? luminancePreserveColors(out, image) : out;
}
