/** Settings of tiled and checkpointed stages that the option parser checks (no engine code here). */

/**
 * Passes over the tiles of a tiled stage; the stage's iterations are shared among them. Measured
 * (whole-image objective, tiled / untiled, same iterations): 256 px in 128-px tiles 1.09 with 2
 * passes, 0.97 with 3; 128 px in 64-px tiles 1.10 / 0.86; 1,024 px in 512-px tiles 0.91 with 3.
 */
export const DEFAULT_PASSES = 3;

/**
 * Gradient checkpointing: 'on', 'off', or 'auto' (default): only where it lets a stage run whole
 * that would otherwise need tiles, or lets tiles fit a budget too small for any tile without it.
 * Measured: it halves the activation memory for ~1.5× the time per evaluation, while tiling
 * evaluates ~2× the pixels (each tile overlaps its neighbours by ~29 % of its side) and its seams
 * cost quality; bigger tiles do not cut that share, since the overlap scales with the tile.
 */
export const CHECKPOINT_MODES = ['auto', 'on', 'off'] as const;
export type CheckpointMode = (typeof CHECKPOINT_MODES)[number];
