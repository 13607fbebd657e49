/**
 * Where the files of a job live when API servers and workers run on different machines: its inputs,
 * its last saved image (what a resume starts from), its preview and its result. Keys are
 * slash-separated paths such as `jobs/<id>/result.jpg` (see jobKey()).
 */
export interface Storage {
  /** Human-readable location for messages and logs (a directory, or s3://bucket/prefix). */
  readonly description: string;
  /** Writes the whole object (atomically: a reader never sees half of it). */
  put(key: string, data: Uint8Array): Promise<void>;
  /** The object's bytes, or null when there is none. */
  get(key: string): Promise<Buffer | null>;
  /** The keys of every object under a folder-like `prefix` (`models/`), in no particular order. */
  list(prefix: string): Promise<string[]>;
  /** Removes every object whose key starts with `prefix` (nothing to remove is not an error). */
  removePrefix(prefix: string): Promise<void>;
  /** Throws a one-line NstError unless objects can be written, read and removed here. */
  check(): Promise<void>;
  /** The local file of a key when the storage is a directory on this machine (lets callers skip a copy). */
  localPath?(key: string): string;
  /** Lets go of connections (S3's keep-alive sockets). */
  close?(): void;
}

export function jobKey(jobId: string, file?: string): string {
  return file === undefined ? `jobs/${jobId}/` : `jobs/${jobId}/${file}`;
}

/** Turns a storage failure into one line that names the object and the storage. */
export class StorageError extends Error {
  /** Why, e.g. "EISDIR: illegal operation on a directory". */
  readonly reason: string;
  /** The message without the storage's location (a path of the server), for API clients. */
  readonly publicMessage: string;

  constructor(readonly storage: string, readonly action: string, readonly key: string, cause: unknown) {
    const reason = errorReason(cause);
    super(`cannot ${action} ${key} in the storage ${storage}: ${reason}`);
    this.name = 'StorageError';
    this.reason = reason;
    this.publicMessage = `cannot ${action} ${key} in the job storage: ${reason}`;
  }
}

/**
 * One line saying why something failed: its code once (Node's messages start with it already:
 * "EPERM: operation not permitted, open '/x'"), without the file paths Node appends.
 */
export function errorReason(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null | undefined;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' && e.name !== 'Error' ? e.name : '';
  const message = String(e?.message ?? err ?? '')
    .split('\n')[0]
    .replace(/, \w+ '[^']*'(?: -> '[^']*')?$/, '')
    .trim();
  if (!code || message.includes(code)) return message || code || 'unknown error';
  return message ? `${code}: ${message}` : code;
}
