/**
 * Job records in an embedded SQLite database (better-sqlite3, WAL journal): a record survives a
 * crash of the server as soon as the call that wrote it returns. Images live beside it in the
 * data directory (see job-files.ts); the database holds everything else.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { isDiskFull } from './disk-full';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'];
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);

export interface InputInfo {
  /** The uploaded file's name (as the client sent it, for display) or the sample id. */
  name: string;
  source: 'upload' | 'sample';
  /** File name inside the job directory. */
  file: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  /** A video input: what ffprobe said of it at upload. */
  video?: VideoInputInfo;
}

export interface VideoInputInfo {
  seconds: number;
  /** ffmpeg's rational, e.g. "30000/1001". */
  frameRate: string;
  frames: number;
  hasAudio: boolean;
  codec: string;
}

export interface LossValues {
  content: number;
  style: number;
  tv: number;
  total: number;
}

export interface JobProgress {
  /** Jobs that fit a painting first: 'fitting' (iteration = loss evaluations), then 'painting'. */
  phase?: 'fitting' | 'painting';
  iteration: number;
  iterations: number;
  losses?: LossValues;
  elapsedSeconds: number;
  etaSeconds: number;
  iterationsPerSecond: number;
  /** What iteration counts: 'frames' for a video job (frame done of frames); absent: optimisation steps. */
  unit?: 'frames';
}

/** [iteration, content, style, tv, total] */
export type LossPoint = [number, number, number, number, number];

export interface JobResultInfo {
  /** File name of the result inside the job directory. */
  file: string;
  width: number;
  height: number;
  /** Iterations run in total (across resumes); 1 for the fast method. */
  iterations: number;
  /** Compute seconds, summed across resumes. */
  seconds: number;
  losses?: LossValues;
  /** Method-specific details (seed, precision, threads, device, model…). */
  details: Record<string, unknown>;
  /** True when the image is the last saved one of an interrupted or cancelled run. */
  partial: boolean;
  /** A video result: its first painted frame (JPEG), the gallery's still. */
  poster?: string;
}

export interface JobRecord {
  id: string;
  seq: number;
  method: string;
  status: JobStatus;
  params: Record<string, unknown>;
  inputs: Record<string, InputInfo>;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: JobProgress | null;
  /** Iteration of the last image saved for a resume (checkpoint.png), if any. */
  checkpointIteration: number | null;
  /** One entry per restart that resumed the job. */
  resumes: { at: string; fromIteration: number; worker?: string }[];
  history: LossPoint[];
  error: string | null;
  result: JobResultInfo | null;
}

type Row = Record<string, unknown>;
const JSON_COLUMNS = ['params', 'inputs', 'progress', 'resumes', 'history', 'result'] as const;
const COLUMN: Record<string, string> = {
  method: 'method',
  status: 'status',
  params: 'params',
  inputs: 'inputs',
  createdAt: 'created_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  progress: 'progress',
  checkpointIteration: 'checkpoint_iteration',
  resumes: 'resumes',
  history: 'history',
  error: 'error',
  result: 'result',
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  method TEXT NOT NULL,
  status TEXT NOT NULL,
  params TEXT NOT NULL,
  inputs TEXT NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  progress TEXT,
  checkpoint_iteration INTEGER,
  resumes TEXT NOT NULL DEFAULT '[]',
  history TEXT NOT NULL DEFAULT '[]',
  error TEXT,
  result TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, seq);
