/**
 * L-BFGS with the strong-Wolfe line search (torch.optim.LBFGS with line_search_fn='strong_wolfe'),
 * optionally inside a box (projected L-BFGS: coordinates on a bound whose gradient points out of
 * the box are held fixed; the rest follow the two-loop direction; trial points are projected).
 *
 * It keeps the project's one-call-per-evaluation interface: each step(loss, grad) is told the
 * objective at the current x and moves x to the next point to evaluate (a line-search trial). The
 * algorithm is written as a generator, so it reads as the textbook loop.
 *
 * The first step: torch's −g·lr·min(1, 1/Σ|g|) ('torch'), or ('polyak') a step of f/|g|²
 * along −g, which reaches the minimum of a quadratic or quartic with minimum 0 without passing it
 * (the Gatys objective is a sum of such terms), so the very first trial cannot overshoot.
 */
import { keep, Tensor, tidy } from '../engine';
import { Box } from './box';
import { CurvaturePairs, LbfgsHistory } from './lbfgs-history';
import { LineSearchOptions, strongWolfe } from './line-search';
import { Optimizer } from './optimizer';

export interface LbfgsWolfeOptions extends LineSearchOptions {
  /** Step tried first after the first iteration (torch's lr). Default 1. */
  learningRate?: number;
  history?: number;
  /** Keep x inside this box (owned by the caller). */
  box?: Box;
  /** How the first step is sized (see above). Default 'polyak'. */
  firstStep?: 'torch' | 'polyak';
  /** Stop when max|projected g| ≤ this (default −1: never). */
  toleranceGrad?: number;
  /**
   * Curvature pairs from an earlier optimisation of a similar problem (the previous, coarser stage
   * resampled to this one): the first step then follows them at `learningRate` instead of the
   * first-step rule. Taken over (disposed by this optimiser).
   */
  warmStart?: CurvaturePairs;
}

interface Evaluation {
  loss: number;
  grad: Tensor;
}

export class LbfgsWolfe implements Optimizer {
  private readonly history: LbfgsHistory;
  private readonly driver: Generator<void, void, Evaluation>;
  private finished = false;
  /** Completed iterations (accepted line searches). */
  iterations = 0;
  /** Line searches that found no acceptable step (the history is then reset). */
  failedSearches = 0;

  constructor(private readonly x: Tensor, private readonly options: LbfgsWolfeOptions = {}) {
    this.history = new LbfgsHistory(options.history ?? 100);
    const seed = options.warmStart;
    if (seed) for (let i = 0; i < seed.s.length; i++) this.history.push(seed.s[i], seed.y[i]);
    this.driver = this.run();
    this.driver.next(); // run to the first request for an evaluation
  }

  step(loss: number, grad: Tensor): boolean {
    if (this.finished) return true;
    const r = this.driver.next({ loss, grad });
    if (r.done) this.finished = true;
    return this.finished;
  }

  get historyLength(): number {
    return this.history.length;
  }

  /** The curvature pairs, mapped by `map`, for a warm start of the next optimisation. */
  exportHistory(map: (s: Tensor, y: Tensor) => [Tensor, Tensor]): CurvaturePairs {
    return this.history.export(map);
  }

  private *run(): Generator<void, void, Evaluation> {
    const { box } = this.options;
    const lr = this.options.learningRate ?? 1;
    const tolGrad = this.options.toleranceGrad ?? -1;
    const x = this.x;
    let first: Evaluation = yield;
    if (!Number.isFinite(first.loss)) return; // nothing to search from
    let f = first.loss;
    let g = keep(first.grad.clone());
    let x0: Tensor | null = null;
    let d: Tensor | null = null;
    let restart = this.history.length === 0; // size the next step by the first-step rule
    const trials: Tensor[] = [];
    try {
      for (;;) {
        // Direction from the gradient of the free coordinates, zero on the active set.
        const found = tidy(() => {
          const free = box ? box.freeMask(x, g) : null;
          const pg = free ? g.mul(free) : g;
          let dir = this.history.length === 0 ? pg.neg() : this.history.direction(pg);
          if (free) dir = dir.mul(free);
          let slope = pg.dot(dir).item();
          let cleared = false;
          if (!(slope < 0) && this.history.length > 0) {
            // The curvature pairs no longer give descent (the active set changed): start afresh.
            this.history.clear();
            cleared = true;
            dir = pg.neg();
            slope = pg.dot(dir).item();
          }
          return { d: keep(dir), gtd: slope, dNorm: dir.abs().max().item(), pgMax: pg.abs().max().item(), cleared };
        });
        const { gtd, dNorm, pgMax } = found;
        if (found.cleared) restart = true; // a gradient step is sized by the first-step rule
        d?.dispose();
        const dir = (d = found.d);
        if (pgMax <= tolGrad || !(gtd < 0)) return;
        const t0 =
          !restart
            ? lr
            : this.options.firstStep === 'torch'
              ? Math.min(1, 1 / tidy(() => g.abs().sum().item())) * lr
              : (f / -gtd) * lr;
        x0?.dispose();
        x0 = keep(x.clone());
        const start = x0;
        const search = strongWolfe(f, gtd, t0, dNorm, this.options);
        let r = search.next();
        while (!r.done) {
          const t = r.value;
          tidy(() => x.copyInPlace(box ? box.projected(start.add(dir.mul(t))) : start.add(dir.mul(t))));
          const e: Evaluation = yield;
          trials.push(keep(e.grad.clone()));
          // The slope along the projected path: coordinates clipped at this step do not move.
          const slope = tidy(() => (box ? e.grad.mul(dir).mul(Box.unclipped(start.add(dir.mul(t)), x)).sum().item() : e.grad.dot(dir).item()));
          r = search.next({ f: e.loss, gtd: slope });
        }
        const { t, f: fNew, evaluation } = r.value;
        if (evaluation === 0) {
          // No acceptable step: back to the start; with a history, retry along the gradient.
          x.copyInPlace(start);
          this.failedSearches++;
          if (this.history.length === 0) return;
          this.history.clear();
          restart = true;
          continue;
        }
        const gNew = trials[evaluation - 1];
        trials.splice(evaluation - 1, 1);
        tidy(() => {
          x.copyInPlace(box ? box.projected(start.add(dir.mul(t))) : start.add(dir.mul(t)));
          const s = box ? x.sub(start) : dir.mul(t);
          this.history.push(keep(s), keep(gNew.sub(g)));
        });
        for (const trial of trials) trial.dispose();
        trials.length = 0;
        g.dispose();
        g = gNew;
        f = fNew;
        restart = false;
        this.iterations++;
      }
    } finally {
      g.dispose();
      x0?.dispose();
      d?.dispose();
      for (const trial of trials) trial.dispose();
    }
  }

  dispose(): void {
    if (!this.finished) this.driver.return();
    this.finished = true;
    this.history.clear();
  }
}
