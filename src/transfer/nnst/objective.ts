/**
 * The neural-neighbour objective (NNST, Kolkin et al. 2022) for one stage of the run loop. Its
 * target is built once, without gradients: the hypercolumns of a query image, α·photo + (1−α)·the
 * stage's start, each replaced by its nearest painting hypercolumn (neighbours.ts). The output is
 * then optimised so its own hypercolumns point the same way: loss = mean over positions of the
 * cosine distance 1 − cos(h(x), target). α = 1 searches with the photo alone (most of its
 * structure kept); α = 0 searches with the current result, whose features drift further toward
 * the painting at every stage. An optional content term (contentWeight) pulls the hypercolumns
 * toward the photo's the same way, and TV smooths.
 */
import { cat, keep, noGrad, releaseFreeMemory, Tensor, tidy } from '../../engine';
import { Vgg19 } from '../../models';
import { LossBreakdown, Objective, totalVariation } from '../../losses';
import { asRows, hypercolumns } from './hypercolumns';
import { NEIGHBOUR_BLOCK_BYTES, neuralNeighbours } from './neighbours';

export interface NnstSettings {
  /** VGG19 layers whose activations form the hypercolumns. */
  layers: readonly string[];
  /** Share of the photo in the search query, in [0,1] (the rest is the stage's start image). */
  alpha: number;
  /** Weight of the neighbour (cosine distance) term. */
  styleWeight: number;
  /** Weight of a cosine term toward the photo's own hypercolumns (0: none). */
  contentWeight: number;
  tvWeight: number;
  /** Also offer the paintings' 90°, 180° and 270° rotations as candidates. */
  rotations: boolean;
  /** Memory of one block of the similarity matrix (default NEIGHBOUR_BLOCK_BYTES). */
  blockBytes?: number;
}

/** Term names in the loss breakdown (they show in reports and progress). */
export const NNST_STYLE_TERM = 'neighbours';
export const NNST_CONTENT_TERM = 'hypercolumns';

/** Unit-length rows (norm clamped away from 0). */
function unitRows(rows: Tensor): Tensor {
  return rows.div(rows.square().sum([1], true).clamp(1e-8, null).sqrt());
}

/** x rotated by k quarter turns (NCHW). */
function rotated(x: Tensor, quarterTurns: number): Tensor {
  if (quarterTurns === 1) return x.transpose(2, 3).flip([3]);
  if (quarterTurns === 2) return x.flip([2, 3]);
  return x.transpose(2, 3).flip([2]);
}

export class NnstObjective implements Objective {
  /** N × C unit target rows (the neural neighbours), and the photo's when there is a content term. */
  private readonly target: Tensor;
  private readonly contentRows: Tensor | null;

  /**
   * content: the preprocessed photo at the stage's size; styles: the preprocessed paintings (any
   * size); start: the stage's starting image (same size as the photo), the query's other part.
   */
  constructor(private readonly net: Vgg19, content: Tensor, styles: Tensor[], start: Tensor, readonly settings: NnstSettings) {
    if (!(settings.alpha >= 0 && settings.alpha <= 1)) throw new Error(`alpha must be in [0,1] (got ${settings.alpha})`);
    this.target = keep(noGrad(() => tidy(() => {
      const rows = (settings.rotations ? styles.flatMap((s) => [s, rotated(s, 1), rotated(s, 2), rotated(s, 3)]) : styles)
        .map((s) => asRows(hypercolumns(net, s, settings.layers)));
      const candidates = rows.length === 1 ? rows[0] : cat(rows, 0);
      const query = settings.alpha === 1 ? content : content.mul(settings.alpha).add(start.mul(1 - settings.alpha));
      return unitRows(neuralNeighbours(asRows(hypercolumns(net, query, settings.layers)), candidates, settings.blockBytes ?? NEIGHBOUR_BLOCK_BYTES));
    })));
    this.contentRows = settings.contentWeight > 0 ? keep(noGrad(() => tidy(() => unitRows(asRows(hypercolumns(net, content, settings.layers)))))) : null;
    // The search's buffers are gone: hand them back before the optimisation's graph allocates.
    releaseFreeMemory();
  }

  evaluate(x: Tensor): { losses: LossBreakdown; grad: Tensor } {
    const rows = unitRows(asRows(hypercolumns(this.net, x, this.settings.layers)));
    const style = cosineDistance(rows, this.target).mul(this.settings.styleWeight);
    const content = this.contentRows ? cosineDistance(rows, this.contentRows).mul(this.settings.contentWeight) : null;
    const tv = totalVariation(x).mul(this.settings.tvWeight);
    const total = content ? style.add(content).add(tv) : style.add(tv);
    x.zeroGrad();
    total.backward();
    const grad = x.grad();
    if (!grad) throw new Error('no gradient reached the image');
    return {
      losses: {
        total: total.item(),
        content: content ? { [NNST_CONTENT_TERM]: content.item() } : {},
        style: { [NNST_STYLE_TERM]: style.item() },
        tv: tv.item(),
      },
      grad,
    };
  }

  dispose(): void {
    this.target.dispose();
    this.contentRows?.dispose();
  }
}

/** Mean over rows of 1 − ⟨a, b⟩ for unit rows. */
function cosineDistance(a: Tensor, b: Tensor): Tensor {
  return a.mul(b).sum([1]).neg().add(1).mean();
}
