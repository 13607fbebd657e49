/**
 * One stage of a multi-resolution run optimised in overlapping tiles, when the whole image would
 * not fit the memory budget. The image lives whole in memory (a few bytes per pixel); VGG19 only
 * ever sees one tile. Every tile's objective has:
 * - the style targets of the whole style image at this scale (shared, see style-targets.ts);
 * - the content targets and TV of its own crop (the same terms as untiled, restricted to it);
 * - the masks cropped with it (styles absent from a tile are left out of its objective).
 * Each tile is optimised from the current image and blended back with smooth weights (blend.ts);
 * the grid shifts between passes (grid.ts) so tile borders never stay in one place.
 */
import { keep, noGrad, releaseFreeMemory, tensor, Tensor, tidy } from '../../../engine';
import { NstError } from '../../../errors';
import { Precision, Vgg19 } from '../../../models';
import { GatysObjective, LossBreakdown, StyleSource } from '../../../losses';
import type { Optimizer } from '../../../optim';
import { BlendSpec, blendSpecFor, blendWeights, overlapFor } from '../../tiling/blend';
import { GridSpec, passOffset, planGrid, TileRect } from '../../tiling/grid';
import { MIB } from '../../tiling/memory-size';
import type { ResolvedStylizeOptions } from '../options';
import { largestTile, MIN_TILE, SAFETY, StageMemoryInput, tiledFixedBytes, tileBytes, untiledStageBytes } from './memory-model';
import { BlockCoordinateTargets, tileShare } from './block-targets';
import { wholeImageGrams } from './style-targets';
import { CheckpointMode, DEFAULT_PASSES } from './settings';
import { peakResidentBytes } from '../../memory';

export interface StageTilingPlan {
  grid: GridSpec;
  blend: BlendSpec;
  passes: number;
  /** Iterations of each tile in each pass. */
  tileIterations: number;
  /** Largest piece of the style image VGG19 sees at once (its targets are accumulated over pieces above this). */
  styleTile: number;
  budgetBytes: number;
  /** What the stage would need untiled (over the process's base). */
  untiledBytes: number;
  /** What it needs tiled (over the base): the whole images plus one tile. */
  tiledBytes: number;
  /** Tiles recompute VGG19's activations in the backward pass (see PlanInput.checkpoint). */
  checkpoint: boolean;
}

/** How a stage runs: whole or in tiles, with or without checkpointing. */
export interface StagePlan {
  tiling: StageTilingPlan | null;
  checkpoint: boolean;
}


/** What the run report records of a tiled stage. */
export interface TilingReport {
  tile: number;
  overlap: number;
  passes: number;
  /** Columns × rows of each pass's grid. */
  grids: { columns: number; rows: number; tiles: number }[];
  tileIterations: number;
  budgetMiB: number;
  untiledEstimateMiB: number;
  tiledEstimateMiB: number;
  /** Activations recomputed in the backward pass. */
  checkpoint: boolean;
  /** Tile sides of later passes, each shrunk because the process had passed the budget. */
  shrunkTo?: number[];
}

export interface TileProgress {
  tile: number;
  tiles: number;
  pass: number;
  passes: number;
}

export interface PlanInput extends StageMemoryInput {
  /** The memory budget, bytes (the whole process). */
  maxMemory: number;
  /** The process's resident memory before the stage (runtime, VGG19 weights), bytes. */
  baseBytes: number;
  /** Force tiles of this side (tests, experiments); otherwise the largest that fits. */
  tileSize?: number;
  passes?: number;
  /** Default 'auto' (see CheckpointMode). */
  checkpointing?: CheckpointMode;
}

/** Whole or tiled, with or without checkpointing: the cheapest way that fits the budget. */
export function planStage(p: PlanInput): StagePlan {
  const mode = p.checkpointing ?? 'auto';
  if (mode !== 'auto') {
    const checkpoint = mode === 'on';
    return { tiling: planStageTiling({ ...p, checkpoint }), checkpoint };
  }
  const budget = p.maxMemory * SAFETY - p.baseBytes;
  if (p.tileSize === undefined) {
    if (untiledStageBytes({ ...p, checkpoint: false }) <= budget) return { tiling: null, checkpoint: false };
    if (untiledStageBytes({ ...p, checkpoint: true }) <= budget) return { tiling: null, checkpoint: true };
  }
  try {
    return { tiling: planStageTiling({ ...p, checkpoint: false }), checkpoint: false };
  } catch (e) {
    if (!(e instanceof NstError)) throw e;
    // No tile fits without checkpointing: try with it (its error names the smaller minimum).
    return { tiling: planStageTiling({ ...p, checkpoint: true }), checkpoint: true };
  }
}

