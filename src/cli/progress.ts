/**
 * Progress display of a long run: a live bar (iteration, it/s, ETA, losses) on a terminal, or one
 * line every `printEvery` iterations otherwise (logs, CI).
 */
import { SingleBar } from 'cli-progress';

export interface ProgressLine {
  iteration: number;
  iterations: number;
  iterationsPerSecond: number;
  etaSeconds: number;
  /** Named values to show, e.g. { content: 1.2e5, style: 3.4e6, tv: 2e3 }. */
  values: Record<string, number>;
  /** Where a long step is, e.g. 'tile 3/16 pass 1/2'. */
  detail?: string;
}

export class ProgressReporter {
  private bar: SingleBar | null = null;
  private readonly tty: boolean;

  /** unit: what the rate counts ('it' → it/s; 'frames' → frames/s). */
  constructor(private readonly label: string, private readonly printEvery: number, stream: NodeJS.WriteStream = process.stderr, private readonly unit = 'it') {
    this.tty = !!stream.isTTY;
    if (this.tty) {
      this.bar = new SingleBar({
        stream,
        // Our ETA, not the bar's own: counting iterations misjudges runs whose stages differ in cost.
        format: `${label} [{bar}] {value}/{total} | {rate} ${unit}/s | ETA {timeLeft} | {values}`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
      });
    }
  }

  start(total: number): void {
    this.bar?.start(total, 0, { rate: '0.00', timeLeft: '?', values: '' });
  }

  update(p: ProgressLine): void {
    const values = (p.detail ? `${p.detail} | ` : '') + Object.entries(p.values).map(([k, v]) => `${k} ${formatValue(v)}`).join(' ');
    if (this.bar) {
      this.bar.update(p.iteration, { rate: p.iterationsPerSecond.toFixed(2), timeLeft: formatEta(p.etaSeconds), values });
    } else if (this.printEvery > 0 && (p.iteration % this.printEvery === 0 || p.iteration === p.iterations)) {
      process.stderr.write(
        `${this.label} ${p.iteration}/${p.iterations} | ${p.iterationsPerSecond.toFixed(2)} ${this.unit}/s | ETA ${Math.round(p.etaSeconds)}s | ${values}\n`,
      );
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }

  /** Prints a line without breaking the bar. */
  log(line: string): void {
    if (this.bar) process.stderr.write(`\n${line}\n`);
    else process.stderr.write(`${line}\n`);
  }
}

/** 7 → '7s', 67 → '1m07s', 4000 → '1h06m'; '?' before there is a rate. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const t = Math.round(seconds);
  const two = (v: number) => String(v).padStart(2, '0');
  if (t >= 3600) return `${Math.floor(t / 3600)}h${two(Math.floor((t % 3600) / 60))}m`;
  if (t >= 60) return `${Math.floor(t / 60)}m${two(t % 60)}s`;
  return `${t}s`;
}

/** Counts, sizes and milliseconds as whole numbers (stage 2, size 512, paint ms 296100); losses as formatLoss. */
export function formatValue(v: number): string {
  return Number.isInteger(v) && Math.abs(v) < 1e9 ? String(v) : formatLoss(v);
}

export function formatLoss(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(3) : v.toFixed(3);
}
