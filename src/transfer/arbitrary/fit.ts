/**
 * Fitting a style vector: the transformer stays frozen and only its 100-number style input is
 * optimised, by L-BFGS, so that the stylised training photos minimise the project's loss contract
 * (GatysObjective: content + style + TV, per photo, averaged) against the painting.
 *
 * The recipe measured for issue 17: one stage from the zero vector stalls (washed-out content),
 * so the first stage weights the content 30× (the network first learns to keep the photo), the
 * second uses the contract weights. Stages may run at different sizes (a small first stage is
 * cheap). The best vector seen (lowest loss) is kept (a line-search trial may be worse).
 */
import { gradients, keep, noGrad, Tensor, tensor, tidy } from '../../engine';
import { GatysObjective, LossBreakdown } from '../../losses';
import { ArbitraryStyleTransformer, STYLE_VECTOR_LENGTH } from '../../models/arbitrary-transformer';
import { Vgg19 } from '../../models/vgg19';
import { DistributionTarget } from './distribution-loss';
import { StructureTarget, STRUCTURE_LAYER } from './structure-loss';
import { VectorLbfgs } from './vector-lbfgs';

export interface FitLossSettings {
  contentWeight: number;
  styleWeight: number;
  tvWeight: number;
  contentLayers: string[];
  styleLayers: string[];
  styleLayerWeights?: number[];
  /** Weight of the photo-structure term (structure-loss.ts); 0 or absent: the contract alone. */
  structureWeight?: number;
  /**
   * Structure as a constraint, not a trade: per photo, weight · E · (max(0, S − level) / level)²,
   * free while the photo's structure loss S stays below the level and steep above it, so a
   * painting whose fit keeps the photo anyway keeps the contract's optimum. E is the contract
   * objective of the unstyled photo (fixed per stage): it scales the hinge with the painting's own
   * losses, which differ 30× between paintings (flat colour has the largest style losses).
   * Added to the linear term; absent: none. `levels`, when given, sets a level per photo (the
   * close-up guard's photo has its own: close-up-guard.ts).
   */
  structureHinge?: { level: number; weight: number; levels?: number[] };
  /**
   * A prior on the vector: weight · max(0, ‖v‖ − radius)² is added to the loss. Well-behaved
   * fitted vectors have norms 2–3; fits that collapse into a flat or saturated page run off to
   * 7–13 (docs/fitted-styles-quality.md). Absent: no prior.
   */
  vectorPrior?: { radius: number; weight: number };
  /**
   * A distribution style term (distribution-loss.ts), per photo: weight · E · max(0, r − level)²,
   * r the sliced-Wasserstein distance of the output to the painting over the unstyled photo's
   * (the check's style ratio), E as for the hinge. Absent or weight 0: none.
   */
  distribution?: { weight: number; level: number; layers: string[]; directions: number };
}

/** One stage's inputs: RGB [0,1] NCHW tensors at the stage's size. */
export interface FitStageInputs {
  painting: Tensor;
  photos: Tensor[];
  evaluations: number;
  /** Multiplies the content weight in this stage (10 in the first stage of the default recipe). */
  contentScale: number;
}

export interface FitStep {
  stage: number;
  evaluation: number;
  evaluations: number;
  /** structure: the weighted term; structureLoss: the photos' mean structure loss S (unweighted). */
  losses: { total: number; content: number; style: number; tv: number; structure: number; structureLoss: number; distribution?: number; distributionRatio?: number };
}

export interface FitHooks {
  onStep?(step: FitStep): void;
  isCancelled?(): boolean;
}

/**
 * Optimiser factory: the fitting loop needs only `step(loss, grad)` (one call per evaluation) and
 * `dispose()`, so src/optim's optimisers drop in here (bench/fit-optimizers.ts compares them).
 */
export type VectorOptimizerFactory = (vector: Tensor) => VectorOptimizer;
export interface VectorOptimizer {
  step(loss: number, grad: Tensor): boolean;
  dispose(): void;
}

/**
 * L-BFGS with a backtracking line search (vector-lbfgs.ts): fewer evaluations than LbfgsWolfe
 * for the same loss (measured: 30 vs 38; docs/arbitrary-style.md).
 */
