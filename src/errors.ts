/**
 * Errors a user can fix (bad input, missing files, bad options). The CLI prints their message on
 * one line and exits with code 2; the server answers them with HTTP 4xx. Anything else is a bug.
 */
export class NstError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'NstError';
  }
}

/** Thrown when a run is cancelled (Ctrl-C, a cancelled job). */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}
