/** A small loss chart on a canvas: total, content and style losses per iteration, log scale. */
import type { LossRow } from './api.js';

const SERIES: { index: number; colour: string; label: string }[] = [
  { index: 4, colour: '#222', label: 'total' },
  { index: 1, colour: '#2d5da8', label: 'content' },
  { index: 2, colour: '#c0392b', label: 'style' },
];

export class LossChart {
  private rows: LossRow[] = [];
  private scheduled = false;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.draw();
  }

  get length(): number {
    return this.rows.length;
  }

  reset(rows: LossRow[] = []): void {
    this.rows = rows.slice();
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
    const pad = { left: 48, right: 10, top: 10, bottom: 24 };
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#666';
    const points = this.rows.flatMap((r) => SERIES.map((s) => r[s.index]).filter((v): v is number => typeof v === 'number' && v > 0 && Number.isFinite(v)));
    if (points.length === 0) {
      ctx.fillText('the losses appear here while it paints', pad.left, height / 2);
      return;
    }
    const logs = points.map(Math.log10);
    let lo = Math.floor(Math.min(...logs));
    let hi = Math.ceil(Math.max(...logs));
    if (hi === lo) hi = lo + 1;
    const first = this.rows[0][0];
    const last = Math.max(this.rows[this.rows.length - 1][0], first + 1);
    const x = (i: number) => pad.left + ((i - first) / (last - first)) * (width - pad.left - pad.right);
    const y = (v: number) => pad.top + ((hi - Math.log10(v)) / (hi - lo)) * (height - pad.top - pad.bottom);
    ctx.strokeStyle = '#eee';
    ctx.lineWidth = 1;
    const step = Math.max(1, Math.ceil((hi - lo) / 6));
    for (let e = lo; e <= hi; e += step) {
      const yy = y(10 ** e);
      ctx.beginPath();
      ctx.moveTo(pad.left, yy);
      ctx.lineTo(width - pad.right, yy);
      ctx.stroke();
      ctx.fillText(`1e${e}`, 6, yy + 4);
    }
    ctx.fillText(`iteration ${first}`, pad.left, height - 6);
    const endLabel = String(last);
    ctx.fillText(endLabel, width - pad.right - ctx.measureText(endLabel).width, height - 6);
    for (const s of SERIES) {
      ctx.strokeStyle = s.colour;
      ctx.lineWidth = s.index === 4 ? 2 : 1.2;
      ctx.beginPath();
      let pen = false;
      for (const r of this.rows) {
        const v = r[s.index];
        if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
          pen = false;
          continue;
        }
        if (pen) ctx.lineTo(x(r[0]), y(v));
        else ctx.moveTo(x(r[0]), y(v));
        pen = true;
      }
      ctx.stroke();
    }
  }
}
