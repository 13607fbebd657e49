/**
 * A writer that never queues: items are handled one at a time, and when they arrive faster than
 * that only the newest waiting one is kept (previews of a running job: an old one is worthless
 * once a newer exists, and a slow disk must not make them pile up in memory).
 */
export interface LatestOnlyWriter<T> {
  /** Hands over an item; replaces any item still waiting. */
  push(item: T): void;
  /** Resolves once nothing is waiting or being handled. */
  drained(): Promise<void>;
}

/** `handle` must not throw for an item it cannot handle: it reports and returns (see callers). */
export function latestOnlyWriter<T>(handle: (item: T) => Promise<void>): LatestOnlyWriter<T> {
  let pending: { item: T } | null = null;
  let running: Promise<void> | null = null;
  const run = async () => {
    while (pending) {
      const { item } = pending;
      pending = null;
      await handle(item);
    }
    running = null;
  };
  return {
    push(item) {
      pending = { item };
      running ??= run();
    },
    async drained() {
      while (running) await running;
    },
  };
}
