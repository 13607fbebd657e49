/**
 * The data directory's layout:
 *   jobs.db                 job records (SQLite)
 *   jobs/<id>/              one folder per job, named by its id (16 hex digits) only:
 *     content.<ext>, style.<ext>   the inputs as uploaded (or copied from a sample)
 *     checkpoint.png        last raw image of a running optimisation (what a resume starts from)
 *     preview.jpg           last preview as shown
 *     final.png             raw output of the method
 *     result.<ext>          the result
 *     report.json           settings, timings, losses and the loss history
 *   uploads/                uploads being received (streamed to disk), moved into a job's folder
 *                           once the job is created; whatever is left here at start is swept
 * Every file is written atomically (temporary file in the same folder, fsync, rename).
 */
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../util/atomic-write';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const JOB_ID_PATTERN = /^[0-9a-f]{16}$/;

export function newJobId(): string {
  return randomBytes(8).toString('hex');
}

export class JobFiles {
  readonly jobsDir: string;
  readonly uploadsDir: string;

  constructor(readonly dataDir: string) {
    this.jobsDir = path.join(dataDir, 'jobs');
    this.uploadsDir = path.join(dataDir, 'uploads');
    fs.mkdirSync(this.jobsDir, { recursive: true });
    fs.mkdirSync(this.uploadsDir, { recursive: true });
  }

  get databaseFile(): string {
    return path.join(this.dataDir, 'jobs.db');
  }

  /** The folder of a job; throws on anything but a well-formed id (no path ever comes from a client). */
  dir(id: string): string {
    if (!JOB_ID_PATTERN.test(id)) throw new Error(`invalid job id ${JSON.stringify(id)}`);
    return path.join(this.jobsDir, id);
  }

  file(id: string, name: string): string {
    if (!/^[a-z]+(\.[a-z0-9]+)?$/.test(name)) throw new Error(`invalid job file name ${JSON.stringify(name)}`);
    return path.join(this.dir(id), name);
  }

  exists(id: string, name: string): boolean {
    return fs.statSync(this.file(id, name), { throwIfNoEntry: false })?.isFile() ?? false;
  }

  create(id: string): string {
    const dir = this.dir(id);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  async write(id: string, name: string, data: Buffer | string): Promise<void> {
    await writeAtomic(this.file(id, name), data);
  }

  /** Moves a received upload (a file in uploadsDir) into a job's folder, durably. */
  async adopt(id: string, name: string, upload: string): Promise<void> {
    const fh = await fs.promises.open(upload, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(upload, this.file(id, name));
  }

  /** Empties uploadsDir (uploads a crash interrupted). */
  async sweepUploads(): Promise<void> {
    for (const f of await fs.promises.readdir(this.uploadsDir).catch(() => [] as string[])) {
      await fs.promises.rm(path.join(this.uploadsDir, f), { force: true }).catch(() => undefined);
    }
  }

  async remove(id: string): Promise<void> {
    // Retries: a report or preview may still be landing in the folder while it is removed.
    await fs.promises.rm(this.dir(id), { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  }
}

/** Atomic write (temp file + fsync + rename), shared with the rest of the project. */
export const writeAtomic = writeFileAtomic;
