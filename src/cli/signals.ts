/**
 * Ctrl-C handling for long runs: the first SIGINT/SIGTERM aborts the run gracefully (it finishes
 * the current iteration and saves its image); a second one exits at once. Outputs are written
 * atomically, so an immediate exit never leaves a half-written file.
 */
export async function interruptible<R>(run: (signal: AbortSignal) => Promise<R>, onFirstSignal: () => void): Promise<R> {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    onFirstSignal();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await run(controller.signal);
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}