/** null when the stage fits the budget whole; otherwise how to tile it (p.checkpoint as given). */
export function planStageTiling(p: PlanInput): StageTilingPlan | null {
  const budget = p.maxMemory * SAFETY - p.baseBytes;
  const untiled = untiledStageBytes(p);
  if (p.tileSize === undefined && untiled <= budget) return null;
  const passes = p.passes ?? DEFAULT_PASSES;
  const tileIterations = Math.max(1, Math.ceil(p.iterations / passes));
  const perTile: StageMemoryInput = { ...p, iterations: tileIterations };
  const fixed = tiledFixedBytes(perTile);
  const fitting = largestTile(budget - fixed, perTile, p.maxMemory, p.baseBytes);
  const tile = Math.min(p.tileSize ?? fitting, Math.max(p.width, p.height));
  const blend = blendSpecFor(tile);
  return {
    grid: { tile, overlap: overlapFor(blend) },
    blend,
    passes,
    tileIterations,
    styleTile: fitting,
    budgetBytes: p.maxMemory,
    untiledBytes: untiled,
    tiledBytes: fixed + tileBytes(tile, perTile),
    checkpoint: p.checkpoint ?? false,
  };
}

export interface TiledStageInput {
  net: Vgg19;
  options: ResolvedStylizeOptions;
  plan: StageTilingPlan;
  /** Preprocessed content at the stage's size (NCHW). */
  content: Tensor;
  /** Preprocessed style images at the stage's scale, with their blend weights and whole-size masks. */
  styles: StyleSource[];
  /** The image being optimised (preprocessed, whole); updated in place. */
  image: Tensor;
  /** A fresh optimiser for a tile's pixels (the run's own choice and settings). */
  makeOptimizer(x: Tensor): Optimizer;
  isCancelled?(): boolean;
  /** After each tile iteration: the tile's losses and where the stage is. */
  onIteration?(losses: LossBreakdown, done: number, total: number, tile: TileProgress): void;
}

export interface TiledStageResult {
  /** Tile iterations run, over all tiles and passes. */
  iterations: number;
  cancelled: boolean;
  /** Area-weighted mean of the tiles' last losses in the last pass (TV summed). */
  losses: LossBreakdown | null;
  report: TilingReport;
}

/** The plan with tiles ¾ the side (at least MIN_TILE), for a stage that went over its budget. */
export function shrunkPlan(plan: StageTilingPlan): StageTilingPlan {
  const tile = Math.max(MIN_TILE, Math.floor((plan.grid.tile * 0.75) / 16) * 16);
  const blend = blendSpecFor(tile);
  return { ...plan, grid: { tile, overlap: overlapFor(blend) }, blend, styleTile: Math.min(plan.styleTile, Math.max(tile, MIN_TILE)) };
}