export const defaultVectorOptimizer: VectorOptimizerFactory = (v) => new VectorLbfgs(v);

export interface FitStageResult {
  vector: Float32Array;
  best: FitStep['losses'];
  evaluations: number;
  cancelled: boolean;
}

/** Runs one stage from `start`; returns the best vector seen. */
export function fitStage(
  transformer: ArbitraryStyleTransformer,
  vgg: Vgg19,
  inputs: FitStageInputs,
  settings: FitLossSettings,
  start: Float32Array,
  stageIndex: number,
  hooks: FitHooks = {},
  makeOptimizer: VectorOptimizerFactory = defaultVectorOptimizer,
): FitStageResult {
  const objectives = photoObjectives(vgg, inputs.painting, inputs.photos, settings, inputs.contentScale);
  const structureWeight = settings.structureWeight ?? 0;
  const hinge = settings.structureHinge && settings.structureHinge.weight > 0 ? settings.structureHinge : undefined;
  const structures = structureWeight > 0 || hinge ? inputs.photos.map((p) => StructureTarget.ofPhoto(vgg, p)) : [];
  const levels = inputs.photos.map((_, i) => hinge?.levels?.[i] ?? hinge?.level ?? 0);
  const hingeWeights = hinge ? inputs.photos.map((p, i) => (hinge.weight * unstyledObjective(objectives[i], vgg, p)) / levels[i] ** 2) : [];
  const dist = settings.distribution && settings.distribution.weight > 0 ? settings.distribution : undefined;
  const [, , ph, pw] = inputs.photos[0].shape;
  const distTarget = dist ? DistributionTarget.ofPainting(vgg, inputs.painting, dist.layers, dist.directions, [ph, pw]) : undefined;
  const distRefs = distTarget ? inputs.photos.map((p) => distTarget.imageDistance(vgg, p)) : [];
  const distWeights = dist ? inputs.photos.map((p, i) => dist.weight * unstyledObjective(objectives[i], vgg, p)) : [];
  const v = keep(tensor(start, [STYLE_VECTOR_LENGTH]).variable());
  const optimizer = makeOptimizer(v);
  let best: { vector: Float32Array; losses: FitStep['losses'] } = { vector: Float32Array.from(start), losses: { total: Infinity, content: NaN, style: NaN, tv: NaN, structure: NaN, structureLoss: NaN } };
  let done = 0;
  let cancelled = false;
  try {
    for (let e = 0; e < inputs.evaluations; e++) {
      if (hooks.isCancelled?.()) {
        cancelled = true;
        break;
      }
      const { losses, grad } = tidy(() => {
        const norms = transformer.styleNormParams(v);
        let total: Tensor | null = null;
        const parts = { content: 0, style: 0, tv: 0, structure: 0, structureLoss: 0, ...(distTarget ? { distribution: 0, distributionRatio: 0 } : {}) };
        inputs.photos.forEach((photo, i) => {
          const y = transformer.forward(photo, norms);
          const t = objectives[i].terms(vgg.preprocess(y));
          let photoTotal = t.total;
          if (structures.length > 0) {
            const s = structures[i].loss(t.features.get(STRUCTURE_LAYER) ?? vgg.forward(vgg.preprocess(y), [STRUCTURE_LAYER]).get(STRUCTURE_LAYER)!);
            let structure = s.mul(structureWeight);
            if (hinge) structure = structure.add(s.sub(levels[i]).relu().square().mul(hingeWeights[i]));
            photoTotal = photoTotal.add(structure);
            parts.structure += structure.item() / inputs.photos.length;
            parts.structureLoss += s.item() / inputs.photos.length;
          }
          if (distTarget && dist) {
            const missing = dist.layers.filter((l) => !t.features.has(l));
            const extra = missing.length > 0 ? vgg.forward(vgg.preprocess(y), missing) : new Map<string, Tensor>();
            const ratio = distTarget.distance(new Map(dist.layers.map((l) => [l, t.features.get(l) ?? extra.get(l)!]))).div(distRefs[i]);
            const term = ratio.sub(dist.level).relu().square().mul(distWeights[i]);
            photoTotal = photoTotal.add(term);
            parts.distribution! += term.item() / inputs.photos.length;
            parts.distributionRatio! += ratio.item() / inputs.photos.length;
          }
          total = total ? total.add(photoTotal) : photoTotal;
          parts.content += sumOf(t.content) / inputs.photos.length;
          parts.style += sumOf(t.style) / inputs.photos.length;
          parts.tv += t.tv.item() / inputs.photos.length;
        });
        let mean = total!.div(inputs.photos.length);
        if (settings.vectorPrior && settings.vectorPrior.weight > 0) {
          const { radius, weight } = settings.vectorPrior;
          mean = mean.add(v.square().sum().add(1e-12).sqrt().sub(radius).relu().square().mul(weight));
        }
        const [g] = gradients([mean], [v]);
        return { losses: { total: mean.item(), ...parts }, grad: g! };
      });
      done++;
      if (losses.total < best.losses.total) best = { vector: v.data(), losses };
      hooks.onStep?.({ stage: stageIndex, evaluation: e + 1, evaluations: inputs.evaluations, losses });
      const converged = optimizer.step(losses.total, grad);
      grad.dispose();
      if (converged) break;
    }
  } finally {
    optimizer.dispose();
    v.dispose();
    for (const o of objectives) o.dispose();
    for (const st of structures) st.dispose();
    distTarget?.dispose();
  }
  return { vector: best.vector, best: best.losses, evaluations: done, cancelled };
}

