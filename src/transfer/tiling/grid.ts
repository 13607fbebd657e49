/**
 * Where the tiles of an image go. Tiles are squares of `tile` px (smaller only when the image
 * is), placed every `step` = tile − overlap px and pushed inside the image at its borders, so
 * every tile has full context. `offset` shifts the whole grid: successive passes use different
 * offsets, so no tile border stays in one place (and no seam can settle there).
 */

export interface TileRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GridSpec {
  /** Side of a tile, px (clipped to the image). */
  tile: number;
  /** Pixels shared by neighbouring tiles (context margins + blending ramp on both sides). */
  overlap: number;
}

/** Starts along one axis: every `step` from `offset − step`, clamped into [0, length − tile], deduplicated. */
export function axisStarts(length: number, tile: number, step: number, offset = 0): number[] {
  if (tile >= length) return [0];
  const last = length - tile;
  const starts: number[] = [];
  for (let s = (offset % step) - step; ; s += step) {
    const clamped = Math.min(Math.max(s, 0), last);
    if (starts[starts.length - 1] !== clamped) starts.push(clamped);
    if (clamped === last) break;
  }
  return starts;
}

/** The tiles of one pass, row by row. */
export function planGrid(width: number, height: number, spec: GridSpec, offset = 0): TileRect[] {
  const step = Math.max(1, spec.tile - spec.overlap);
  const tw = Math.min(spec.tile, width);
  const th = Math.min(spec.tile, height);
  const tiles: TileRect[] = [];
  for (const y of axisStarts(height, th, step, offset)) {
    for (const x of axisStarts(width, tw, step, offset)) tiles.push({ x, y, width: tw, height: th });
  }
  return tiles;
}

/** Grid offset of pass p of n: the grid moves by step·p/n (a fraction of a step), diagonally. */
export function passOffset(spec: GridSpec, pass: number, passes: number): number {
  const step = Math.max(1, spec.tile - spec.overlap);
  return Math.round((step * pass) / Math.max(1, passes));
}
