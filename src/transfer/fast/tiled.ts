/**
 * Feed-forward stylisation of photos too large for one pass (prints: `nst fast --size 4096`), in
 * tiles within a memory budget, with the same result as one pass. Instance normalisation makes
 * every pixel depend on statistics of the whole photo, layer by layer, and those of a downscaled
 * photo differ (issue 28: a 2,048-px print came out 20 levels brighter and flatter, mean |difference|
 * 38/255). So the whole photo's statistics are gathered exactly, one normalised layer at a time:
 * the encoder's layers (full → ¼ resolution) from the tiles' cores, the residual blocks on the
 * whole photo's ¼-resolution activations (small: 128 channels on 1/16 of the pixels), the
 * decoder's layers again from tiles. Each tile carries a halo of context wider than the network
 * reaches within a stage, so its core is computed as in one pass: no blending, no seams.
 */
import { noGrad, releaseFreeMemory, Tensor, tensor, tidy, zeros } from '../../engine';
import { NstError } from '../../errors';
import { luminancePreserveColors, RgbImage } from '../../image';
import { DECODER_LAYERS, ENCODER_LAYERS, TransformerNet } from '../../models/transformer-net';
import { formatBytes } from '../tiling/memory-size';
import type { PreserveColors } from './preserve-colors';
import type { Precision } from '../../models';
import { calibratedCost, Calibration, FAST_BLOCKS_PROBE_SIZES, FAST_PROBE_SIZES, MemoryCost } from '../memory';

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
/**
 * Bytes per pixel of the whole photo outside the network: the photo, its tensor and the output
 * (12 each, float32 RGB), plus 10 %.
 */
export const FAST_IMAGE_BYTES_PER_PIXEL = 40;
/** One ¼-resolution activation of the whole photo (128 channels on 1/16 of the pixels), bytes per photo pixel. */
function quarterBytesPerPixel(precision: Precision): number {
  return precision === 'bf16' ? 16 : 32;
}
/**
 * The residual blocks on the whole photo's ¼-resolution activations, per photo pixel, before the
 * machine's own figure (a 'fast-blocks' probe) is measured: one AMD EPYC measured 130–163 B/px in
 * fp32 and 70–84 in bf16 at 2,048 px (four activations: the block's input, the padded copy and
 * oneDNN's blocked copies; six before each layer freed its temporaries); plus 15 %.
 */
export function fastBlocksTableCost(precision: Precision): MemoryCost {
  return { fixedBytes: 0, bytesPerPixel: precision === 'bf16' ? 95 : 190 };
}
/** A fast network's cost: a tile's pass, and the residual blocks run on the whole photo. */
export type FastCost = MemoryCost & { blocks?: MemoryCost };
/** The same, measured (or read from the cache) on this machine, as the run report records it. */
export type FastCalibration = Calibration & { blocks: Calibration };
const SAFETY = 0.9;
/** Measure the network on this machine when the table's one pass needs more than this share of the budget's room. */
const MEASURE_ABOVE = 0.5;

/**
 * The network's cost for planning a photo: the table far from the budget; measured on this
 * machine (../memory, cached per machine) where the budget is close.
 */
export function fastCostFor(width: number, height: number, maxMemory: number, baseBytes: number, measure: { modelPath: string; precision: Precision; threads: number; device: string }): FastCalibration | null {
  const px = width * height;
  const table = fastBlocksTableCost(measure.precision);
  const room = maxMemory * SAFETY - baseBytes - px * FAST_IMAGE_BYTES_PER_PIXEL;
  const wholeByTable = Math.max(px * FAST_BYTES_PER_PIXEL, table.fixedBytes + px * table.bytesPerPixel);
  if (measure.device !== 'cpu' || wholeByTable <= MEASURE_ABOVE * room) return null;
  const spec = { precision: measure.precision, threads: measure.threads, modelPath: measure.modelPath };
  const tile = calibratedCost({ kind: 'fast', ...spec, sizes: FAST_PROBE_SIZES }, FAST_TABLE_COST);
  const blocks = calibratedCost({ kind: 'fast-blocks', ...spec, sizes: FAST_BLOCKS_PROBE_SIZES }, table);
  return { ...tile, blocks };
}
export const FAST_MIN_TILE = 64;
/**
 * Context around each tile's core, full-resolution px (a multiple of 4): more than the encoder
 * (9×9 conv, two stride-2 3×3 convs: ±7 px) and the decoder (two ×2 upsamplings, 9×9 conv:
 * ±10 px) reach, so what the tile's own padding puts at its edges never reaches its core.
 */
