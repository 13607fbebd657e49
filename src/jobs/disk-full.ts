/**
 * Recognising a full disk. Node reports it as ENOSPC (EDQUOT over a quota), SQLite as SQLITE_FULL,
 * and errors that crossed a worker thread keep only their message, so the message counts too.
 */
export function isDiskFull(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null | undefined;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT' || e?.code === 'SQLITE_FULL') return true;
  return /no space left on device|database or disk is full|disk quota exceeded/i.test(String(e?.message ?? ''));
}

/** What a client is told when the server cannot store something for lack of space. */
export const DISK_FULL_MESSAGE = "the server's disk is full: nothing can be stored until space is freed; try again later";
