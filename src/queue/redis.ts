/**
 * Redis connections of the queue. `redis://[user:password@]HOST:PORT[/DB]` (or rediss:// for TLS).
 * The first connection is checked at once, so a wrong address is one line and exit code 2 rather
 * than a process that waits forever; later drops are retried in the background.
 */
import IORedis, { RedisOptions } from 'ioredis';
import { NstError } from '../errors';

export function checkRedisUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new NstError(`--queue: '${url}' is not a redis://HOST:PORT address`);
  }
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname) throw new NstError(`--queue: '${url}' is not a redis://HOST:PORT address`);
  if (u.port && (Number(u.port) < 1 || Number(u.port) > 65535)) throw new NstError(`--queue: bad port in '${url}'`);
  if (u.pathname && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname)) throw new NstError(`--queue: the database in '${url}' must be a number (redis://HOST:PORT/DB)`);
  return u;
}

/** The address without its password, for logs and the health report. */
export function redactRedisUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString().replace(/\/$/, '');
}

/**
 * A connection for BullMQ. `blocking` ones (workers) retry commands forever across reconnects;
 * the others fail a command at once while Redis is away, so the API can answer 503 instead of
 * hanging.
 */
export function redisConnection(url: string, options: { blocking: boolean; name?: string }): IORedis {
  const extra: RedisOptions = options.blocking
    ? { maxRetriesPerRequest: null }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false };
  return new IORedis(url, {
    connectionName: options.name,
    connectTimeout: 5000,
    // Keep trying while Redis is away (restart, failover), at most every 2 s.
    retryStrategy: (times) => Math.min(200 * times, 2000),
    lazyConnect: true,
    ...extra,
  });
}

/** Connects and checks the server (reachable, Redis ≥ 6.2 as BullMQ needs); one-line NstError otherwise. */
export async function connectChecked(client: IORedis, url: string): Promise<void> {
  const where = redactRedisUrl(url);
  let lastError = '';
  client.on('error', (err: Error) => (lastError = String((err as NodeJS.ErrnoException).code ?? err.message)));
  try {
    await withTimeout(client.connect(), 6000);
    const info = await withTimeout(client.info('server'), 5000);
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (version && (Number(version[1]) < 6 || (Number(version[1]) === 6 && Number(version[2]) < 2))) {
      throw new NstError(`Redis at ${where} is version ${version[1]}.${version[2]}; the queue needs Redis 6.2 or newer`);
    }
  } catch (err) {
    client.disconnect();
    if (err instanceof NstError) throw err;
    const why = lastError || String((err as Error)?.message ?? err).split('\n')[0];
    throw new NstError(`cannot reach Redis at ${where}: ${why}`);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms))),
  ]);
}