export const FAST_TILE_HALO = 16;

export interface FastTilingPlan {
  /** Side of a tile with its halo: what one pass holds, planned within the budget. */
  tile: number;
  /** Side of the part of each tile that is kept (a multiple of 4). */
  core: number;
}

/**
 * null when the photo fits one pass; otherwise the tiles (or an NstError when not even a minimal
 * tile fits). Tiled inference holds the photo's images throughout and, one phase at a time (the
 * memory of each handed back before the next), either a tile beside the whole ¼-resolution
 * activation (encoder, decoder) or the residual blocks on that activation: the budget must hold
 * the larger of the two.
 */
export function planFastTiling(width: number, height: number, maxMemory: number, baseBytes: number, tileSize?: number, cost: FastCost = FAST_TABLE_COST, precision: Precision = 'fp32'): FastTilingPlan | null {
  const px = width * height;
  const blocks = cost.blocks ?? fastBlocksTableCost(precision);
  const room = maxMemory * SAFETY - baseBytes - px * FAST_IMAGE_BYTES_PER_PIXEL;
  const fits = (tilePx: number) => tilePx * cost.bytesPerPixel + cost.fixedBytes <= room;
  if (tileSize === undefined && fits(px)) return null;
  const blocksBytes = blocks.fixedBytes + px * blocks.bytesPerPixel;
  const available = blocksBytes <= room ? room - px * quarterBytesPerPixel(precision) - cost.fixedBytes : 0;
  const largest = Math.floor(Math.sqrt(Math.max(0, available) / cost.bytesPerPixel) / 4) * 4;
  if (largest < FAST_MIN_TILE) {
    const tileNeeds = px * quarterBytesPerPixel(precision) + cost.fixedBytes + FAST_MIN_TILE ** 2 * cost.bytesPerPixel;
    const minimum = (baseBytes + px * FAST_IMAGE_BYTES_PER_PIXEL + Math.max(tileNeeds, blocksBytes)) / SAFETY;
    throw new NstError(`--max-memory ${formatBytes(maxMemory)} is too small for ${width}x${height}: one ${FAST_MIN_TILE}-px tile needs at least ${formatBytes(minimum)}`);
  }
  return fastTilePlan(Math.min(tileSize ?? largest, Math.max(width, height)));
}

/** Tiles of `tile` px with their halo. */
export function fastTilePlan(tile: number): FastTilingPlan {
  // A tile may grow by 3 px to keep the photo's size mod 4 (see spans): room for it.
  return { tile, core: Math.max(4, Math.floor((tile - 2 * FAST_TILE_HALO - 3) / 4) * 4) };
}

/** Rows (or columns) of one tile: the core it contributes and the extent it computes, [start, end). */
interface Span {
  core: [number, number];
  extent: [number, number];
}

/**
 * A side of n px cut into cores of `core` px with `halo` px of context. Every extent starts at a
 * multiple of 4 and is as long as n mod 4, so the stride-2 layers pad and sample a tile as they
 * do the whole photo (TensorFlow SAME pads by the size's parity) and its ¼-resolution grid is
 * the photo's.
 */
function spans(n: number, core: number, halo: number): Span[] {
  const out: Span[] = [];
  for (let c0 = 0; c0 < n; c0 += core) {
    const c1 = Math.min(n, c0 + core);
    const e1 = Math.min(n, c1 + halo);
    out.push({ core: [c0, c1], extent: [Math.max(0, c0 - halo), e1 + ((n - e1) % 4)] });
  }
  return out;
}

