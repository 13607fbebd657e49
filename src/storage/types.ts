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
  constructor(readonly storage: string, readonly action: string, readonly key: string, cause: unknown) {
    const e = cause as { code?: string; name?: string; message?: string };
    const why = [e?.code ?? e?.name, String(e?.message ?? cause).split('\n')[0]].filter(Boolean).join(': ');
    super(`cannot ${action} ${key} in the storage ${storage}: ${why}`);
    this.name = 'StorageError';
  }
}
