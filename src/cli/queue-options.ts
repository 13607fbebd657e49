/** The scale-out options of `nst serve` (--queue, --storage, --role, --lock-timeout), turned into a queue; the Redis address and password of `nst serve` and `nst worker`. */
import type { DeviceName } from '../engine/device';
import type { PrecisionOption } from '../engine/runtime';
import { NstError } from '../errors';
import { BullJobQueue, checkRedisUrl } from '../queue';
import { resolveServeOptions } from '../server';
import { readSecretFile } from '../server/config';
import { openStorage } from '../storage';

export const QUEUE_ROLES = ['all', 'api'] as const;
export type QueueRole = (typeof QUEUE_ROLES)[number];

export interface QueueCommandOptions {
  queue?: string;
  storage?: string;
  role: QueueRole;
  lockTimeout?: number;
  dataDir?: string;
  workers: number;
  threads?: number;
  device?: DeviceName;
  precision?: PrecisionOption;
  modelDir?: string;
  maxPixels: number;
}

/** Help text of the password options, shared by both commands. */
export const REDIS_PASSWORD_HELP = 'read the Redis password from the first line of a file (default: $NST_REDIS_PASSWORD_FILE; or give it in $NST_REDIS_PASSWORD), so it is not in the --queue address that ps shows';

/**
 * The queue's Redis address with its password: --queue (default $NST_QUEUE), the password from
 * --redis-password-file ($NST_REDIS_PASSWORD_FILE) or $NST_REDIS_PASSWORD, none of which `ps`
 * shows. Undefined without an address.
 */
export function queueAddress(opts: { queue?: string; redisPasswordFile?: string }, warn: (message: string) => void): string | undefined {
  const url = opts.queue ?? (process.env.NST_QUEUE || undefined);
  if (!url) {
    if (opts.redisPasswordFile !== undefined) throw new NstError('--redis-password-file needs --queue');
    return undefined;
  }
  const file = opts.redisPasswordFile ?? (process.env.NST_REDIS_PASSWORD_FILE || undefined);
  let password = process.env.NST_REDIS_PASSWORD || undefined;
  if (file !== undefined) {
    const read = readSecretFile(file, 'Redis password');
    if (read.warning) warn(read.warning);
    password = read.secret;
  }
  if (password === undefined) return url;
  const address = checkRedisUrl(url);
  if (address.password) throw new NstError('the Redis password is given twice: in the --queue address and by --redis-password-file or $NST_REDIS_PASSWORD');
  address.password = encodeURIComponent(password);
  return address.toString();
}

export function checkLockTimeout(seconds: number | undefined): void {
  if (seconds !== undefined && !(seconds >= 1 && seconds <= 3600)) throw new NstError(`--lock-timeout must be from 1 to 3600 seconds (got ${seconds})`);
}

/** The BullMQ queue `nst serve` hands jobs to, or undefined for the embedded queue. */
export async function openServeQueue(opts: QueueCommandOptions, log: { info(m: string): void; error(m: string): void }): Promise<BullJobQueue | undefined> {
  if (!opts.queue) {
    if (opts.storage !== undefined) throw new NstError('--storage needs --queue (the embedded queue keeps images in the data directory)');
    if (opts.role !== 'all') throw new NstError('--role api needs --queue (without it this server is the only worker)');
    if (opts.lockTimeout !== undefined) throw new NstError('--lock-timeout needs --queue');
    return undefined;
  }
  checkLockTimeout(opts.lockTimeout);
  // The jobs run on the workers, each with its own --precision.
  if (opts.role === 'api' && opts.precision !== undefined && opts.precision !== 'auto') {
    throw new NstError(`--precision ${opts.precision} has no effect with --role api: give it to each nst worker`);
  }
  const resolved = resolveServeOptions({ dataDir: opts.dataDir, workers: opts.workers, threads: opts.threads });
  const storage = openStorage(opts.storage ?? resolved.dataDir);
  return BullJobQueue.open({
    url: opts.queue,
    storage,
    maxPixels: opts.maxPixels,
    modelDir: opts.modelDir,
    localWorker:
      opts.role === 'all'
        ? {
            concurrency: resolved.workers,
            threads: resolved.threads,
            device: opts.device,
            precision: opts.precision,
            modelDir: opts.modelDir,
            lockSeconds: opts.lockTimeout,
            log: { info: (m) => log.info(`worker: ${m}`), error: (m) => log.error(`worker: ${m}`) },
          }
        : undefined,
  });
}
