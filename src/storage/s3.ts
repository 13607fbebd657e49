/**
 * Storage in an S3-compatible object store (AWS S3, MinIO, Cloudflare R2, Ceph…) through the AWS
 * SDK. Location: `s3://BUCKET/PREFIX`; the endpoint of a non-AWS store comes from `?endpoint=URL`,
 * or $AWS_ENDPOINT_URL_S3 / $AWS_ENDPOINT_URL (then path-style addressing is used, as MinIO needs);
 * the region from `?region=` or $AWS_REGION (default us-east-1); credentials from the SDK's usual
 * chain ($AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY, ~/.aws, instance roles). An S3 PUT is atomic.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NstError } from '../errors';
import { errorReason, Storage, StorageError } from './types';

export interface S3Location {
  bucket: string;
  prefix: string;
  endpoint?: string;
  region: string;
}

export function parseS3Url(spec: string): S3Location {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new NstError(`--storage: '${spec}' is not an s3://BUCKET/PREFIX address`);
  }
  const bucket = url.hostname;
  if (url.protocol !== 's3:' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new NstError(`--storage: '${spec}' is not an s3://BUCKET/PREFIX address (bucket names are 3-63 lower-case letters, digits, dots, dashes)`);
  }
  const prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  const endpoint = url.searchParams.get('endpoint') ?? (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined);
  if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) throw new NstError(`--storage: the S3 endpoint must be an http(s) URL (got '${endpoint}')`);
  const region = url.searchParams.get('region') ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1');
  return { bucket, prefix: prefix ? `${prefix}/` : '', endpoint, region };
}

export class S3Storage implements Storage {
  private readonly client: S3Client;

  constructor(readonly location: S3Location) {
    this.client = new S3Client({
      region: location.region,
      endpoint: location.endpoint,
      forcePathStyle: location.endpoint !== undefined,
      // Plain Content-MD5-free PUTs: accepted by every S3-compatible store, not only AWS.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  get description(): string {
    return `s3://${this.location.bucket}/${this.location.prefix}`;
  }

  private key(key: string): string {
    return this.location.prefix + key;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.location.bucket, Key: this.key(key), Body: data }));
    } catch (err) {
      throw new StorageError(this.description, 'write', key, err);
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.key(key) }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404) return null;
      throw new StorageError(this.description, 'read', key, err);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    try {
      let token: string | undefined;
      do {
        const list = await this.client.send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: this.key(prefix), ContinuationToken: token }));
        for (const o of list.Contents ?? []) keys.push(o.Key!.slice(this.location.prefix.length));
        token = list.IsTruncated ? list.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw new StorageError(this.description, 'list', prefix, err);
    }
    return keys;
  }

  async removePrefix(prefix: string): Promise<void> {
    try {
      let token: string | undefined;
      do {
        const list = await this.client.send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: this.key(prefix), ContinuationToken: token }));
        const objects = (list.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (objects.length > 0) await this.client.send(new DeleteObjectsCommand({ Bucket: this.location.bucket, Delete: { Objects: objects, Quiet: true } }));
        token = list.IsTruncated ? list.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw new StorageError(this.description, 'remove', prefix, err);
    }
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket }));
      const probe = `.nst-probe-${process.pid}`;
      await this.put(probe, Buffer.from('ok'));
      await this.removePrefix(probe);
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = e?.$metadata?.httpStatusCode;
      const why = status === 404 ? 'no such bucket' : status === 403 ? 'access denied' : e instanceof StorageError ? e.reason : errorReason(e);
      throw new NstError(`the storage ${this.description}${this.location.endpoint ? ` at ${this.location.endpoint}` : ''} is not usable: ${why}`);
    }
  }

  close(): void {
    this.client.destroy();
  }
}
