/**
 * The best point a stage has evaluated. Line-search trials and Adam's jitter mean the last
 * evaluated image is not always the best one; the run keeps, shows and saves this one, so the loss
 * it reports is the loss of the image it writes.
 */
import { keep, Tensor, tidy } from '../../engine';
import type { LossBreakdown } from '../../losses';

export class BestPoint {
  private x: Tensor | null = null;
  losses: LossBreakdown | null = null;
  /** 1-based evaluation of the stage where it was found. */
  iteration = 0;

  get loss(): number {
    return this.losses?.total ?? Infinity;
  }

  /** Keeps a copy of x if its loss is finite and lower than the best so far. */
  offer(x: Tensor, losses: LossBreakdown, iteration: number): boolean {
    if (!(losses.total < this.loss)) return false;
    const copy = tidy(() => x.detach().clone());
    this.x?.dispose();
    this.x = keep(copy);
    this.losses = losses;
    this.iteration = iteration;
    return true;
  }

  /** The best image so far (owned by this object), or null before any finite evaluation. */
  get image(): Tensor | null {
    return this.x;
  }

  dispose(): void {
    this.x?.dispose();
    this.x = null;
  }
}