/** Optimises `input.image` tile by tile, pass by pass. */
export function runTiledStage(input: TiledStageInput): TiledStageResult {
  const { net, options, plan, image } = input;
  if (options.lossNormalization === 'sum') {
    throw new NstError('--loss-normalization sum cannot be tiled (its style targets depend on the image size): raise --max-memory or use mean');
  }
  const [, , height, width] = image.shape;
  const grids = Array.from({ length: plan.passes }, (_, p) => planGrid(width, height, plan.grid, passOffset(plan.grid, p, plan.passes)));
  let total = grids.reduce((a, g) => a + g.length, 0) * plan.tileIterations;
  let current = input;
  const report: TilingReport = {
    tile: plan.grid.tile,
    overlap: plan.grid.overlap,
    passes: plan.passes,
    grids: grids.map((g) => ({ columns: new Set(g.map((t) => t.x)).size, rows: new Set(g.map((t) => t.y)).size, tiles: g.length })),
    tileIterations: plan.tileIterations,
    budgetMiB: Math.round(plan.budgetBytes / MIB),
    untiledEstimateMiB: Math.round(plan.untiledBytes / MIB),
    tiledEstimateMiB: Math.round(plan.tiledBytes / MIB),
    checkpoint: plan.checkpoint,
  };
  const grams = input.styles.map((s) => wholeImageGrams(net, s.image, options.styleLayers, plan.styleTile));
  // tcmalloc keeps what these passes freed, and the tiles' objective did not reuse it: at 2,048 px
  // in 816-px tiles (bf16) the process went 877 → 1,480 MiB here and then +1,327 MiB for the first
  // tile, where the tile alone needs ~1,100. Handing it back keeps the peak to what the plan counts.
  releaseFreeMemory();
  // One unmasked target: tiles descend the whole image's objective (block-targets.ts). Masked
  // styles keep per-tile targets (each mask's statistics are its own region's).
  const blockwise = grams.length === 1 && !input.styles[0].mask;
  let done = 0;
  let cancelled = false;
  let losses: LossBreakdown | null = null;
  try {
    let peakBeforePass = peakResidentBytes();
    for (let pass = 0; pass < grids.length && !cancelled; pass++) {
      // The last pass took the process over the budget all the same (something the plan did not
      // count): smaller tiles from here on. (The peak is the process's all-time one: only a rise
      // during that pass counts.)
      const peak = peakResidentBytes();
      const overInLastPass = peak > peakBeforePass && peak > plan.budgetBytes;
      peakBeforePass = peak;
      if (pass > 0 && overInLastPass && current.plan.grid.tile > MIN_TILE) {
        current = { ...input, plan: shrunkPlan(current.plan) };
        for (let p = pass; p < grids.length; p++) grids[p] = planGrid(width, height, current.plan.grid, passOffset(current.plan.grid, p, plan.passes));
        total = done + grids.slice(pass).reduce((a, g) => a + g.length, 0) * plan.tileIterations;
        (report.shrunkTo ??= []).push(current.plan.grid.tile);
        report.grids.splice(pass, Infinity, ...grids.slice(pass).map((g) => ({ columns: new Set(g.map((t) => t.x)).size, rows: new Set(g.map((t) => t.y)).size, tiles: g.length })));
      }
      const passLosses: { losses: LossBreakdown; area: number }[] = [];
      const block = blockwise ? BlockCoordinateTargets.measure(net, image, options.styleLayers, grams[0], current.plan.styleTile) : null;
      releaseFreeMemory(); // the measuring passes' memory, as above
      try {
        for (const [index, rect] of grids[pass].entries()) {
          const progress = { tile: index + 1, tiles: grids[pass].length, pass: pass + 1, passes: grids.length };
          const last = optimiseTile(current, grams, block, rect, (l) => input.onIteration?.(l, ++done, total, progress));
          if (last.cancelled) cancelled = true;
          if (last.losses) passLosses.push({ losses: last.losses, area: rect.width * rect.height });
          if (cancelled) break;
        }
        if (passLosses.length > 0) losses = meanLosses(passLosses, block ? wholeStyleLosses(block, options) : null);
      } finally {
        block?.dispose();
      }
    }
  } finally {
    for (const g of grams) for (const t of g.values()) t.dispose();
  }
  return { iterations: done, cancelled, losses, report };
}

/** The whole image's weighted style loss per layer, from the Gram matrices the tiles kept up to date. */
function wholeStyleLosses(block: BlockCoordinateTargets, options: ResolvedStylizeOptions): Record<string, number> {
  const raw = block.styleLosses();
  return Object.fromEntries(options.styleLayers.map((l, i) => [l, raw.get(l)! * options.styleWeight * (options.styleLayerWeights?.[i] ?? 1)]));
}

/** The objective of one tile: its crop of the content and masks, the shared style targets. */
export function tileObjective(net: Vgg19, options: ResolvedStylizeOptions, content: Tensor, styles: StyleSource[], grams: Map<string, Tensor>[], rect: TileRect, checkpoint = false, valid?: Float32Array, scale = { style: 1, tv: 1 }): GatysObjective {
  return tidy(() => {
    const crop = (t: Tensor) => t.narrow(2, rect.y, rect.height).narrow(3, rect.x, rect.width);
    const v = valid ? tensor(valid, [1, 1, rect.height, rect.width], content.device) : undefined;
    const mask = (m: Tensor | undefined) => (m && v ? crop(m).mul(v) : m ? crop(m) : v);
    let chosen = styles.map((s, i) => ({ source: { ...s, mask: mask(s.mask) }, grams: grams[i] }));
    // A style whose mask is empty in this tile only adds a constant: leave it out (unless all are).
    if (chosen.every((c) => c.source.mask)) {
      const present = chosen.filter((c) => c.source.mask!.sum().item() > 1e-3);
      if (present.length > 0) chosen = present;
    }
    return new GatysObjective(
      net,
      crop(content),
      chosen.map((c) => c.source),
      { content: options.contentLayers, style: options.styleLayers },
      { content: options.contentWeight, style: options.styleWeight * scale.style, tv: options.tvWeight * scale.tv },
      { styleLayerWeights: options.styleLayerWeights, normalization: options.lossNormalization, normalizeGradients: options.normalizeGradients, styleGrams: chosen.map((c) => c.grams), checkpoint },
    );
  });
}

