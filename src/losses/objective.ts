/**
 * What the optimisation loop needs from a transfer method's objective: the loss terms at an image
 * and their gradient. Gatys, STROTSS and neural-neighbour objectives all implement it, so the loop
 * (stages, optimisers, progress, reports, saving) is written once.
 */
import type { Tensor } from '../engine';
import type { LossBreakdown } from './gatys-objective';

export interface Objective {
  /**
   * The loss at x (a variable, in the network's input convention) and its gradient with respect
   * to x, in the caller's tidy() scope. `losses.content` / `losses.style` name each term (a layer,
   * or a term such as 'self-similarity' or 'colour').
   */
  evaluate(x: Tensor): { losses: LossBreakdown; grad: Tensor };
  /** Frees the targets the objective holds. */
  dispose(): void;
}
