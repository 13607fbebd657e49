/**
 * Runs one experiment in the calling thread (the worker thread of `explore()`): each cell is one
 * runStylize into a temporary file, then the contact sheet `<output>.png` and `<output>.json`
 * are written atomically. Cancellation stops the current cell after its current iteration (its
 * image so far is kept and marked as stopped) and still writes the sheet of the cells done.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadImage, RgbImage } from '../../image';
import type { LossBreakdown } from '../../losses';
import { writeFileAtomicSync as writeFileAtomic } from '../../util/atomic-write';
import type { ResolvedStylizeOptions } from '../gatys/options';
import { runStylize } from '../gatys/run';
import { EXPERIMENTS, ExperimentName, ExploreInput } from './experiments';
import { LabelFont, renderContactSheet, SheetCell } from './contact-sheet';
import type { ResolvedExploreOptions } from './options';

export interface ExploreProgress {
  experiment: ExperimentName;
  /** 'iteration': an iteration of the current cell ended; 'cell': a cell ended. */
  event: 'iteration' | 'cell';
  /** Index (0-based) of the current computed cell, and the number of computed cells. */
  cell: number;
  cells: number;
  /** Computed cells finished so far. */
  cellsDone: number;
  label: string;
  /** Iteration within the current cell. */
  iteration: number;
  iterations: number;
  /** Iterations over all cells, done and planned. */
  step: number;
  steps: number;
  losses: LossBreakdown | null;
  elapsedSeconds: number;
  iterationsPerSecond: number;
  etaSeconds: number;
}

/** What the JSON says about one computed cell. */
export interface ExploreCellRecord {
  label: string;
  /** The settings that make this cell (those that vary between experiments; noiseRatio is 1 for a white-noise start). */
  settings: Pick<
    ResolvedStylizeOptions,
    'init' | 'noiseRatio' | 'contentWeight' | 'styleWeight' | 'tvWeight' | 'preset' | 'contentLayers' | 'styleLayers' | 'styleLayerWeights'
  >;
  iterations: number;
  /** Stopped by Ctrl-C / cancellation before its last iteration. */
  cancelled: boolean;
  /** Wall time of the cell's run, model loading included. */
  seconds: number;
  /** Total loss at the first iteration. */
  initialLoss: number | null;
  /** Losses at the last iteration; per-layer terms with a zero weight are left out. */
  losses: LossBreakdown | null;
  /** Mean squared pixel difference (RGB in [0,1]) to the content image (reconstructions only). */
  pixelMseToContent?: number;
  /** Position on the sheet (0-based), counting the input cells. */
  row: number;
  column: number;
}

export interface ExploreResult {
  experiment: ExperimentName;
  sheet: string;
  json: string;
  width: number;
  height: number;
  columns: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
  /** Input cells shown before the computed ones. */
  inputs: number;
  cells: ExploreCellRecord[];
  /** Computed cells the experiment has (more than `cells.length` when cancelled). */
  cellsPlanned: number;
  cancelled: boolean;
  seconds: number;
  seed: number;
  threads: number;
  precision: string;
  labelFont: LabelFont;
}

export interface ExploreHooks {
  onProgress?(progress: ExploreProgress): void;
  /** Polled once per iteration. */
  isCancelled?(): boolean;
}

