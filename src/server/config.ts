/**
 * Settings of `nst serve` and their defaults: where it listens, where it keeps jobs, how many jobs
 * run at once, and the limits on what clients may send. Validation turns every problem into a
 * one-line NstError before anything starts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NstError } from '../errors';
import { checkDeviceName, DeviceName } from '../engine/device';
import { PRECISION_OPTIONS, PrecisionOption } from '../engine/runtime';
import { DEFAULT_MAX_PIXELS } from '../image';
import { VIDEO_DEFAULTS } from '../video/options';
import { defaultMaxMemory, parseMemorySize } from '../transfer/tiling/memory-size';

export interface ServeOptions {
  /** Interface to listen on. Default 127.0.0.1 (this machine only). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Where job records (SQLite) and images live. Default $NST_DATA_DIR or ~/.local/share/nst. */
  dataDir?: string;
  /** Jobs computed at once. Default 1. */
  workers?: number;
  /** Compute threads per job. Default: the cores divided among the workers. */
  threads?: number;
  /** Bearer token required on every request (also accepted as ?token= once, then a cookie). */
  token?: string;
  /** Allow binding to a non-loopback interface without a token. */
  insecure?: boolean;
  /** Directory of VGG19 and fast-style models (default: the model directory search order). */
  modelDir?: string;
  /** Directory of sample images (content/ and style/); default: see samples.ts. */
  samplesDir?: string;
  /** Largest accepted upload, bytes. Default 20 MiB. */
  maxUploadBytes?: number;
  /** Uploads received at once; more wait for a slot (up to uploadSlotWaitMs, then 503). Default 4. */
  maxConcurrentUploads?: number;
  /** Uploads one client (remote address) may send at once; its others wait. Default: half the slots, rounded up. */
  maxUploadsPerClient?: number;
  /** How long an upload waits for a slot before it is answered 503 (429 when its own client holds its share). Default 30 s. */
  uploadSlotWaitMs?: number;
  /** Slowest accepted upload, bytes per second, measured over any uploadRateWindowMs (a sliding window); slower ones are cut (408). Default 1024. */
  minUploadBytesPerSecond?: number;
  /** The window of that measure. Default 10 s. */
  uploadRateWindowMs?: number;
  /** Longest an upload's body may take, once it has a slot (408 after). Default 5 min. */
  uploadTimeoutMs?: number;
  /** Longest a request's headers may take (Node answers 408 and closes). Default 20 s. */
  headersTimeoutMs?: number;
  /** Largest accepted image, decoded pixels (decompression bombs). */
  maxPixels?: number;
  /** Largest accepted video upload, bytes (may exceed maxUploadBytes, which then bounds images only). Default: maxUploadBytes. */
  maxVideoBytes?: number;
  /** Longest accepted video, seconds. Default 20. */
  maxVideoSeconds?: number;
  /** Largest accepted video frame, pixels (width × height as stored). Default 1920×1080. */
  maxVideoPixels?: number;
  /** Most frames a video may have (counted at upload; its job paints at most this many). Default 9000. */
  maxVideoFrames?: number;
  /** Largest output side a job may ask for. Default 4096 (a print; stages over the memory budget run in tiles). */
  maxSize?: number;
  /** Memory budget of each job, bytes or a size such as '6GB' (stages over it run in tiles). Default: 75 % of the machine's memory shared among the workers. */
  maxMemory?: number | string;
  /** Most iterations an optimisation job may ask for. Default 3000. */
  maxIterations?: number;
  /** Most jobs waiting in the queue; more are refused with 503. Default 500. */
  maxQueued?: number;
  /** On start, resume jobs a crash interrupted from their last saved image (default), or mark them interrupted. */
  resume?: boolean;
  /** Compute device of the jobs. */
  device?: DeviceName;
  /** Compute precision of the jobs: auto (bf16 where the CPU has bf16 instructions), fp32 or bf16. */
  precision?: PrecisionOption;
  /** Log each request (pino, to stdout). Default false. */
  logRequests?: boolean;
  /** Fitting an uploaded painting: photo size per stage (default: the fit defaults, 128 then 256). */
  fitSizes?: number[];
  /** Fitting an uploaded painting: loss evaluations per stage (default 60 then 40). */
  fitEvaluations?: number[];
  /** Fitting an uploaded painting: the training photos (default ../shared/datasets/photos). */
  fitPhotos?: string;
}

