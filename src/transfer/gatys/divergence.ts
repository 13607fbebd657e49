/** Telling a user which loss term overflowed, and when a run has diverged for good. */
import type { LossBreakdown } from '../../losses';

/** Consecutive non-finite evaluations after which a stage stops: the optimiser is not recovering. */
export const MAX_NON_FINITE_RUN = 10;
/** A run that ends with this many non-finite evaluations in a row has not recovered. */
export const NON_FINITE_AT_END = 3;

/** 'the style loss at relu1_1 (Infinity)', or the total when every term alone is finite. */
export function overflowedTerm(losses: LossBreakdown): string {
  for (const [layer, v] of Object.entries(losses.style)) if (!Number.isFinite(v)) return `the style loss at ${layer} (${v})`;
  for (const [layer, v] of Object.entries(losses.content)) if (!Number.isFinite(v)) return `the content loss at ${layer} (${v})`;
  if (!Number.isFinite(losses.tv)) return `the total-variation loss (${losses.tv})`;
  return `the total loss (${losses.total})`;
}
