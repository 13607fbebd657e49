/**
 * Box constraints lower ≤ x ≤ upper for the optimisers (the displayable range of an image), with
 * the projection and the active set of projected quasi-Newton methods. Bounds broadcast against x
 * (e.g. one value per channel: 1 × 3 × 1 × 1).
 */
import { keep, Tensor, tidy } from '../engine';

/** Coordinates within this distance of a bound count as on it (bounds are met exactly by projection). */
const ON_BOUND = 1e-6;

export class Box {
  readonly lower: Tensor;
  readonly upper: Tensor;

  constructor(lower: Tensor, upper: Tensor) {
    this.lower = keep(lower.clone());
    this.upper = keep(upper.clone());
  }

  /** Moves x into the box, in place. */
  project(x: Tensor): void {
    tidy(() => x.copyInPlace(x.maximum(this.lower).minimum(this.upper)));
  }

  /** A new tensor: x moved into the box. */
  projected(x: Tensor): Tensor {
    return x.maximum(this.lower).minimum(this.upper);
  }

  /**
   * 1 where x is free to move along −g, 0 where it sits on a bound and −g points out of the box
   * (the active set). Built from clamps because the engine has no comparison ops.
   */
  freeMask(x: Tensor, g: Tensor): Tensor {
    const atLower = this.lower.sub(x).mul(1 / ON_BOUND).add(1).clamp(0, 1);
    const atUpper = x.sub(this.upper).mul(1 / ON_BOUND).add(1).clamp(0, 1);
    const pushesDown = g.mul(1e30).clamp(0, 1); // g > 0: −g decreases x
    const pushesUp = g.mul(-1e30).clamp(0, 1);
    return atLower.mul(pushesDown).add(atUpper.mul(pushesUp)).neg().add(1).clamp(0, 1);
  }

  /** 1 where `moved` equals `target` (the projection left the coordinate alone), else 0. */
  static unclipped(target: Tensor, moved: Tensor): Tensor {
    return target.sub(moved).abs().mul(1 / ON_BOUND).neg().add(1).clamp(0, 1);
  }

  dispose(): void {
    this.lower.dispose();
    this.upper.dispose();
  }
}
