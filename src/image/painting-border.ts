/**
 * A painting photographed or scanned on its sheet comes with a band of bare paper around it (and
 * the sheet's folds and edges in that band), which style transfer would paint as a frame
 * (issue 28). The band is found from the outside in, one row or column at a time: a line of
 * paper is smooth along its length (no brush texture: neighbouring pixels differ by little) and
 * keeps close to one colour (a gentle lighting gradient allowed), where the painting's first
 * line is textured. A fold or the sheet's edge is a line of another shade: still smooth, so it
 * belongs to the band. Sides are trimmed only when the band is on at least three of them, each
 * of a similar paper colour, and distinct from the painting inside: a painting whose own edge is
 * a flat sky, or one darkened by a vignette (its texture continues to the edge), is left whole.
 */
import type { RgbImage } from './load';

/** Pixels to trim from each side of an image. */
export interface PaintingBorder {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Mean |difference| of neighbouring pixels along a paper line at most this (0..255, mean over RGB). */
const SMOOTH = 3;
/** A paper line's colour, smoothed along it, stays within this of its median (0..255) on this share of it. */
const NEAR_MEDIAN = 24;
const NEAR_SHARE = 0.95;
/** The band may take at most this share of a side. */
const MAX_DEPTH = 0.25;
/** Paper colours of the sides (the outermost lines) differ by at most this (0..255, per channel). */
const SAME_PAPER = 40;
/** The painting next to the band differs from the paper by at least this (mean |difference|, 0..255). */
const DISTINCT = 12;

type Side = keyof PaintingBorder;
const SIDES: Side[] = ['top', 'bottom', 'left', 'right'];

/** The line `index` (0 = outermost) of a side: RGB triples 0..255 along it. */
function lineOf(image: RgbImage, side: Side, index: number): Float32Array {
  const { width: w, height: h, data } = image;
  const plane = w * h;
  const horizontal = side === 'top' || side === 'bottom';
  const length = horizontal ? w : h;
  const fixed = side === 'top' ? index : side === 'bottom' ? h - 1 - index : side === 'left' ? index : w - 1 - index;
  const out = new Float32Array(3 * length);
  for (let i = 0; i < length; i++) {
    const p = horizontal ? fixed * w + i : i * w + fixed;
    for (let c = 0; c < 3; c++) out[3 * i + c] = 255 * data[c * plane + p];
  }
  return out;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median colour of a line. */
function lineColour(line: Float32Array): number[] {
  const n = line.length / 3;
  return [0, 1, 2].map((c) => median(Array.from({ length: n }, (_, i) => line[3 * i + c])));
}

/** Whether a line is bare paper: smooth along its length and close to one colour. */
function isPaperLine(line: Float32Array): boolean {
  const n = line.length / 3;
  if (n < 8) return false;
  let rough = 0;
  for (let i = 1; i < n; i++) for (let c = 0; c < 3; c++) rough += Math.abs(line[3 * i + c] - line[3 * (i - 1) + c]);
  if (rough / (3 * (n - 1)) > SMOOTH) return false;
  // Smoothed over a few pixels, so a speck of dust or a fold crossing the line does not count.
  const radius = 3;
  const colour = lineColour(line);
  let near = 0;
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - radius);
    const hi = Math.min(n - 1, i + radius);
    let far = false;
    for (let c = 0; c < 3 && !far; c++) {
      let s = 0;
      for (let j = lo; j <= hi; j++) s += line[3 * j + c];
      far = Math.abs(s / (hi - lo + 1) - colour[c]) > NEAR_MEDIAN;
    }
    if (!far) near++;
  }
  return near >= NEAR_SHARE * n;
}

/** Mean colour of `count` lines of a side starting at `from`. */
function bandColour(image: RgbImage, side: Side, from: number, count: number): number[] {
  const sum = [0, 0, 0];
  let n = 0;
  for (let k = from; k < from + count; k++) {
    const line = lineOf(image, side, k);
    for (let i = 0; i < line.length; i += 3) {
      for (let c = 0; c < 3; c++) sum[c] += line[i + c];
      n++;
    }
  }
  return sum.map((s) => s / Math.max(1, n));
}

const colourDistance = (a: number[], b: number[]) => (Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2])) / 3;

/**
 * The paper band around a painting, in pixels per side; null when there is none (then the image
 * is the painting as it is).
 */
export function detectPaintingBorder(image: RgbImage): PaintingBorder | null {
  const depth: PaintingBorder = { top: 0, bottom: 0, left: 0, right: 0 };
  const paper: Partial<Record<Side, number[]>> = {};
  for (const side of SIDES) {
    const span = side === 'top' || side === 'bottom' ? image.height : image.width;
    const limit = Math.floor(span * MAX_DEPTH);
    let k = 0;
    while (k < limit && isPaperLine(lineOf(image, side, k))) k++;
    // A band as deep as the limit is no band (a flat sky or wall, not a sheet's margin).
    if (k === 0 || k >= limit) continue;
    const inside = bandColour(image, side, k, Math.min(4, span - k));
    const outer = lineColour(lineOf(image, side, 0));
    if (colourDistance(outer, inside) < DISTINCT) continue;
    depth[side] = k;
    paper[side] = outer;
  }
  const found = SIDES.filter((s) => depth[s] > 0);
  if (found.length < 3) return null;
  // One sheet: the sides' paper colours agree (sides of another colour are the painting's own).
  const reference = [0, 1, 2].map((c) => median(found.map((s) => paper[s]![c])));
  for (const s of found) if (colourDistance(paper[s]!, reference) > SAME_PAPER) depth[s] = 0;
  return SIDES.filter((s) => depth[s] > 0).length >= 3 ? depth : null;
}

/** The image without `border`. */
export function cropBorder(image: RgbImage, border: PaintingBorder): RgbImage {
  const width = image.width - border.left - border.right;
  const height = image.height - border.top - border.bottom;
  const data = new Float32Array(3 * width * height);
  const plane = image.width * image.height;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      const from = c * plane + (y + border.top) * image.width + border.left;
      data.set(image.data.subarray(from, from + width), c * width * height + y * width);
    }
  }
  return { width, height, data };
}

/** One line for the user: "cropped a 12/12/9/9-px paper border (top/bottom/left/right) from painting.jpg". */
export function describeBorder(border: PaintingBorder, label: string): string {
  return `cropped a ${border.top}/${border.bottom}/${border.left}/${border.right}-px paper border (top/bottom/left/right) from ${label}; --keep-painting-border keeps it`;
}
