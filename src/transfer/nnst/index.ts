/**
 * Neural Neighbor Style Transfer (Kolkin et al. 2022, arXiv 2203.13215) on the project's VGG19,
 * as `nst stylize --method nnst` runs it through the shared coarse-to-fine loop (gatys/run.ts):
 * per stage, every hypercolumn of the query (α·photo + (1−α)·the stage's start) is replaced by its
 * nearest painting hypercolumn under centred cosine similarity (chunked: bounded memory), and
 * the pixels are optimised (L-BFGS by default) to match that target under cosine distance; at the
 * end the output gets the painting's OkLAB colour mean and covariance (src/image/oklab-colour-match).
 *
 * Layers (NNST_LAYERS in ../method-names.ts): measured at 256 px (scales 128, 256; 30 + 60
 * L-BFGS evaluations; 1 thread, on a shared machine) with src/quality, sliced-Wasserstein style
 * distance / CFSD:
 *
 *   pair                        A r1_1 r2_1 r3_1 r4_1 r4_2   B dense r1_1…r4_3 (11)   C r1_1…r4_1 (4)   D r2_1…r5_1 (4)   photo
 *   tubingen × starry_night     66.3 / 0.0137                 79.3 / 0.0126            75.2 / 0.0122     76.2 / 0.0125     212.1
 *   golden_gate × the_scream    90.4 / 0.0113                 85.4 / 0.0104            (see report)                        125.6
 *
 * A (the default) has the lowest style distance on the first pair, the dense set of the paper
 * on the second, at 1.5–2× A's time; A keeps the search and the loss at 1,472 channels.
 *
 * Not done (yet): NNST's final "feature splitting" pass (per-layer matches recomputed at every
 * step), its Laplacian-pyramid parameterisation (our loop optimises pixels), style masks, tiles.
 */
export { NnstObjective, NNST_CONTENT_TERM, NNST_STYLE_TERM } from './objective';
export type { NnstSettings } from './objective';
export { hypercolumns, hypercolumnGrid, asRows } from './hypercolumns';
export { nearestNeighbourIndices, neuralNeighbours, NEIGHBOUR_BLOCK_BYTES } from './neighbours';
