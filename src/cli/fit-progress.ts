/** The progress bar of a style-vector fit (`nst styles fit`, and `nst fast --style-image`). */
import type { FitProgress } from '../transfer/arbitrary';
import { ProgressReporter } from './progress';

type FitStepProgress = Extract<FitProgress, { type: 'fit' }>;

export class FitProgressBar {
  private readonly reporter: ProgressReporter;
  private started = 0;

  constructor(label = 'fit', printEvery = 10) {
    this.reporter = new ProgressReporter(label, printEvery);
  }

  update(p: FitStepProgress): void {
    if (!this.started) {
      this.started = Date.now();
      this.reporter.start(p.total);
    }
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? p.done / seconds : 0;
    this.reporter.update({
      iteration: p.done,
      iterations: p.total,
      iterationsPerSecond: rate,
      etaSeconds: rate > 0 ? (p.total - p.done) / rate : 0,
      values: { stage: p.stage + 1, size: p.size, content: p.losses.content, style: p.losses.style, total: p.losses.total },
    });
  }

  log(line: string): void {
    this.reporter.log(line);
  }

  stop(): void {
    this.reporter.stop();
  }
}