type OptionalSettings = 'maxMemory' | 'token' | 'modelDir' | 'samplesDir' | 'device' | 'precision' | 'fitSizes' | 'fitEvaluations' | 'fitPhotos' | 'maxVideoBytes' | 'maxUploadsPerClient';
export type ResolvedServeOptions = Required<Omit<ServeOptions, OptionalSettings>> & { maxVideoBytes: number; maxUploadsPerClient: number; maxMemory: number } & Pick<ServeOptions, Exclude<OptionalSettings, 'maxVideoBytes' | 'maxUploadsPerClient' | 'maxMemory'>>;

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  workers: 1,
  insecure: false,
  maxUploadBytes: 20 * 1024 * 1024,
  maxConcurrentUploads: 4,
  uploadSlotWaitMs: 30_000,
  // 100 bytes/s clients held every slot for minutes; a phone on a poor link still sends far more.
  minUploadBytesPerSecond: 1024,
  uploadRateWindowMs: 10_000,
  uploadTimeoutMs: 5 * 60_000,
  headersTimeoutMs: 20_000,
  maxPixels: DEFAULT_MAX_PIXELS,
  maxVideoSeconds: 20,
  maxVideoPixels: 1920 * 1080,
  maxVideoFrames: VIDEO_DEFAULTS.maxFrames,
  maxSize: 4096,
  maxIterations: 3000,
  maxQueued: 500,
  resume: true,
  logRequests: false,
};

export function defaultDataDir(): string {
  if (process.env.NST_DATA_DIR) return path.resolve(process.env.NST_DATA_DIR);
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'nst');
}

