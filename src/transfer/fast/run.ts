/**
 * Feed-forward stylisation, run in the calling thread: load the network once, then one forward
 * pass per photo. In a batch (a folder of photos), unreadable photos are skipped with a warning;
 * cancellation stops between photos.
 */
import { configureThread, releaseFreeMemory, resolvePrecision } from '../../engine';
import { luminancePreserveColors, RgbImage } from '../../image';
import { loadStyleModel } from '../../models/style-model-format';
import { TransformerNet } from '../../models/transformer-net';
import { imageToTensor, tensorToImage } from '../image-tensor';
import type { ResolvedFastOptions } from './fast-options';
import type { PreserveColors } from './preserve-colors';
import { runArbitraryFast } from '../arbitrary/stylize';
import { fastCostFor, planFastTiling, stylizeImageTiled } from './tiled';
import { peakResidentBytes, residentBytes } from '../memory';
import { paintPhotos } from './photo-batch';
import { cleanPretrainedOutput } from './pretrained-cleanup';
import type { FastHooks, FastResult } from './results';

export type { FastHooks, FastProgress, FastResult } from './results';

/** One forward pass: RGB image in, stylised RGB image out (same size, clamped to [0,1]). */
export function stylizeImage(net: TransformerNet, image: RgbImage, preserveColors: PreserveColors = 'none'): RgbImage {
  const x = imageToTensor(image, net.device);
  try {
    const y = net.stylise(x);
    try {
      const out = tensorToImage(y);
      return preserveColors === 'luminance' ? luminancePreserveColors(out, image) : out;
    } finally {
      y.dispose();
    }
  } finally {
    x.dispose();
  }
}

export async function runFast(options: ResolvedFastOptions, hooks: FastHooks = {}): Promise<FastResult> {
  if (options.arbitrary) return runArbitraryFast(options, hooks);
  const started = Date.now();
  const runtime = configureThread({ threads: options.threads, device: options.device });
  const model = loadStyleModel(options.modelPath, runtime.device);
  model.net.precision = resolvePrecision(options.precision, runtime.device);
  model.net.padding = options.padding;
  const cleans = model.net.variant === 'johnson-ml5' && options.padding === 'reflect';
  const baseBytes = residentBytes();
  const result: FastResult = {
    model: { path: options.modelPath, style: model.metadata.style?.name ?? options.styleName, variant: model.net.variant, kind: model.kind },
    outputs: [],
    skipped: [],
    cancelled: false,
    seconds: 0,
    threads: runtime.threads,
    device: runtime.device,
    precision: model.net.precision,
  };
  try {
    await paintPhotos(options, hooks, result, async (image) => {
      const t0 = performance.now();
      const cost = fastCostFor(image.width, image.height, options.maxMemory, baseBytes, { modelPath: options.modelPath, precision: model.net.precision, threads: runtime.threads, device: runtime.device });
      if (cost) result.memoryCost = cost;
      const tiling = planFastTiling(image.width, image.height, options.maxMemory, baseBytes, options.tileSize, cost ?? undefined, model.net.precision);
      let out = tiling ? stylizeImageTiled(model.net, image, tiling, options.preserveColors) : stylizeImage(model.net, image, options.preserveColors);
      // The published networks invent dots on dark flat areas at print sizes, leave the pattern of
      // their 4-px upsampling grid, and wreck weaves a texture of its own (pretrained-cleanup.ts).
      // Its full-size buffers come after the network's freed memory is handed back (the allocator
      // kept it: at 2,048 px in fp32 the cleanup went ~110 MiB over the tiles' peak).
      if (cleans) {
        releaseFreeMemory();
        out = (await cleanPretrainedOutput(out, image, result.model.style)).image;
      }
      return { image: out, ms: performance.now() - t0, tile: tiling?.tile, ...(tiling ? { peakMiB: Math.round(peakResidentBytes() / 2 ** 20) } : {}) };
    });
  } finally {
    model.net.dispose();
  }
  result.seconds = (Date.now() - started) / 1000;
  result.peakMiB = Math.round(peakResidentBytes() / 2 ** 20);
  result.budgetMiB = Math.round(options.maxMemory / 2 ** 20);
  result.overBudget = peakResidentBytes() > options.maxMemory;
  return result;
}
