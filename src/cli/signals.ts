/**
 * Ctrl-C handling for long runs: the first SIGINT/SIGTERM aborts the run gracefully (it finishes
 * the current iteration and saves its image); a second one quits at once with code 130, also
 * when it comes after the run has ended but before the process has. Outputs are written
 * atomically, so an immediate exit never leaves a half-written file.
 *
 * Quitting at once means not waiting for the compute thread: process.exit() would join it, and a
 * thread inside a native call (loading libtorch takes seconds) only stops when the call returns.
 * So the threads are terminated first (the addon is built to return quietly when its thread is
 * torn down: NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS in binding.gyp) and the process exits with
 * 130 once they are gone; if one is still busy after QUIT_GRACE_MS, the process ends by SIGINT
 * itself, which a shell also reports as 130.
 */
import { terminateWorkers } from '../transfer/worker-host';

const QUIT_GRACE_MS = 300;

export async function interruptible<R>(run: (signal: AbortSignal) => Promise<R>, onFirstSignal: () => void): Promise<R> {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) return quitNow();
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
    // Interrupted once: the process is on its way out with 130; another Ctrl-C just hurries it.
    if (controller.signal.aborted) {
      process.once('SIGINT', quitNow);
      process.once('SIGTERM', quitNow);
    }
  }
}

let quitting = false;

function quitNow(): void {
  const bySignal = () => {
    // With no listener left, Node restores the terminal and ends the process by SIGINT.
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    process.kill(process.pid, 'SIGINT');
  };
  if (quitting) return bySignal(); // a third Ctrl-C does not wait at all
  quitting = true;
  setTimeout(bySignal, QUIT_GRACE_MS);
  terminateWorkers().then(() => process.exit(130), bySignal);
}
