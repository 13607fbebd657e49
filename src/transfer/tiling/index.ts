/** Tiling shared by the transfer methods: tile grids, blending weights, memory sizes, the seam metric. */
export * from './grid';
export * from './blend';
export * from './memory-size';
export * from './seams';
