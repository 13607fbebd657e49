/**
 * The strong-Wolfe line search of torch.optim.LBFGS (`line_search_fn='strong_wolfe'`, itself a
 * port of torch/optim's lswolfe.lua), written as a generator so that the caller evaluates the
 * objective: it yields each trial step t and is resumed with φ(t) and φ'(t). Same constants, same
 * bracketing and zoom, same cubic interpolation; non-finite values (an overflowed loss) count as
 * +∞, which sends the search back towards smaller steps instead of on to larger ones.
 */

export interface LineSearchOptions {
  /** Sufficient decrease (Armijo) constant. Default 1e-4. */
  c1?: number;
  /** Curvature constant. Default 0.9. */
  c2?: number;
  /** Stop zooming when the bracket times max|d| is below this. Default 1e-9. */
  toleranceChange?: number;
  /** Trial evaluations at most. Default 25. */
  maxEvaluations?: number;
  /** Growth of the step per extrapolation, at most. Default 10 (torch). */
  maxExtrapolation?: number;
}

/** φ(t) and φ'(t) at a trial step. */
export interface LinePoint {
  f: number;
  gtd: number;
}

/** The accepted step and which evaluation it was (0: the start point itself, no progress). */
export interface LineSearchResult {
  t: number;
  f: number;
  /** 1-based index of the accepted trial among the evaluations, 0 for the start point. */
  evaluation: number;
  /** Whether the strong Wolfe conditions hold at t. */
  wolfe: boolean;
}

interface Bracketed {
  t: number;
  f: number;
  gtd: number;
  evaluation: number;
}

/**
 * Minimum of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to bounds (default: the
 * interval between the points); the midpoint of the bounds when the cubic has no minimum.
 */
export function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    // Python's min/max pass NaN through differently; a NaN minimum means no usable cubic.
    if (Number.isFinite(minPos)) return Math.min(Math.max(minPos, lo), hi);
  }
  return (lo + hi) / 2;
}

/**
 * Searches along a descent direction d from φ(0) = f, φ'(0) = gtd < 0, starting at step t.
 * dNorm is max|d| (for the bracket tolerance). Yields trial steps; returns the accepted one.
 */
export function* strongWolfe(f: number, gtd: number, t: number, dNorm: number, options: LineSearchOptions = {}): Generator<number, LineSearchResult, LinePoint> {
  const c1 = options.c1 ?? 1e-4;
  const c2 = options.c2 ?? 0.9;
  const tolChange = options.toleranceChange ?? 1e-9;
  const maxLs = options.maxEvaluations ?? 25;
  const growth = options.maxExtrapolation ?? 10;
  const sanitize = (p: LinePoint): LinePoint => (Number.isFinite(p.f) ? p : { f: Infinity, gtd: NaN });

  let evaluations = 1;
  let { f: fNew, gtd: gtdNew } = sanitize(yield t);
  let prev: Bracketed = { t: 0, f, gtd, evaluation: 0 };
  let bracket: Bracketed[] | null = null;
  let done = false;
  let lsIter = 0;
  while (lsIter < maxLs) {
    const current: Bracketed = { t, f: fNew, gtd: gtdNew, evaluation: evaluations };
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= prev.f)) {
      bracket = [prev, current];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      bracket = [current];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      bracket = [prev, current];
      break;
    }
    // Extrapolate: the cubic's minimum, at least 1 % beyond t, at most `growth` times t.
    const next = cubicInterpolate(prev.t, prev.f, prev.gtd, t, fNew, gtdNew, [t + 0.01 * (t - prev.t), t * growth]);
    prev = current;
    t = next;
    ({ f: fNew, gtd: gtdNew } = sanitize(yield t));
    evaluations++;
    lsIter++;
  }
  if (lsIter === maxLs || !bracket) {
    bracket = [
      { t: 0, f, gtd, evaluation: 0 },
      { t, f: fNew, gtd: gtdNew, evaluation: evaluations },
    ];
  }

  // Zoom: shrink the bracket until a point satisfies the conditions.
  let insufficientProgress = false;
  let [low, high] = bracket.length === 1 || bracket[0].f <= bracket[bracket.length - 1].f ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    const [a, b] = bracket;
    if (Math.abs(b.t - a.t) * dNorm < tolChange) break;
    t = cubicInterpolate(a.t, a.f, a.gtd, b.t, b.f, b.gtd);
    const hi = Math.max(a.t, b.t);
    const lo = Math.min(a.t, b.t);
    const eps = 0.1 * (hi - lo);
    if (Math.min(hi - t, t - lo) < eps) {
      // Too close to an end of the bracket: step 10 % inside unless progress was fine last time.
      if (insufficientProgress || t >= hi || t <= lo) {
        t = Math.abs(t - hi) < Math.abs(t - lo) ? hi - eps : lo + eps;
        insufficientProgress = false;
      } else {
        insufficientProgress = true;
      }
    } else {
      insufficientProgress = false;
    }
    ({ f: fNew, gtd: gtdNew } = sanitize(yield t));
    evaluations++;
    lsIter++;
    const point: Bracketed = { t, f: fNew, gtd: gtdNew, evaluation: evaluations };
    if (fNew > f + c1 * t * gtd || fNew >= bracket[low].f) {
      bracket[high] = point;
      [low, high] = bracket[0].f <= bracket[1].f ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) done = true;
      else if (gtdNew * (bracket[high].t - bracket[low].t) >= 0) bracket[high] = bracket[low];
      bracket[low] = point;
    }
  }
  const best = bracket[low];
  return { t: best.t, f: best.f, evaluation: best.evaluation, wolfe: done };
}
