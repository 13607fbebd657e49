/**
 * A first-in first-out queue of job ids with a concurrency limit: at most `concurrency` jobs run
 * at once; the rest wait in order. Running a job is the caller's function (the job runner).
 */
export class FifoQueue {
  private readonly waiting: string[] = [];
  private readonly active = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly concurrency: number, private readonly run: (id: string) => Promise<void>) {}

  push(id: string): void {
    if (this.stopped || this.waiting.includes(id) || this.active.has(id)) return;
    this.waiting.push(id);
    this.pump();
  }

  /** Takes a waiting job out of the queue; false if it was not waiting. */
  remove(id: string): boolean {
    const i = this.waiting.indexOf(id);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  /** 1-based position of a waiting job, or 0. */
  position(id: string): number {
    return this.waiting.indexOf(id) + 1;
  }

  isRunning(id: string): boolean {
    return this.active.has(id);
  }

  /** Resolves when the job's current run (if any) has finished. */
  settled(id: string): Promise<void> {
    return this.active.get(id) ?? Promise.resolve();
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  get runningCount(): number {
    return this.active.size;
  }

  /** Starts nothing new; resolves when the running jobs have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.waiting.length = 0;
    await Promise.allSettled([...this.active.values()]);
  }

  private pump(): void {
    while (!this.stopped && this.active.size < this.concurrency && this.waiting.length > 0) {
      const id = this.waiting.shift()!;
      const p = this.run(id)
        .catch(() => undefined)
        .finally(() => {
          this.active.delete(id);
          this.pump();
        });
      this.active.set(id, p);
    }
  }
}