`;

export class JobStore {
  private readonly db: Database.Database;
  /**
   * Deleted jobs whose row a full disk kept in the database (SQLite needs room in its journal to
   * delete): nothing here returns them, and retryDeletes() drops them once there is room.
   */
  private readonly deleted = new Set<string>();

  constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // With WAL, NORMAL is durable against a crash of the process (not of the machine).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > 1) throw new Error(`${file} was written by a newer version of nst (schema ${version})`);
    if (version === 0) this.db.pragma('user_version = 1');
  }

  insert(job: Omit<JobRecord, 'seq'>): JobRecord {
    const info = this.db
      .prepare(
        `INSERT INTO jobs (id, method, status, params, inputs, created_at, started_at, finished_at, progress,
           checkpoint_iteration, resumes, history, error, result)
         VALUES (@id, @method, @status, @params, @inputs, @createdAt, @startedAt, @finishedAt, @progress,
           @checkpointIteration, @resumes, @history, @error, @result)`,
      )
      .run(toParams(job));
    return { ...job, seq: Number(info.lastInsertRowid) };
  }

  get(id: string): JobRecord | undefined {
    if (this.deleted.has(id)) return undefined;
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Newest first. */
  list(filter: { status?: JobStatus; method?: string; limit: number; offset: number }): { jobs: JobRecord[]; total: number } {
    const hidden = this.hidden();
    const where: string[] = hidden.clause ? [hidden.clause] : [];
    const args: unknown[] = [...hidden.args];
    if (filter.status) {
      where.push('status = ?');
      args.push(filter.status);
    }
    if (filter.method) {
      where.push('method = ?');
      args.push(filter.method);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM jobs ${clause}`).get(...args) as { n: number }).n;
    const rows = this.db.prepare(`SELECT * FROM jobs ${clause} ORDER BY seq DESC LIMIT ? OFFSET ?`).all(...args, filter.limit, filter.offset) as Row[];
    return { jobs: rows.map(fromRow), total };
  }

  /** Oldest first. */
  withStatus(statuses: JobStatus[]): JobRecord[] {
    const marks = statuses.map(() => '?').join(',');
    const hidden = this.hidden(' AND ');
    return (this.db.prepare(`SELECT * FROM jobs WHERE status IN (${marks})${hidden.clause} ORDER BY seq`).all(...statuses, ...hidden.args) as Row[]).map(fromRow);
  }

  /** Every job's id. */
  ids(): string[] {
    return (this.db.prepare('SELECT id FROM jobs').pluck().all() as string[]).filter((id) => !this.deleted.has(id));
  }

  countWithStatus(status: JobStatus): number {
    const hidden = this.hidden(' AND ');
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE status = ?${hidden.clause}`).get(status, ...hidden.args) as { n: number }).n;
  }

  update(id: string, patch: Partial<Omit<JobRecord, 'id' | 'seq'>>): JobRecord | undefined {
    const keys = Object.keys(patch).filter((k) => k in COLUMN);
    if (keys.length > 0) {
      const sets = keys.map((k) => `${COLUMN[k]} = @${k}`).join(', ');
      const params = toParams(patch as Partial<JobRecord>);
      const bound = Object.fromEntries(keys.map((k) => [k, params[k]]));
      this.db.prepare(`UPDATE jobs SET ${sets} WHERE id = @id`).run({ ...bound, id });
    }
    return this.get(id);
  }

  /** Removes a job's record; on a full disk it is gone for every reader at once, and from the file on retryDeletes(). */
  delete(id: string): boolean {
    if (this.deleted.has(id)) return false;
    try {
      return this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id).changes > 0;
    } catch (err) {
      if (!isDiskFull(err) || !this.db.prepare('SELECT 1 FROM jobs WHERE id = ?').get(id)) throw err;
      this.deleted.add(id);
      return true;
    }
  }

  /** Deletions a full disk held back. */
  get pendingDeletes(): number {
    return this.deleted.size;
  }

  /** Drops the rows of deletions a full disk held back, as far as there is room now. */
  retryDeletes(): void {
    for (const id of this.deleted) {
      try {
        this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
        this.deleted.delete(id);
      } catch {
        return;
      }
    }
  }

  /** The SQL condition that leaves out deletions a full disk held back. */
  private hidden(prefix = ''): { clause: string; args: string[] } {
    if (this.deleted.size === 0) return { clause: '', args: [] };
    const args = [...this.deleted];
    return { clause: `${prefix}id NOT IN (${args.map(() => '?').join(',')})`, args };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toParams(job: Partial<JobRecord>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...job };
  for (const k of JSON_COLUMNS) if (k in out) out[k] = out[k] === null || out[k] === undefined ? null : JSON.stringify(out[k]);
  for (const k of ['startedAt', 'finishedAt', 'progress', 'checkpointIteration', 'error', 'result']) if (k in out && out[k] === undefined) out[k] = null;
  return out;
}

function fromRow(row: Row): JobRecord {
  const parse = <T>(v: unknown, fallback: T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : fallback);
  return {
    id: row.id as string,
    seq: row.seq as number,
    method: row.method as string,
    status: row.status as JobStatus,
    params: parse(row.params, {}),
    inputs: parse(row.inputs, {}),
    createdAt: row.created_at as string,
    startedAt: (row.started_at as string | null) ?? null,
    finishedAt: (row.finished_at as string | null) ?? null,
    progress: parse(row.progress, null),
    checkpointIteration: (row.checkpoint_iteration as number | null) ?? null,
    resumes: parse(row.resumes, []),
    history: parse(row.history, []),
    error: (row.error as string | null) ?? null,
    result: parse(row.result, null),
  };
}