/** Whether `host` only reaches this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

export function resolveServeOptions(options: ServeOptions = {}): ResolvedServeOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ServeOptions;
  const o = { ...SERVE_DEFAULTS, ...defined };
  if (!o.host || /\s/.test(o.host)) throw new NstError(`--host must be a host name or address (got '${o.host}')`);
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new NstError(`--port must be an integer from 0 to 65535 (got ${o.port})`);
  positiveInt(o.workers, 'workers');
  if (o.threads !== undefined) positiveInt(o.threads, 'threads');
  positiveInt(o.maxUploadBytes, 'max-upload-bytes');
  positiveInt(o.maxConcurrentUploads, 'max-concurrent-uploads');
  const maxUploadsPerClient = o.maxUploadsPerClient ?? Math.ceil(o.maxConcurrentUploads / 2);
  positiveInt(maxUploadsPerClient, 'max-uploads-per-client');
  positiveInt(o.uploadSlotWaitMs, 'upload-slot-wait-ms');
  positiveInt(o.minUploadBytesPerSecond, 'min-upload-rate');
  positiveInt(o.uploadRateWindowMs, 'upload-rate-window-ms');
  positiveInt(o.uploadTimeoutMs, 'upload-timeout');
  positiveInt(o.headersTimeoutMs, 'headers-timeout-ms');
  positiveInt(o.maxPixels, 'max-pixels');
  const maxVideoBytes = o.maxVideoBytes ?? o.maxUploadBytes;
  positiveInt(maxVideoBytes, 'max-video-bytes');
  if (!(o.maxVideoSeconds > 0 && Number.isFinite(o.maxVideoSeconds))) throw new NstError(`--max-video-seconds must be a positive number (got ${o.maxVideoSeconds})`);
  positiveInt(o.maxVideoPixels, 'max-video-pixels');
  positiveInt(o.maxVideoFrames, 'max-video-frames');
  positiveInt(o.maxSize, 'max-size');
  if (o.maxSize < 32) throw new NstError(`--max-size must be at least 32 (got ${o.maxSize})`);
  positiveInt(o.maxIterations, 'max-iterations');
  positiveInt(o.maxQueued, 'max-queued');
  if (o.token !== undefined) {
    if (o.token.length < 8) throw new NstError('--token must be at least 8 characters long');
    if (!/^[\x21-\x7e]+$/.test(o.token)) throw new NstError('--token must be printable ASCII without spaces');
  }
  if (!isLoopbackHost(o.host) && o.token === undefined && !o.insecure) {
    throw new NstError(
      `listening on '${o.host}' exposes the server beyond this machine: pass --token <secret> (clients then send 'Authorization: Bearer <secret>') or --insecure`,
    );
  }
  if (o.device !== undefined) checkDeviceName(o.device);
  if (o.precision !== undefined && !PRECISION_OPTIONS.includes(o.precision)) throw new NstError(`--precision must be one of ${PRECISION_OPTIONS.join(', ')} (got '${o.precision}')`);
  checkFitStages(o.fitSizes, o.fitEvaluations);
  const threads = o.threads ?? Math.max(1, Math.floor(os.availableParallelism() / o.workers));
  // Jobs that run at once share the machine's memory: each gets its part of the budget.
  const maxMemory = o.maxMemory === undefined ? Math.floor(defaultMaxMemory() / o.workers) : parseMemorySize(o.maxMemory);
  return { ...o, threads, maxMemory, maxVideoBytes, maxUploadsPerClient, dataDir: path.resolve(o.dataDir ?? defaultDataDir()) } as ResolvedServeOptions;
}

/**
 * Reads a token from a file (`--token-file`, $NST_TOKEN_FILE): the first line, trimmed. A token
 * in a file (or in $NST_TOKEN) does not show in `ps` the way `--token <secret>` does.
 */
export function readTokenFile(file: string): { token: string; warning?: string } {
  const { secret, warning } = readSecretFile(file, 'token');
  return { token: secret, warning };
}

/** The first line of a file holding a secret (`what`: "token", "Redis password"), trimmed; warns when others can read it. */
export function readSecretFile(file: string, what: string): { secret: string; warning?: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String((err as Error).message).split('\n')[0];
    throw new NstError(`cannot read the ${what} file ${file}: ${why}`);
  }
  const secret = text.split(/\r?\n/)[0].trim();
  if (!secret) throw new NstError(`the ${what} file ${file} is empty`);
  const mode = fs.statSync(file).mode;
  const warning = mode & 0o077 ? `the ${what} file ${file} can be read by other users (chmod 600 ${file})` : undefined;
  return { secret, warning };
}

/** Sizes: multiples of 4, at least 32; as many evaluation counts as sizes when both are given. */
function checkFitStages(sizes: number[] | undefined, evaluations: number[] | undefined): void {
  for (const s of sizes ?? []) {
    if (!Number.isInteger(s) || s < 32 || s % 4 !== 0) throw new NstError(`--fit-sizes must be multiples of 4, at least 32 (got ${s})`);
  }
  for (const e of evaluations ?? []) positiveInt(e, 'fit-evaluations');
  if (sizes?.length === 0 || evaluations?.length === 0) throw new NstError('--fit-sizes and --fit-evaluations need at least one stage');
  if (sizes && evaluations && sizes.length !== evaluations.length) {
    throw new NstError(`--fit-sizes and --fit-evaluations need one value per stage (got ${sizes.length} and ${evaluations.length})`);
  }
  if (!sizes && evaluations && evaluations.length !== 2) throw new NstError('with --fit-evaluations for other than 2 stages, give --fit-sizes too');
}

function positiveInt(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 1) throw new NstError(`--${name} must be a positive integer (got ${v})`);
}