/** The contract objective of the stylised photos for a style vector, per photo (no gradients). */
export function contractLosses(
  transformer: ArbitraryStyleTransformer,
  vgg: Vgg19,
  vector: Float32Array,
  painting: Tensor,
  photos: Tensor[],
  settings: FitLossSettings,
): LossBreakdown[] {
  const objectives = photoObjectives(vgg, painting, photos, settings, 1);
  try {
    return noGrad(() =>
      photos.map((photo, i) =>
        tidy(() => {
          const y = transformer.stylise(photo, tensor(vector, [STYLE_VECTOR_LENGTH]));
          return objectiveLosses(objectives[i], vgg.preprocess(y));
        }),
      ),
    );
  } finally {
    for (const o of objectives) o.dispose();
  }
}

/** The contract objective of any stylised image y (RGB [0,1]) of a photo against a painting. */
export function imageContractLosses(vgg: Vgg19, y: Tensor, photo: Tensor, painting: Tensor, settings: FitLossSettings): LossBreakdown {
  const [objective] = photoObjectives(vgg, painting, [photo], settings, 1);
  try {
    return noGrad(() => tidy(() => objectiveLosses(objective, vgg.preprocess(y))));
  } finally {
    objective.dispose();
  }
}

function photoObjectives(vgg: Vgg19, painting: Tensor, photos: Tensor[], s: FitLossSettings, contentScale: number): GatysObjective[] {
  return tidy(() => {
    const style = vgg.preprocess(painting);
    return photos.map(
      (p) =>
        new GatysObjective(
          vgg,
          vgg.preprocess(p),
          style,
          { content: s.contentLayers, style: s.styleLayers },
          { content: s.contentWeight * contentScale, style: s.styleWeight, tv: s.tvWeight },
          { styleLayerWeights: s.styleLayerWeights },
        ),
    );
  });
}

function objectiveLosses(objective: GatysObjective, x: Tensor): LossBreakdown {
  const t = objective.terms(x);
  const record = (m: Map<string, Tensor>) => Object.fromEntries([...m].map(([k, v]) => [k, v.item()]));
  return { total: t.total.item(), content: record(t.content), style: record(t.style), tv: t.tv.item() };
}

/** The contract objective of the photo itself (no gradients): the scale of the painting's losses. */
function unstyledObjective(objective: GatysObjective, vgg: Vgg19, photo: Tensor): number {
  return noGrad(() => tidy(() => objective.terms(vgg.preprocess(photo)).total.item()));
}

function sumOf(m: Map<string, Tensor>): number {
  let s = 0;
  for (const t of m.values()) s += t.item();
  return s;
}