/** The same cuts on the ¼-resolution grid (n px there), with halo/4 of context. */
function quarterSpans(full: Span[], n: number, halo: number): Span[] {
  return full.map(({ core: [c0, c1] }) => {
    const q0 = c0 / 4;
    const q1 = Math.ceil(c1 / 4);
    return { core: [q0, q1], extent: [Math.max(0, q0 - halo / 4), Math.min(n, q1 + halo / 4)] };
  });
}

/** The core of a tile's activations at 1/`scale` of the tile's resolution. */
function coreOf(t: Tensor, rows: Span, cols: Span, scale: number): Tensor {
  const part = (s: Span) => [(s.core[0] - s.extent[0]) / scale, Math.ceil(s.core[1] / scale) - s.core[0] / scale];
  const [y, h] = part(rows);
  const [x, w] = part(cols);
  return t.narrow(2, y, h).narrow(3, x, w);
}

/** Runs stages of the network, freeing each stage's input once read (not `h` itself). */
function through(net: TransformerNet, h: Tensor, stages: readonly string[]): Tensor {
  let out = h;
  for (const name of stages) {
    const next = tidy(() => net.stage(name, out));
    if (out !== h) out.dispose();
    out = next;
  }
  return out;
}

/** Per-channel mean and biased variance of activations seen in parts (Chan et al.'s pairwise update). */
class ChannelStatistics {
  private count = 0;
  private mean: Float64Array = new Float64Array(0);
  private m2: Float64Array = new Float64Array(0);

  add(t: Tensor): void {
    const [, c, h, w] = t.shape;
    const n = h * w;
    const [mean, variance] = tidy(() => {
      const f = t.cast('float32');
      return [f.mean([0, 2, 3]).data(), f.variance([0, 2, 3]).data()];
    });
    if (this.count === 0) {
      this.mean = new Float64Array(c);
      this.m2 = new Float64Array(c);
    }
    const total = this.count + n;
    for (let i = 0; i < c; i++) {
      const delta = mean[i] - this.mean[i];
      this.m2[i] += variance[i] * n + (delta * delta * this.count * n) / total;
      this.mean[i] += (delta * n) / total;
    }
    this.count = total;
  }

  tensors(device: string): { mean: Tensor; variance: Tensor } {
    const c = this.mean.length;
    return {
      mean: tensor(Float32Array.from(this.mean), [1, c, 1, 1], device),
      variance: tensor(Float32Array.from(this.m2, (v) => v / this.count), [1, c, 1, 1], device),
    };
  }
}

