/** The interface shared by the optimisers: one call per loss evaluation, updating x in place. */
import { Tensor } from '../engine';

export interface Optimizer {
  /**
   * Takes the loss and its gradient at the current x and moves x in place. Returns true when the
   * optimiser has converged by its own tolerances (never, with the defaults).
   */
  step(loss: number, grad: Tensor): boolean;
  /** A point to offer as the result besides the evaluated ones (Adam's iterate average), or null. */
  average?(): Tensor | null;
  /** Releases the optimiser's state (history, moments). */
  dispose(): void;
}
