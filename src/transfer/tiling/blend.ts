/**
 * Smooth blending weights of a tile. Along an edge the tile shares with a neighbour (an interior
 * edge), the weight is 0 over a context margin (those pixels saw too little of the image around
 * them), then rises as a raised cosine over `ramp` px to 1; at the image border it is 1. The
 * cosine ramps of two neighbours offset by tile − (2·margin + ramp) sum to 1, so blending them
 * leaves no step in the image.
 */
import { TileRect } from './grid';

export interface BlendSpec {
  /** Pixels at an interior edge that keep weight 0. */
  margin: number;
  /** Length of the raised-cosine ramp from 0 to 1. */
  ramp: number;
}

/** Weight along one axis at distance d from an interior edge (d = 0: the edge pixel). */
export function rampWeight(d: number, spec: BlendSpec): number {
  if (d < spec.margin) return 0;
  if (d >= spec.margin + spec.ramp) return 1;
  return 0.5 - 0.5 * Math.cos((Math.PI * (d - spec.margin + 0.5)) / spec.ramp);
}

function axisWeights(start: number, length: number, total: number, spec: BlendSpec): Float32Array {
  const w = new Float32Array(length);
  const lowInterior = start > 0;
  const highInterior = start + length < total;
  for (let i = 0; i < length; i++) {
    const lo = lowInterior ? rampWeight(i, spec) : 1;
    const hi = highInterior ? rampWeight(length - 1 - i, spec) : 1;
    w[i] = Math.min(lo, hi);
  }
  return w;
}

/** Row-major height × width weights of `tile` inside an image of imageWidth × imageHeight. */
export function blendWeights(tile: TileRect, imageWidth: number, imageHeight: number, spec: BlendSpec): Float32Array {
  const wx = axisWeights(tile.x, tile.width, imageWidth, spec);
  const wy = axisWeights(tile.y, tile.height, imageHeight, spec);
  const out = new Float32Array(tile.width * tile.height);
  for (let y = 0; y < tile.height; y++) for (let x = 0; x < tile.width; x++) out[y * tile.width + x] = wy[y] * wx[x];
  return out;
}

/** The overlap two neighbours need so their ramps meet: both margins plus one ramp. */
export function overlapFor(spec: BlendSpec): number {
  return 2 * spec.margin + spec.ramp;
}

/** Margin and ramp for a tile size: 1/16 of the tile as context margin, 1/6 as ramp. */
export function blendSpecFor(tile: number): BlendSpec {
  return { margin: Math.max(2, Math.round(tile / 16)), ramp: Math.max(4, Math.round(tile / 6)) };
}
