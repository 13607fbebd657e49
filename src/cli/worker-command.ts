/** `nst worker`: takes jobs from the BullMQ queue of `nst serve --queue` (src/queue) until Ctrl-C. */
import type { DeviceName } from '../engine/device';
import { Command } from 'commander';
import type { PrecisionOption } from '../engine/runtime';
import { startQueueWorker, WORKER_DEFAULTS } from '../queue';
import { openStorage } from '../storage';
import { parseDevice, parseInteger, parseNumber, precisionOption } from './parse';
import { checkLockTimeout, queueAddress, REDIS_PASSWORD_HELP } from './queue-options';
import { NstError } from '../errors';

interface WorkerCommandOptions {
  queue?: string;
  redisPasswordFile?: string;
  storage: string;
  concurrency: number;
  threads?: number;
  device?: DeviceName;
  precision: PrecisionOption;
  modelDir?: string;
  lockTimeout: number;
  name?: string;
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('process jobs from the queue of `nst serve --queue` (on this or another machine)')
    .option('--queue <url>', 'the Redis of the queue: redis://HOST:PORT (default: $NST_QUEUE)')
    .option('--redis-password-file <file>', REDIS_PASSWORD_HELP)
    .requiredOption('--storage <dir|s3://bucket/prefix>', "where job images are: the API server's --storage (or its data directory)")
    .option('--concurrency <n>', 'jobs run at once', parseInteger('concurrency'), WORKER_DEFAULTS.concurrency)
    .option('--threads <n>', 'compute threads per job (default: cores / concurrency)', parseInteger('threads'))
    .option('--device <name>', 'cpu, cuda or cuda:N', parseDevice)
    .addOption(precisionOption('compute precision of the jobs'))
    .option('--model-dir <dir>', 'directory of vgg19/ and fast-style/ (default: $NST_MODEL_DIR, ./models, ../shared/models)')
    .option('--lock-timeout <s>', "seconds before a silent worker's job goes to another worker", parseNumber('lock-timeout'), WORKER_DEFAULTS.lockSeconds)
    .option('--name <name>', 'name shown in job reports and /api/health (default: host:pid)')
    .action(async (opts: WorkerCommandOptions) => {
      if (opts.concurrency < 1) throw new NstError(`--concurrency must be a positive integer (got ${opts.concurrency})`);
      if (opts.threads !== undefined && opts.threads < 1) throw new NstError(`--threads must be a positive integer (got ${opts.threads})`);
      if (opts.device !== undefined && opts.device !== 'cpu' && opts.device !== 'cuda') throw new NstError(`unknown device '${opts.device}' (expected cpu or cuda)`);
      checkLockTimeout(opts.lockTimeout);
      const queue = queueAddress(opts, (m) => process.stderr.write(`nst worker: warning: ${m}\n`));
      if (!queue) throw new NstError("required option '--queue <url>' not specified (or set $NST_QUEUE)");
      const worker = await startQueueWorker({
        queue,
        storage: openStorage(opts.storage),
        concurrency: opts.concurrency,
        threads: opts.threads,
        device: opts.device,
        precision: opts.precision,
        modelDir: opts.modelDir,
        lockSeconds: opts.lockTimeout,
        name: opts.name,
        log: {
          info: (m) => process.stderr.write(`nst worker: ${m}\n`),
          error: (m) => process.stderr.write(`nst worker: error: ${m}\n`),
        },
      });
      process.stdout.write(`nst: worker ${worker.name} ready\n`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = () => {
          if (stopping) process.exit(130);
          stopping = true;
          process.stderr.write(`nst worker: stopping (${worker.busy} running job${worker.busy === 1 ? '' : 's'} save their image and go back to the queue; Ctrl-C again to quit now)\n`);
          worker.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
