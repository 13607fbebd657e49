/** `nst serve`: the web page and HTTP API (src/server), until Ctrl-C. */
import { Command } from 'commander';
import { NstError } from '../errors';
import { defaultDataDir, readTokenFile, SERVE_DEFAULTS, startServer } from '../server';
import { parseChoice, parseDevice, parseInteger, parseIntegerList, parseNumber, precisionOption } from './parse';
import { openServeQueue, queueAddress, QUEUE_ROLES, QueueRole, REDIS_PASSWORD_HELP } from './queue-options';
import { redactRedisUrl } from '../queue';
import type { DeviceName } from '../engine/device';
import type { PrecisionOption } from '../engine/runtime';

interface ServeCommandOptions {
  host: string;
  port: number;
  dataDir?: string;
  workers: number;
  threads?: number;
  token?: string;
  tokenFile?: string;
  insecure?: boolean;
  modelDir?: string;
  samplesDir?: string;
  maxUploadMb: number;
  maxConcurrentUploads: number;
  maxUploadsPerClient?: number;
  uploadTimeout: number;
  minUploadRate: number;
  maxVideoMb?: number;
  maxVideoSeconds: number;
  maxVideoPixels: number;
  maxVideoFrames: number;
  maxPixels: number;
  maxSize: number;
  maxMemory?: string;
  maxIterations: number;
  resume: boolean;
  device?: DeviceName;
  precision: PrecisionOption;
  logRequests?: boolean;
  queue?: string;
  redisPasswordFile?: string;
  storage?: string;
  role: QueueRole;
  lockTimeout?: number;
  fitSizes?: number[];
  fitEvaluations?: number[];
  fitPhotos?: string;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the web app and HTTP API: upload, watch it paint, keep every result')
    .option('--host <addr>', 'interface to listen on (other than loopback needs --token or --insecure)', SERVE_DEFAULTS.host)
    .option('--port <n>', 'TCP port (0: any free port)', parseInteger('port'), SERVE_DEFAULTS.port)
    .option('--data-dir <dir>', `where jobs and results are kept (default: $NST_DATA_DIR or ${defaultDataDir()})`)
    .option('--workers <n>', 'jobs computed at once', parseInteger('workers'), SERVE_DEFAULTS.workers)
    .option('--threads <n>', 'compute threads per job (default: cores / workers)', parseInteger('threads'))
    .option('--token <secret>', 'require Authorization: Bearer <secret> on every request (visible in ps: prefer $NST_TOKEN or --token-file)')
    .option('--token-file <file>', 'read the token from the first line of a file (default: $NST_TOKEN_FILE)')
    .option('--insecure', 'allow listening beyond this machine without a token')
    .option('--model-dir <dir>', 'directory of vgg19/ and fast-style/ (default: $NST_MODEL_DIR, ./models, ../shared/models)')
    .option('--samples-dir <dir>', 'directory of sample images, content/ and style/ (default: $NST_SAMPLES_DIR, ./samples, ../shared/images)')
    .option('--max-upload-mb <n>', 'largest accepted upload, MiB', parseInteger('max-upload-mb'), SERVE_DEFAULTS.maxUploadBytes / 1024 / 1024)
    .option('--max-concurrent-uploads <n>', 'uploads received at once (others wait for a slot)', parseInteger('max-concurrent-uploads'), SERVE_DEFAULTS.maxConcurrentUploads)
    .option('--max-uploads-per-client <n>', 'uploads one client address may send at once (default: half of --max-concurrent-uploads)', parseInteger('max-uploads-per-client'))
    .option('--upload-timeout <s>', 'longest an upload may take once received', parseNumber('upload-timeout'), SERVE_DEFAULTS.uploadTimeoutMs / 1000)
    .option('--min-upload-rate <bytes/s>', 'slower uploads (over 10 s) are cut off', parseInteger('min-upload-rate'), SERVE_DEFAULTS.minUploadBytesPerSecond)
    .option('--max-pixels <n>', 'largest accepted image, pixels', parseInteger('max-pixels'), SERVE_DEFAULTS.maxPixels)
    .option('--max-video-mb <n>', 'largest accepted video upload, MiB (default: --max-upload-mb)', parseInteger('max-video-mb'))
    .option('--max-video-seconds <s>', 'longest accepted video, seconds', parseNumber('max-video-seconds'), SERVE_DEFAULTS.maxVideoSeconds)
    .option('--max-video-pixels <n>', 'largest accepted video frame, pixels', parseInteger('max-video-pixels'), SERVE_DEFAULTS.maxVideoPixels)
    .option('--max-video-frames <n>', 'most frames an accepted video may have', parseInteger('max-video-frames'), SERVE_DEFAULTS.maxVideoFrames)
    .option('--max-size <px>', 'largest output side a job may ask for (prints: stages over --max-memory run in tiles)', parseInteger('max-size'), SERVE_DEFAULTS.maxSize)
    .option('--max-memory <size>', "each job's memory budget, e.g. 6GB (default: 75 % of the machine's memory shared among the workers)")
    .option('--max-iterations <n>', 'most iterations a job may ask for', parseInteger('max-iterations'), SERVE_DEFAULTS.maxIterations)
    .option('--no-resume', 'on start, mark jobs a crash interrupted as interrupted (keeping their last image) instead of resuming them')
    .option('--device <name>', 'cpu, cuda or cuda:N', parseDevice)
    .addOption(precisionOption('compute precision of the jobs'))
    .option('--log-requests', 'log every request to stdout')
    .option('--fit-sizes <list>', 'fitting an uploaded painting: photo size of each stage (default 64,128,256)', parseIntegerList('fit-sizes'))
    .option('--fit-evaluations <list>', 'fitting an uploaded painting: loss evaluations of each stage (default 40,25,12)', parseIntegerList('fit-evaluations'))
    .option('--fit-photos <dir>', 'fitting an uploaded painting: folder of training photos (default ../shared/datasets/photos)')
    .option('--queue <url>', 'run jobs on a BullMQ queue in Redis (redis://HOST:PORT; default: $NST_QUEUE), for workers on many machines: see docs/scale-out.md')
    .option('--redis-password-file <file>', `with --queue: ${REDIS_PASSWORD_HELP}`)
    .option('--storage <dir|s3://bucket/prefix>', 'with --queue: where workers find job images (default: the data directory)')
    .option('--role <role>', 'with --queue: all (API and workers in this process) or api (API only; run `nst worker` elsewhere)', parseChoice('role', QUEUE_ROLES), 'all')
    .option('--lock-timeout <s>', 'with --queue: seconds before a silent worker\'s job goes to another worker', parseNumber('lock-timeout'))
    .action(async (opts: ServeCommandOptions) => {
      if (opts.maxUploadMb < 1) throw new NstError(`--max-upload-mb must be a positive integer (got ${opts.maxUploadMb})`);
      if (!(opts.uploadTimeout >= 1)) throw new NstError(`--upload-timeout must be at least 1 second (got ${opts.uploadTimeout})`);
      if (opts.token !== undefined && opts.tokenFile !== undefined) throw new NstError('give --token or --token-file, not both');
      const tokenFile = opts.tokenFile ?? (opts.token === undefined ? process.env.NST_TOKEN_FILE || undefined : undefined);
      let token = opts.token ?? (process.env.NST_TOKEN || undefined);
      if (tokenFile !== undefined) {
        const read = readTokenFile(tokenFile);
        if (read.warning) process.stderr.write(`nst serve: warning: ${read.warning}\n`);
        token = read.token;
      }
      const log = {
        info: (m: string) => process.stderr.write(`nst serve: ${m}\n`),
        error: (m: string) => process.stderr.write(`nst serve: error: ${m}\n`),
      };
      opts.queue = queueAddress(opts, (m) => process.stderr.write(`nst serve: warning: ${m}\n`));
      const queue = await openServeQueue(opts, log);
      const server = await startServer(
        {
          host: opts.host,
          port: opts.port,
          dataDir: opts.dataDir,
          workers: opts.workers,
          threads: opts.threads,
          token,
          insecure: opts.insecure,
          modelDir: opts.modelDir,
          samplesDir: opts.samplesDir,
          maxUploadBytes: opts.maxUploadMb * 1024 * 1024,
          maxConcurrentUploads: opts.maxConcurrentUploads,
          maxUploadsPerClient: opts.maxUploadsPerClient,
          uploadTimeoutMs: Math.round(opts.uploadTimeout * 1000),
          minUploadBytesPerSecond: opts.minUploadRate,
          maxPixels: opts.maxPixels,
          maxVideoBytes: opts.maxVideoMb === undefined ? undefined : opts.maxVideoMb * 1024 * 1024,
          maxVideoSeconds: opts.maxVideoSeconds,
          maxVideoPixels: opts.maxVideoPixels,
          maxVideoFrames: opts.maxVideoFrames,
          maxSize: opts.maxSize,
          maxMemory: opts.maxMemory,
          maxIterations: opts.maxIterations,
          resume: opts.resume,
          device: opts.device,
          precision: opts.precision,
          logRequests: opts.logRequests,
          fitSizes: opts.fitSizes,
          fitEvaluations: opts.fitEvaluations,
          fitPhotos: opts.fitPhotos,
        },
        { log, queue },
      );
      const o = server.options;
      const open = o.token ? `${server.url}/?token=…` : `${server.url}/`;
      process.stdout.write(`nst: serving on ${server.url}/\n`);
      process.stderr.write(
        `nst serve: open ${open} — data in ${o.dataDir}; ${o.workers} worker${o.workers > 1 ? 's' : ''} × ${o.threads} thread${o.threads > 1 ? 's' : ''}; ` +
          `samples ${server.samples.dir ?? 'none found'}; Ctrl-C stops (running jobs resume on the next start)\n`,
      );
      if (queue) process.stderr.write(`nst serve: jobs go to the queue ${redactRedisUrl(opts.queue!)} (${opts.role === 'api' ? 'run `nst worker` to process them' : 'this process runs jobs too'})\n`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = () => {
          if (stopping) process.exit(130);
          stopping = true;
          process.stderr.write('nst serve: stopping (running jobs save their current image; Ctrl-C again to quit now)\n');
          server.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
