/**
 * The loss chart on a canvas, drawn so a painter reads progress. A coarse-to-fine run restarts
 * its loss at every stage (the next, larger image scores ~100× worse at first), which on one
 * scale looks like a failure; so each stage is a band of its own ("128 px", "256 px"… where the
 * sizes are known, else "stage 2"), and every curve is drawn as a share of its stage's starting
 * total (100 % at each stage's start, log scale): a falling line in every band is a run that works.
 * A stage starts where the total rises: within a stage the rows are the best image so far, so
 * they never rise.
 */
import type { LossRow } from './api.js';

const SERIES: { index: number; colour: string; label: string }[] = [
  { index: 4, colour: '#222', label: 'total' },
  { index: 1, colour: '#2d5da8', label: 'content' },
  { index: 2, colour: '#c0392b', label: 'style' },
];
const BANDS = ['#f4f1ea', '#fbfaf6'];

/** Index of the first row of each stage. */
export function stageStarts(rows: readonly LossRow[]): number[] {
  const starts = rows.length ? [0] : [];
  for (let i = 1; i < rows.length; i++) {
    const prev = rows[i - 1][4];
    const cur = rows[i][4];
    // A resumed run repeats iterations; a new stage raises the best-so-far total.
    if (typeof prev === 'number' && typeof cur === 'number' && cur > prev * 1.0001) starts.push(i);
  }
  return starts;
}

export class LossChart {
  private rows: LossRow[] = [];
  private scheduled = false;
  /** Side of each stage's image, when the run said (the quality's schedule). */
  private stageSizes: number[] = [];

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.draw();
  }

  get length(): number {
    return this.rows.length;
  }

  /** The stages found so far (what the chart labels), for tests and captions. */
  get stages(): number {
    return stageStarts(this.rows).length;
  }

  reset(rows: LossRow[] = [], stageSizes: number[] = []): void {
    this.rows = rows.slice();
    this.stageSizes = stageSizes.slice();
    this.schedule();
  }

  push(row: LossRow): void {
    const last = this.rows[this.rows.length - 1];
    if (last && last[0] >= row[0]) this.rows = this.rows.filter((r) => r[0] < row[0]);
    this.rows.push(row);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const { width, height } = this.canvas;
    const pad = { left: 44, right: 10, top: 18, bottom: 24 };
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#666';
    const starts = stageStarts(this.rows);
    // Each value as a share of its stage's first total.
    const share: (number | null)[][] = this.rows.map(() => []);
    starts.forEach((start, k) => {
      const end = starts[k + 1] ?? this.rows.length;
      const base = this.rows[start][4];
      for (let i = start; i < end; i++) {
        for (const s of SERIES) {
          const v = this.rows[i][s.index];
          share[i][s.index] = typeof v === 'number' && typeof base === 'number' && v > 0 && base > 0 && Number.isFinite(v) ? v / base : null;
        }
      }
    });
    const points = share.flatMap((r) => r.filter((v): v is number => typeof v === 'number'));
    if (points.length === 0) {
      ctx.fillText('the losses appear here while it paints', pad.left, height / 2);
      return;
    }
    // Down to 0.1 % at most: the photo's term starts near 0 at each stage when painting from the
    // photo, and would stretch the scale over decades of nothing.
    const lo = Math.max(-3, Math.min(Math.floor(Math.log10(Math.min(...points))), -1));
    const hi = Math.max(Math.ceil(Math.log10(Math.max(...points))), 0);
    const floor = 10 ** lo;
    const first = this.rows[0][0];
    const last = Math.max(this.rows[this.rows.length - 1][0], first + 1);
    const x = (i: number) => pad.left + ((i - first) / (last - first)) * (width - pad.left - pad.right);
    // Below the scale a curve runs along its floor.
    const y = (v: number) => pad.top + ((hi - Math.log10(Math.max(v, floor))) / (hi - lo)) * (height - pad.top - pad.bottom);

    // Stage bands, labelled by their image size where known.
    starts.forEach((start, k) => {
      const x0 = k === 0 ? pad.left : (x(this.rows[start - 1][0]) + x(this.rows[start][0])) / 2;
      const next = starts[k + 1];
      const x1 = next === undefined ? width - pad.right : (x(this.rows[next - 1][0]) + x(this.rows[next][0])) / 2;
      ctx.fillStyle = BANDS[k % 2];
      ctx.fillRect(x0, pad.top, x1 - x0, height - pad.top - pad.bottom);
      if (starts.length > 1) {
        const size = this.stageSizes.length === starts.length ? this.stageSizes[k] : undefined;
        const label = size ? `${size} px` : `stage ${k + 1}`;
        ctx.fillStyle = '#666';
        if (ctx.measureText(label).width < x1 - x0 - 4) ctx.fillText(label, x0 + 3, pad.top - 5);
      }
    });
    ctx.strokeStyle = '#e2ddd3';
    ctx.fillStyle = '#666';
    ctx.lineWidth = 1;
    const step = Math.max(1, Math.ceil((hi - lo) / 5));
    for (let e = hi; e >= lo; e -= step) {
      const yy = y(10 ** e);
      ctx.beginPath();
      ctx.moveTo(pad.left, yy);
      ctx.lineTo(width - pad.right, yy);
      ctx.stroke();
      ctx.fillText(percent(10 ** e), 4, yy + 4);
    }
    ctx.fillText(`step ${first}`, pad.left, height - 6);
    const endLabel = String(last);
    ctx.fillText(endLabel, width - pad.right - ctx.measureText(endLabel).width, height - 6);
    for (const s of SERIES) {
      ctx.strokeStyle = s.colour;
      ctx.lineWidth = s.index === 4 ? 2 : 1.2;
      ctx.beginPath();
      let pen = false;
      this.rows.forEach((r, i) => {
        const v = share[i][s.index];
        // A new stage lifts the pen: its line starts afresh at its own 100 %.
        if (typeof v !== 'number' || starts.includes(i)) pen = false;
        if (typeof v !== 'number') return;
        if (pen) ctx.lineTo(x(r[0]), y(v));
        else ctx.moveTo(x(r[0]), y(v));
        pen = true;
      });
      ctx.stroke();
    }
  }
}

function percent(v: number): string {
  const p = v * 100;
  return p >= 1 ? `${Math.round(p)} %` : `${Number(p.toPrecision(1))} %`;
}