/**
 * Optimises one tile from the current image, then blends it back in place. With `block`, its
 * style targets and weights come from the whole image's deficit, which it then updates.
 */
function optimiseTile(input: TiledStageInput, grams: Map<string, Tensor>[], block: BlockCoordinateTargets | null, rect: TileRect, onIteration: (l: LossBreakdown) => void): { losses: LossBreakdown | null; cancelled: boolean } {
  const { net, options, plan, image } = input;
  const [, , height, width] = image.shape;
  const weights = blendWeights(rect, width, height, plan.blend);
  // The style statistics leave out the context margin at interior edges: its deep features see
  // the tile's zero padding, and it is not blended back (measured: 2.01× → 1.81× the untiled
  // objective at 256 px in 128-px tiles).
  const valid = weights.map((w) => (w > 0 ? 1 : 0));
  const crop = () => image.narrow(2, rect.y, rect.height).narrow(3, rect.x, rect.width);
  const share = tileShare(weights, rect, width, height);
  const before = block?.tileGrams(crop(), valid) ?? null;
  const weighting = block && before ? block.weighting(before, share) : null;
  const objective = tileObjective(net, options, input.content, input.styles, weighting ? [weighting.targets] : grams, rect, plan.checkpoint, valid, weighting ? { style: weighting.styleScale, tv: weighting.tvScale } : undefined);
  if (weighting) for (const t of weighting.targets.values()) t.dispose();
  const x = keep(noGrad(() => tidy(() => image.narrow(2, rect.y, rect.height).narrow(3, rect.x, rect.width).clone())).variable());
  const best = keep(noGrad(() => x.detach().clone()));
  let bestLoss = Infinity;
  let bestLosses: LossBreakdown | null = null;
  const optimizer = input.makeOptimizer(x);
  let losses: LossBreakdown | null = null;
  let cancelled = false;
  let nonFinite = 0;
  try {
    for (let i = 1; i <= plan.tileIterations; i++) {
      if (input.isCancelled?.()) {
        cancelled = true;
        break;
      }
      const converged = tidy(() => {
        const evaluation = objective.evaluate(x);
        losses = evaluation.losses;
        // The optimiser's last step is never evaluated (and without a line search may overshoot):
        // what goes back into the image is the best point seen.
        if (evaluation.losses.total < bestLoss) {
          bestLoss = evaluation.losses.total;
          best.copyInPlace(x);
          bestLosses = evaluation.losses;
        }
        return optimizer.step(evaluation.losses.total, evaluation.grad);
      });
      nonFinite = Number.isFinite(losses!.total) ? 0 : nonFinite + 1;
      if (nonFinite >= 10) throw new NstError(`the loss stayed ${losses!.total} in a tile; try a smaller --learning-rate or --precision fp32`);
      onIteration(losses!);
      if (converged) break;
    }
    // Blend: image ← image·(1 − w) + tile·w over the tile (w smooth, 0 at interior edges).
    noGrad(() =>
      tidy(() => {
        const w = tensor(weights, [1, 1, rect.height, rect.width], image.device);
        const region = image.narrow(2, rect.y, rect.height).narrow(3, rect.x, rect.width);
        region.copyInPlace(region.add(best.sub(region).mul(w)));
      }),
    );
  } finally {
    optimizer.dispose();
    objective.dispose();
    x.dispose();
    best.dispose();
  }
  if (block && before) {
    // Measured after the tile's optimiser and objective are gone, so the peak stays the tile's.
    const after = block.tileGrams(crop(), valid);
    block.update(before, after, share);
    for (const t of [...before.values(), ...after.values()]) t.dispose();
  }
  const last = (bestLosses ?? losses) as LossBreakdown | null;
  // The stage reports the whole image's TV: undo the tile's TV scaling.
  return { losses: last && weighting ? { ...last, tv: last.tv / weighting.tvScale } : last, cancelled };
}

/** Area-weighted mean of the tiles' content losses, their TV summed; the style from `style` when the whole image's is known. */
function meanLosses(items: { losses: LossBreakdown; area: number }[], wholeStyle: Record<string, number> | null): LossBreakdown {
  const area = items.reduce((a, i) => a + i.area, 0);
  const mean = (pick: (l: LossBreakdown) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const { losses, area: a } of items) for (const [k, v] of Object.entries(pick(losses))) out[k] = (out[k] ?? 0) + (v * a) / area;
    return out;
  };
  const content = mean((l) => l.content);
  const style = wholeStyle ?? mean((l) => l.style);
  const tv = items.reduce((a, i) => a + i.losses.tv, 0);
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return { content, style, tv, total: sum(content) + sum(style) + tv };
}


