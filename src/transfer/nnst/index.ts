/**
 * Neural Neighbor Style Transfer (Kolkin et al. 2022, arXiv 2203.13215) on the project's VGG19,
 * as `nst stylize --method nnst` runs it through the shared coarse-to-fine loop (gatys/run.ts):
 * per stage, every hypercolumn of the query (α·photo + (1−α)·the stage's start) is replaced by its
 * nearest painting hypercolumn under centred cosine similarity (chunked: bounded memory), and
 * the pixels are optimised (L-BFGS by default) to match that target under cosine distance; at the
 * end the output gets the painting's OkLAB colour mean and covariance (src/image/oklab-colour-match).
 *
 * Layers (NNST_LAYERS in ../method-names.ts): measured at 256 px (scales 128, 256; 30 + 60
 * L-BFGS evaluations, seed 1, bf16; 1 thread on a shared, loaded machine, so the times are only
 * indicative) with src/quality: sliced-Wasserstein style distance / CFSD (lower is better for both):
 *
 *   set                                 tubingen×starry   golden_gate×scream   chicago×composition_vii   mean           time
 *   A relu1_1 2_1 3_1 4_1 4_2 (1,472 ch)  66.3 / .0137      90.4 / .0113         80.3 / .0149              79.0 / .0133   1×
 *   B relu1_1 … relu4_3, 11 (3,456 ch)    79.3 / .0126      85.4 / .0104         74.0 / .0139              79.6 / .0123   1.5×
 *   C relu1_1 2_1 3_1 4_1 (960 ch)        75.2 / .0122      89.9 / .0109         79.0 / .0146              81.4 / .0126   1×
 *   D relu2_1 3_1 4_1 5_1                 76.2 / .0125      90.4 / .0109         81.1 / .0144              82.5 / .0126   1.3×
 *   (the photo itself)                   212.1             125.6                216.5
 *
 * The style distances are within 4 % of each other and the images nearly indistinguishable by eye;
 * the paper's dense set (B) keeps a little more structure (CFSD −8 %) but needs 2.3× the channels,
 * so 2.3× the search and the loss head's memory (about 1 GB more at 512 px): A is the default.
 *
 * Not done (yet): NNST's final "feature splitting" pass (per-layer matches recomputed at every
 * step), its Laplacian-pyramid parameterisation (our loop optimises pixels), style masks, tiles.
 */
export { NnstObjective, NNST_CONTENT_TERM, NNST_STYLE_TERM } from './objective';
export type { NnstSettings } from './objective';
export { hypercolumns, hypercolumnGrid, asRows } from './hypercolumns';
export { nearestNeighbourIndices, neuralNeighbours, NEIGHBOUR_BLOCK_BYTES } from './neighbours';