/** Stylises `image` tile by tile; the same result as one pass (clamped to [0,1]). */
export function stylizeImageTiled(net: TransformerNet, image: RgbImage, plan: FastTilingPlan, preserveColors: PreserveColors = 'none'): RgbImage {
  const { width, height } = image;
  const rows = spans(height, plan.core, FAST_TILE_HALO);
  const cols = spans(width, plan.core, FAST_TILE_HALO);
  const tiles = rows.flatMap((r) => cols.map((c) => [r, c] as const));
  const stats = new Map<string, { mean: Tensor; variance: Tensor }>();
  // Layers with statistics in the map are normalised with them; the others (residual blocks, run
  // on the whole photo) with their input's own, as in one pass.
  net.normStatistics = { mode: 'use', stats };
  const x = tensor(image.data, [1, 3, height, width], net.device);
  // The tiles' cores go straight into one output tensor, read out once at the end: a JS array per
  // tile was garbage the collector left for later (+68 MiB over 9 tiles at 2,048 px).
  const output = zeros([1, 3, height, width], net.device);
  let data: Float32Array | undefined;
  try {
    noGrad(() => {
      // Each tile's freed memory goes back at once: tiles of other sizes (the last row and column)
      // and the whole-photo buffers between them otherwise split what the allocator keeps, and a
      // phase's peak moved by ~90 MiB between runs of 2,048 px (fp32) with tiles 4 px apart.
      const perTile = (fn: () => void) => {
        tidy(fn);
        releaseFreeMemory();
      };
      const qh = Math.ceil(height / 4);
      const qw = Math.ceil(width / 4);
      // The ¼-resolution photo, before the tiles for the same reason.
      let q: Tensor = tidy(() => {
        const z = zeros([1, net.architecture.channels[2], qh, qw], net.device);
        return net.precision === 'bf16' ? z.cast('bfloat16').contiguous(true) : z;
      });
      // 1. The encoder, one normalised layer at a time, then its ¼-resolution output from the cores.
      const input = (r: Span, c: Span) => net.networkInput(x.narrow(2, r.extent[0], r.extent[1] - r.extent[0]).narrow(3, c.extent[0], c.extent[1] - c.extent[0]));
      ENCODER_LAYERS.forEach((layer, i) => {
        const acc = new ChannelStatistics();
        for (const [r, c] of tiles) {
          perTile(() => {
            const h = through(net, input(r, c), ENCODER_LAYERS.slice(0, i));
            acc.add(coreOf(net.stage(layer, h, true), r, c, 2 ** i));
          });
        }
        stats.set(layer, acc.tensors(net.device));
      });
      for (const [r, c] of tiles) {
        perTile(() => {
          const part = coreOf(through(net, input(r, c), ENCODER_LAYERS), r, c, 4);
          q.narrow(2, r.core[0] / 4, part.shape[2]).narrow(3, c.core[0] / 4, part.shape[3]).copyInPlace(part);
        });
      }
      // 2. The residual blocks on the whole ¼-resolution photo: their own exact statistics. The
      // tiles' freed memory is handed back first (tcmalloc keeps it, and the blocks' larger
      // buffers did not reuse it: fp32 at 2,048 px went +670 MiB here on top of it), and the
      // blocks' after them, so each phase's peak is its own (planFastTiling).
      releaseFreeMemory();
      const blocks = net.stageNames().filter((n) => /^res\d+$/.test(n));
      const encoded = q;
      q = through(net, encoded, blocks);
      if (q !== encoded) encoded.dispose();
      releaseFreeMemory();
      // 3. The decoder, one normalised layer at a time, then the output from the cores.
      const qRows = quarterSpans(rows, qh, FAST_TILE_HALO);
      const qCols = quarterSpans(cols, qw, FAST_TILE_HALO);
      const qTiles = qRows.flatMap((r) => qCols.map((c) => [r, c] as const));
      const quarter = q;
      const qInput = (r: Span, c: Span) => quarter.narrow(2, r.extent[0], r.extent[1] - r.extent[0]).narrow(3, c.extent[0], c.extent[1] - c.extent[0]);
      DECODER_LAYERS.forEach((layer, i) => {
        if (!net.isNormalised(layer)) return;
        const acc = new ChannelStatistics();
        for (const [r, c] of qTiles) {
          perTile(() => {
            const h = through(net, qInput(r, c), DECODER_LAYERS.slice(0, i));
            // up1 doubles the ¼-resolution tile; up2 and conv_out are at 4×.
            acc.add(coreOf(net.stage(layer, h, true), r, c, 1 / Math.min(4, 2 ** (i + 1))));
          });
        }
        stats.set(layer, acc.tensors(net.device));
      });
      for (const [r, c] of qTiles) {
        const y0 = 4 * r.core[0];
        const x0 = 4 * c.core[0];
        const rowsKept = Math.min(height, 4 * r.core[1]) - y0;
        const colsKept = Math.min(width, 4 * c.core[1]) - x0;
        perTile(() => {
          const h = through(net, qInput(r, c), DECODER_LAYERS);
          const y = net.networkOutput(h, h.shape[2], h.shape[3]).clamp(0, 1);
          output.narrow(2, y0, rowsKept).narrow(3, x0, colsKept).copyInPlace(y.narrow(2, y0 - 4 * r.extent[0], rowsKept).narrow(3, x0 - 4 * c.extent[0], colsKept));
        });
      }
      quarter.dispose();
    });
    data = output.data();
  } finally {
    for (const { mean, variance } of stats.values()) {
      mean.dispose();
      variance.dispose();
    }
    net.normStatistics = null;
    x.dispose();
    output.dispose();
  }
  const out: RgbImage = { width, height, data: data! };
  return preserveColors === 'luminance' ? luminancePreserveColors(out, image) : out;
}