export async function runExplore(options: ResolvedExploreOptions, hooks: ExploreHooks = {}): Promise<ExploreResult> {
  const started = Date.now();
  const experiment = EXPERIMENTS[options.experiment];
  // Every cell takes the canvas's size (the content photo; the style in a style-only experiment).
  const canvas = await loadImage(options.canvas, { maxSide: options.size, maxPixels: options.maxPixels });
  const inputFile = (input: ExploreInput) => (input === 'content' ? options.content! : options.style!);
  const sheetCells: SheetCell[] = await Promise.all(
    options.inputs.map(async (input) => ({
      image: inputFile(input) === options.canvas ? canvas : await loadImage(inputFile(input), { maxSide: options.size, maxPixels: options.maxPixels }),
      lines: [input, path.basename(inputFile(input))],
    })),
  );

  const records: Omit<ExploreCellRecord, 'row' | 'column'>[] = [];
  const steps = options.cells.reduce((n, c) => n + c.options.scaleIterations.reduce((a, b) => a + b, 0), 0);
  let stepsBefore = 0;
  let cancelled = false;
  let threads = 0;
  let precision = '';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-explore-'));
  try {
    for (const [index, cell] of options.cells.entries()) {
      if (hooks.isCancelled?.()) {
        cancelled = true;
        break;
      }
      const cellStart = Date.now();
      let initialLoss: number | null = null;
      const iterations = cell.options.scaleIterations.reduce((a, b) => a + b, 0);
      const progress = (event: ExploreProgress['event'], iteration: number, losses: LossBreakdown | null): ExploreProgress => {
        const elapsed = (Date.now() - started) / 1000;
        const step = stepsBefore + iteration;
        const rate = step / Math.max(elapsed, 1e-9);
        return {
          experiment: options.experiment,
          event,
          cell: index,
          cells: options.cells.length,
          cellsDone: records.length,
          label: cell.label,
          iteration,
          iterations,
          step,
          steps,
          losses,
          elapsedSeconds: elapsed,
          iterationsPerSecond: rate,
          etaSeconds: (steps - step) / Math.max(rate, 1e-9),
        };
      };
      const result = await runStylize(
        { ...cell.options, output: path.join(tmp, `cell_${String(index).padStart(2, '0')}.png`), report: false, saveEvery: 0, previewEvery: 0, animation: 'none' },
        {
          isCancelled: hooks.isCancelled,
          onProgress: (p) => {
            initialLoss ??= p.losses.total;
            hooks.onProgress?.(progress('iteration', p.step, p.losses));
          },
        },
      );
      threads = result.threads;
      precision = result.precision;
      if (result.iterations > 0) {
        const image = await loadImage(result.output);
        const o = cell.options;
        records.push({
          label: cell.label,
          settings: {
            init: o.init,
            noiseRatio: o.noiseRatio,
            contentWeight: o.contentWeight,
            styleWeight: o.styleWeight,
            tvWeight: o.tvWeight,
            preset: o.preset,
            contentLayers: o.contentLayers,
            styleLayers: o.styleLayers,
            styleLayerWeights: o.styleLayerWeights,
          },
          iterations: result.iterations,
          cancelled: result.cancelled,
          seconds: round((Date.now() - cellStart) / 1000, 3),
          initialLoss,
          losses: result.losses && activeTerms(result.losses, o.contentWeight, o.styleWeight),
          // Only the reconstructions measure it, and their canvas is the content photo.
          ...(experiment.measureContentMse ? { pixelMseToContent: pixelMse(image, canvas) } : {}),
        });
        sheetCells.push({ image, lines: [cell.label, cellNote(records[records.length - 1], iterations)] });
        hooks.onProgress?.(progress('cell', result.iterations, result.losses));
      }
      // A cell that converged early leaves its remaining iterations to no one: count them as done.
      stepsBefore += iterations;
      if (result.cancelled) {
        cancelled = true;
        break;
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const used = options.inputs.map(inputFile);
  const title = `${options.experiment}: ${used.map((f) => path.basename(f)).join(' × ')} · ${canvas.width}×${canvas.height} · ${options.iterations} it · seed ${options.seed}${cancelled ? ' · stopped' : ''}`;
  const { png, layout, font } = await renderContactSheet(title, sheetCells, canvas.width, canvas.height, { columns: options.columns });
  const cells: ExploreCellRecord[] = records.map((r, i) => {
    const at = options.inputs.length + i;
    return { ...r, row: Math.floor(at / layout.columns), column: at % layout.columns };
  });
  const { width, height, columns, rows, cellWidth, cellHeight } = layout;
  const geometry = { width, height, columns, rows, cellWidth, cellHeight };
  const result: ExploreResult = {
    experiment: options.experiment,
    sheet: options.sheet,
    json: options.json,
    ...geometry,
    inputs: options.inputs.length,
    cells,
    cellsPlanned: options.cells.length,
    cancelled,
    seconds: round((Date.now() - started) / 1000, 3),
    seed: options.seed,
    threads,
    precision,
    labelFont: font,
  };
  writeFileAtomic(options.sheet, png);
  const report = {
    tool: 'nst explore',
    experiment: options.experiment,
    summary: experiment.summary,
    title,
    createdAt: new Date().toISOString(),
    settings: {
      content: options.content,
      style: options.style,
      size: options.size,
      iterations: options.iterations,
      seed: options.seed,
      threads,
      precision,
      device: options.device ?? 'cpu',
      ...(options.ratios ? { ratios: options.ratios } : {}),
      ...(options.init ? { init: options.init } : {}),
    },
    sheet: {
      file: options.sheet,
      ...geometry,
      labelFont: font,
      inputs: options.inputs.map((input, i) => ({ label: input, file: inputFile(input), row: Math.floor(i / layout.columns), column: i % layout.columns })),
    },
    cancelled,
    cellsPlanned: options.cells.length,
    seconds: result.seconds,
    cells,
  };
  writeFileAtomic(options.json, JSON.stringify(report, null, 2) + '\n');
  return result;
}

/** Drops the per-layer terms whose weight is zero (the placeholder style layer of content-only runs). */
function activeTerms(losses: LossBreakdown, contentWeight: number, styleWeight: number): LossBreakdown {
  return {
    total: losses.total,
    content: contentWeight > 0 ? losses.content : {},
    style: styleWeight > 0 ? losses.style : {},
    tv: losses.tv,
  };
}

/** The second label line: the reconstruction error or the final loss, or where it stopped. */
function cellNote(r: Omit<ExploreCellRecord, 'row' | 'column'>, planned: number): string {
  if (r.cancelled) return `stopped at ${r.iterations}/${planned}`;
  if (r.pixelMseToContent !== undefined) return `MSE ${formatValue(r.pixelMseToContent)}`;
  return r.losses ? `loss ${formatValue(r.losses.total)}` : '';
}

/** Mean squared difference of two images of the same size (planar RGB in [0,1]). */
export function pixelMse(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`pixelMse: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += (a.data[i] - b.data[i]) ** 2;
  return sum / a.data.length;
}

/** Three significant digits, exponent form outside [0.01, 1e4): 0.0015 → '1.50e-3'. */
export function formatValue(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 0.01 && Math.abs(v) < 1e4) return String(Number(v.toPrecision(3)));
  const [m, e] = v.toExponential(2).split('e');
  return `${m}e${Number(e)}`;
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
