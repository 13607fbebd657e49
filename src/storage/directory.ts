/**
 * Storage in a directory: a local disk for workers on this machine, or a shared file system (NFS,
 * SMB, a mounted volume) for workers on several. Writes are atomic (temp file + rename).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NstError } from '../errors';
import { writeFileAtomic } from '../util/atomic-write';
import { Storage, StorageError } from './types';

export class DirectoryStorage implements Storage {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  get description(): string {
    return this.root;
  }

  localPath(key: string): string {
    const parts = key.split('/').filter((p) => p.length > 0);
    if (parts.length === 0 || parts.some((p) => p === '.' || p === '..' || p.includes('\\'))) throw new Error(`invalid storage key ${JSON.stringify(key)}`);
    return path.join(this.root, ...parts);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const file = this.localPath(key);
    try {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, data);
    } catch (err) {
      throw new StorageError(this.description, 'write', key, err);
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await fs.promises.readFile(this.localPath(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StorageError(this.description, 'read', key, err);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const root = this.localPath(prefix);
    try {
      const entries = await fs.promises.readdir(root, { recursive: true, withFileTypes: true });
      // Half-written files (atomic writes: dot-named temporaries) are not objects yet.
      return entries
        .filter((e) => e.isFile() && !e.name.startsWith('.'))
        .map((e) => path.relative(this.root, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).split(path.sep).join('/'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StorageError(this.description, 'list', prefix, err);
    }
  }

  async removePrefix(prefix: string): Promise<void> {
    // Prefixes used here are folders (`jobs/<id>/`).
    const target = this.localPath(prefix);
    try {
      await fs.promises.rm(target, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    } catch (err) {
      throw new StorageError(this.description, 'remove', prefix, err);
    }
  }

  async check(): Promise<void> {
    const key = `.nst-probe-${process.pid}`;
    try {
      await fs.promises.mkdir(this.root, { recursive: true });
      await this.put(key, Buffer.from('ok'));
      await fs.promises.rm(this.localPath(key), { force: true });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new NstError(`the storage directory ${this.root} is not writable: ${e instanceof StorageError ? e.reason : (e.code ?? e.message)}`);
    }
  }
}
