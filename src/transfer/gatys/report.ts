/**
 * What a run leaves beside its image: a JSON report (settings, per-layer losses at each recorded
 * step, timings, peak memory), a loss-curve plot (SVG), and optionally an animation of the saved
 * frames (GIF or WebP). All written atomically.
 */
import * as path from 'node:path';
import sharp from 'sharp';
import type { LossBreakdown } from '../../losses';
import type { TilingReport } from './tiling';
import type { StageMemoryReport } from './memory-watch';
import { writeFileAtomic, writeFileAtomicSync } from '../../util/atomic-write';

export { writeFileAtomic, writeFileAtomicSync };

export interface LossRecord {
  stage: number;
  iteration: number;
  /** Iteration counted over all stages. */
  step: number;
  seconds: number;
  losses: LossBreakdown;
}

export interface StageReport {
  size: { width: number; height: number };
  /** Evaluations run, and the stage's budget. */
  iterations: number;
  maxIterations: number;
  /** Stopped early because the loss had stopped improving (or the optimiser converged). */
  converged: boolean;
  /** Objective of the stage's best (kept) image. */
  bestLoss: number;
  seconds: number;
  /** Peak resident memory of the process at the end of the stage (MiB). */
  peakRssMiB: number;
  /** Present when the stage was optimised in tiles: the tile grid and the memory estimates. */
  tiling?: TilingReport;
  /** The budget, the plan, the objective's measured cost and the peak (see memory-watch.ts). */
  memory?: StageMemoryReport;
  /** True when the whole-image stage recomputed activations in the backward pass to fit the budget. */
  checkpoint?: boolean;
}

/** `out.jpg` → `out.report.json`, `out.losses.svg`, `out.anim.webp`. */
export function sidecarPath(output: string, suffix: string): string {
  const ext = path.extname(output);
  return `${output.slice(0, output.length - ext.length)}.${suffix}`;
}

/** A log-scale line plot of the total, content, style and TV losses over the steps. */
export function lossPlotSvg(records: LossRecord[], title: string): string {
  const width = 640;
  const height = 360;
  const m = { left: 70, right: 110, top: 30, bottom: 40 };
  const series: [string, string, (l: LossBreakdown) => number][] = [
    ['total', '#222', (l) => l.total],
    ['content', '#1f77b4', (l) => sum(l.content)],
    ['style', '#d62728', (l) => sum(l.style)],
    ['tv', '#2ca02c', (l) => l.tv],
  ];
  const values = records.flatMap((r) => series.map(([, , f]) => f(r.losses))).filter((v) => v > 0 && Number.isFinite(v));
  const lo = values.length ? Math.floor(Math.log10(Math.min(...values))) : 0;
  const hi = values.length ? Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values)))) : 1;
  const maxStep = Math.max(1, ...records.map((r) => r.step));
  const x = (step: number) => m.left + ((width - m.left - m.right) * step) / maxStep;
  const y = (v: number) => m.top + ((height - m.top - m.bottom) * (hi - Math.log10(Math.max(v, 10 ** lo)))) / Math.max(hi - lo, 1);
  const lines = series.map(([name, colour, f]) => {
    const pts = records.filter((r) => f(r.losses) > 0).map((r) => `${x(r.step).toFixed(1)},${y(f(r.losses)).toFixed(1)}`);
    const last = records[records.length - 1];
    const label = last ? `<text x="${width - m.right + 6}" y="${y(Math.max(f(last.losses), 10 ** lo)).toFixed(1)}" fill="${colour}" font-size="12">${name}</text>` : '';
    return `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${pts.join(' ')}"/>${label}`;
  });
  const grid: string[] = [];
  for (let e = lo; e <= hi; e++) {
    grid.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ddd"/>`);
    grid.push(`<text x="${m.left - 6}" y="${y(10 ** e) + 4}" text-anchor="end" font-size="11">1e${e}</text>`);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    ...grid,
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${height - m.bottom}" stroke="#444"/>`,
    `<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="#444"/>`,
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" text-anchor="middle" font-size="12">iteration (all stages: ${maxStep})</text>`,
    ...lines,
    `</svg>`,
  ].join('\n');
}

/** Joins image files into an animated GIF or WebP (frames resized to the first frame's size). */
export async function writeAnimation(frames: string[], file: string, format: 'gif' | 'webp', delayMs = 200): Promise<void> {
  if (frames.length === 0) return;
  const first = await sharp(frames[0]).metadata();
  const w = first.width ?? 1;
  const h = first.height ?? 1;
  const buffers = await Promise.all(frames.map((f) => sharp(f).resize(w, h, { fit: 'fill' }).removeAlpha().png().toBuffer()));
  const anim = sharp(buffers, { join: { animated: true } });
  const out = format === 'gif' ? anim.gif({ delay: delayMs, loop: 0 }) : anim.webp({ delay: delayMs, loop: 0, quality: 85 });
  await writeFileAtomic(file, await out.toBuffer());
}

function sum(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
