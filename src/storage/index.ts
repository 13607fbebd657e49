/**
 * Job files shared between API servers and workers: a directory (local or a shared file system)
 * or S3-compatible object storage. `openStorage()` picks one from a `--storage` value.
 */
import { NstError } from '../errors';
import { DirectoryStorage } from './directory';
import { parseS3Url, S3Storage } from './s3';
import type { Storage } from './types';

export { DirectoryStorage } from './directory';
export { parseS3Url, S3Storage } from './s3';
export type { S3Location } from './s3';
export { errorReason, jobKey, StorageError } from './types';
export type { Storage } from './types';

/** `s3://BUCKET/PREFIX[?endpoint=URL&region=R]` or a directory path. */
export function openStorage(spec: string): Storage {
  if (!spec || /^\s|\s$/.test(spec)) throw new NstError(`--storage needs a directory or an s3://BUCKET/PREFIX address (got '${spec}')`);
  if (spec.startsWith('s3://')) return new S3Storage(parseS3Url(spec));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) throw new NstError(`--storage: unsupported address '${spec}' (use a directory or s3://BUCKET/PREFIX)`);
  return new DirectoryStorage(spec);
}
