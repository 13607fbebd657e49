/**
 * `npm run bench`: speed and memory of the engine, printed as JSON on stdout.
 * - fwd+grad: one VGG19 forward + input gradient with the default Gatys losses, at 256² and 512²
 * - iteration: one whole stylize iteration (losses, gradient, L-BFGS step) at 256² and 512²
 * - pytorch: the same fwd+grad measured with PyTorch when Debian's python3-torch is installed
 * - bf16QualityGuard: final objective (scored in fp32) of a bf16 run vs an fp32 run
 * - timeToQuality: our default run vs PyTorch's L-BFGS (neural-style-pt's settings, 300 iterations):
 *   time until our written image scores at or below PyTorch's written image (bench/time-to-quality.ts)
 * Options: --sizes 256,512  --repeats 5  --threads N  --precision fp32,bf16  --no-channels-last
 * - fast: feed-forward stylisation at 256²/512² and a training step at 256² (batch 1 and 4)
 * - video: optical flow accuracy/speed, flicker (per-frame vs consistent) and speed of both video
 *          methods on synthetic pans (src/video/bench.ts); --no-video, or --video-only for just it
 * - arbitrary: the arbitrary-style transformer (stylise 256²/512² fp32+bf16; with --arbitrary-styles
 *          wave,udnie,scream,wreck: a default fit per painting, contract objective vs the Johnson network
 *          on held-out photos, frame ratio, contact sheet in out/bench/)  --no-arbitrary
 *          --no-pytorch  --no-quality  --no-time-to-quality  --no-fast  --quick (fwd+grad and iteration only)
 *          --ttq-sizes 256,512 (add 1024 for the print-size figure: PyTorch's 300 iterations take ~30 min there)
 *          --ttq-only (just this part); PyTorch's run is cached in .nst-cache/ per inputs, --ttq-fresh reruns it
 *          --ttq-precision fp32 (ours as on a CPU without bf16; default auto)
 * - queue: fast jobs through the BullMQ queue with 1 and 2 worker processes vs the embedded queue
 *          (bench/queue-bench.ts; needs redis-server)  --no-queue, or --queue-only for this part alone
 * - printSizes (--print, long): peak RSS and seams of 2,048 and 4,096 px tiled runs, tiled vs untiled objective
 * Separately (long): bench/method-quality.ts (each transfer method on 16 held-out pairs: SWD, CFSD,
 *   SSIM, time, peak; docs/transfer-methods.md) and bench/fitted-style-quality.ts (fitted styles vs
 *   the Johnson networks: docs/fitted-styles-quality.md).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configureThread, cpuHasBf16, engineInfo, keep, rand, Tensor, tidy } from '../src/engine';
import { loadImage } from '../src/image';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { imageToTensor } from '../src/transfer/image-tensor';
import { Precision, Vgg19 } from '../src/models';
import { GatysObjective } from '../src/losses';
import { Lbfgs } from '../src/optim';
import { resolveStylizeOptions, STYLIZE_DEFAULTS } from '../src/transfer/gatys/options';
import { runStylize } from '../src/transfer/gatys/run';
import { benchFast } from '../src/transfer/fast/bench';
import { timeToQualityVsPytorch } from './time-to-quality';
import { benchQueue } from './queue-bench';
import { benchVideo } from '../src/video/bench';
import { benchArbitrary } from '../src/transfer/arbitrary/bench';

interface Args {
  sizes: number[];
  repeats: number;
  threads?: number;
  pytorch: boolean;
  precisions: Precision[];
  channelsLast?: boolean;
  quality: boolean;
  timeToQuality: boolean;
  fast: boolean;
  ttqSizes: number[];
  queue: boolean;
  queueOnly: boolean;
  video: boolean;
  videoOnly: boolean;
  ttqOnly: boolean;
  ttqFresh: boolean;
  /** Our precision in the time-to-quality bench (default auto: what a user's run gets). */
  ttqPrecision: 'auto' | 'fp32' | 'bf16';
  arbitrary: boolean;
  /** Johnson styles to fit and compare with (default scream; 'none' for timings only). */
  arbitraryStyles: string[];
  /** Print sizes (slow): 2,048 px under 4 GB, 4,096 px under 6 GB, tiled vs untiled at 1,024 px. */
  print: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sizes: [256, 512], repeats: 5, pytorch: true, precisions: ['fp32', 'bf16'], quality: true, timeToQuality: true, fast: true, ttqSizes: [256, 512], queue: true, queueOnly: false, video: true, videoOnly: false, ttqOnly: false, ttqFresh: false, ttqPrecision: 'auto', arbitrary: true, arbitraryStyles: ['scream'], print: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--sizes') args.sizes = argv[++i].split(',').map(Number);
    else if (a === '--repeats') args.repeats = Number(argv[++i]);
    else if (a === '--threads') args.threads = Number(argv[++i]);
    else if (a === '--no-pytorch') args.pytorch = false;
    else if (a === '--precision') args.precisions = argv[++i].split(',') as Precision[];
    else if (a === '--no-channels-last') args.channelsLast = false;
    else if (a === '--channels-last') args.channelsLast = true;
    else if (a === '--no-quality') args.quality = false;
    else if (a === '--no-time-to-quality') args.timeToQuality = false;
    else if (a === '--no-fast') args.fast = false;
    else if (a === '--print') args.print = true;
    else if (a === '--ttq-sizes') args.ttqSizes = argv[++i].split(',').map(Number);
    else if (a === '--ttq-only') args.ttqOnly = true;
    else if (a === '--ttq-fresh') args.ttqFresh = true;
    else if (a === '--ttq-precision') {
      args.ttqPrecision = argv[++i] as Args['ttqPrecision'];
      if (!['auto', 'fp32', 'bf16'].includes(args.ttqPrecision)) throw new Error(`--ttq-precision must be auto, fp32 or bf16 (got '${args.ttqPrecision}')`);
    }
    else if (a === '--no-queue') args.queue = false;
    else if (a === '--queue-only') args.queueOnly = true;
    else if (a === '--no-video') args.video = false;
    else if (a === '--video-only') args.videoOnly = true;
    else if (a === '--no-arbitrary') args.arbitrary = false;
    else if (a === '--arbitrary-styles') {
      const list = argv[++i];
      args.arbitraryStyles = list === 'none' ? [] : list.split(',');
    }
    else if (a === '--quick') args.quality = args.timeToQuality = args.pytorch = args.fast = args.queue = args.video = args.arbitrary = false;
  }
  return args;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeIt(repeats: number, fn: () => void): { median: number; min: number; runs: number[] } {
  fn(); // warm-up: first call allocates and picks kernels
  const runs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    runs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { median: round(median(runs)), min: round(Math.min(...runs)), runs: runs.map(round) };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

function benchGatys(net: Vgg19, size: number, repeats: number) {
  const layers = { content: STYLIZE_DEFAULTS.contentLayers, style: STYLIZE_DEFAULTS.styleLayers };
  const weights = { content: STYLIZE_DEFAULTS.contentWeight, style: STYLIZE_DEFAULTS.styleWeight, tv: STYLIZE_DEFAULTS.tvWeight };
  const [content, style] = tidy(() => [net.preprocess(rand([1, 3, size, size])), net.preprocess(rand([1, 3, size, size]))]).map(keep);
  const objective = new GatysObjective(net, content, style, layers, weights);
  const x: Tensor = keep(content.clone().variable());
  const fwdGrad = timeIt(repeats, () => tidy(() => void objective.evaluate(x)));
  const opt = new Lbfgs(x);
  const iteration = timeIt(repeats, () =>
    tidy(() => {
      const { losses, grad } = objective.evaluate(x);
      opt.step(losses.total, grad);
    }),
  );
  for (const item of [opt, objective, x, content, style]) item.dispose();
  return { size, precision: net.precision, channelsLast: net.channelsLast, fwdGradSeconds: fwdGrad, iterationSeconds: iteration };
}

/**
 * Quality guard of bf16: Tübingen × Starry Night at 256 px, 200 L-BFGS iterations in fp32 and in
 * bf16 from the content image; both final images are scored by the fp32 objective.
 */
async function qualityGuard(size = 256, iterations = 200) {
  const images = path.join(PROJECT_ROOT, '..', 'shared', 'images');
  const [c, s] = await Promise.all([
    loadImage(path.join(images, 'content', 'tubingen.jpg'), { maxSide: size }),
    loadImage(path.join(images, 'style', 'starry_night.jpg'), { maxSide: size }),
  ]);
  const fp32Net = Vgg19.load({ upTo: 'relu5_1' });
  const [content, style] = tidy(() => [fp32Net.preprocess(imageToTensor(c)), fp32Net.preprocess(imageToTensor(s))]).map(keep);
  const layers = { content: STYLIZE_DEFAULTS.contentLayers, style: STYLIZE_DEFAULTS.styleLayers };
  const weights = { content: STYLIZE_DEFAULTS.contentWeight, style: STYLIZE_DEFAULTS.styleWeight, tv: STYLIZE_DEFAULTS.tvWeight };
  const judge = new GatysObjective(fp32Net, content, style, layers, weights);
  const out: Record<string, unknown> = { size: `${c.width}x${c.height}`, iterations };
  const finals: Record<string, number> = {};
  for (const precision of ['fp32', 'bf16'] as Precision[]) {
    const net = precision === 'fp32' ? fp32Net : Vgg19.load({ upTo: 'relu5_1', precision });
    const objective = precision === 'fp32' ? judge : new GatysObjective(net, content, style, layers, weights);
    const x = keep(content.clone().variable());
    const opt = new Lbfgs(x);
    const t0 = Date.now();
    for (let i = 0; i < iterations; i++) tidy(() => {
      const { losses, grad } = objective.evaluate(x);
      opt.step(losses.total, grad);
    });
    const seconds = (Date.now() - t0) / 1000;
    finals[precision] = tidy(() => judge.evaluate(x).losses.total);
    out[precision] = { seconds: round(seconds), finalObjectiveInFp32: finals[precision] };
    opt.dispose();
    x.dispose();
    if (precision !== 'fp32') {
      objective.dispose();
      net.dispose();
    }
  }
  judge.dispose();
  fp32Net.dispose();
  content.dispose();
  style.dispose();
  const diff = (finals.bf16 - finals.fp32) / finals.fp32;
  return { ...out, bf16VsFp32: round(diff), withinTwoPercent: Math.abs(diff) <= 0.02 };
}

/** Peak memory of 5 stylize iterations at `size`, measured in a fresh process. */
function peakMemory(size: number, precision: Precision): unknown {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'peak-memory.js'), String(size), precision, '5'], { encoding: 'utf8' });
  return JSON.parse(out);
}

/** Print sizes in bounded memory (bench/print-size.ts), each in a fresh process so its peak RSS is its own. */
function printSizeBench(): unknown {
  const run = (args: string[]) => JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'print-size.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 24 }));
  return {
    // Few iterations at the large sizes: memory and seams are the targets, and 2 iterations at
    // 4,096 px already take ~22 min on 2 cores (the whole --print section ~1.5 h).
    size2048: run(['512,1024,2048', '4GB', '20,10,4']),
    size4096: run(['512,1024,2048,4096', '6GB', '20,10,4,2']),
    tiledVsUntiled1024: run(['compare', '1024', '40', '512']),
  };
}

/** The same measurement with PyTorch, if Debian's python3-torch is installed. */
function benchPytorch(sizes: number[], repeats: number, threads: number): unknown {
  const python = '/usr/bin/python3';
  const script = path.join(__dirname, '..', '..', 'bench', 'pytorch_fwd_grad.py');
  if (!fs.existsSync(python)) return { skipped: 'no /usr/bin/python3' };
  try {
    const out = execFileSync(python, [script, sizes.join(','), String(repeats), String(threads)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 600_000,
    });
    return JSON.parse(out);
  } catch (err) {
    const msg = String((err as { stderr?: string }).stderr ?? (err as Error).message);
    return { skipped: msg.includes('No module named') ? 'python3-torch is not installed' : msg.split('\n').filter(Boolean).pop() };
  }
}

async function timeToQuality(args: Args, threads: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const size of args.ttqSizes) {
    process.stderr.write(`bench: time to quality at ${size} px, ours vs PyTorch's L-BFGS (300 iterations${args.ttqFresh ? '' : ', cached if run before'})\n`);
    out.push(await timeToQualityVsPytorch({ size, threads, freshPytorch: args.ttqFresh, precision: args.ttqPrecision }));
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.queueOnly) {
    process.stdout.write(JSON.stringify({ queue: await benchQueue() }, null, 2) + '\n');
    return;
  }
  const { threads } = configureThread({ threads: args.threads });
  if (args.videoOnly) {
    process.stderr.write('bench: video (flow, flicker and speed of both methods on synthetic pans)\n');
    process.stdout.write(JSON.stringify({ engine: { ...engineInfo(), threads }, video: await benchVideo({ threads }) }, null, 2) + '\n');
    return;
  }
  if (args.ttqOnly) {
    process.stdout.write(JSON.stringify({ engine: { ...engineInfo(), threads }, timeToQuality: await timeToQuality(args, threads) }, null, 2) + '\n');
    return;
  }
  const results = [];
  for (const precision of args.precisions) {
    const net = Vgg19.load({ upTo: 'relu5_1', precision, channelsLast: args.channelsLast });
    process.stderr.write(`bench: ${precision} fwd+grad at ${args.sizes.join(', ')} px\n`);
    for (const size of args.sizes) results.push(benchGatys(net, size, args.repeats));
    net.dispose();
  }
  process.stderr.write('bench: peak memory at 512 px (fresh processes)\n');
  const memory = args.precisions.map((p) => peakMemory(512, p));
  if (args.fast) process.stderr.write('bench: feed-forward stylisation and training steps\n');
  const fast = args.fast ? await benchFast({ threads }) : { skipped: '--no-fast' };
  if (args.arbitrary) process.stderr.write(`bench: arbitrary-style transformer (fits: ${args.arbitraryStyles.join(', ') || 'none'})\n`);
  const arbitrary = args.arbitrary
    ? await benchArbitrary({ threads, styles: args.arbitraryStyles, outDir: path.join(PROJECT_ROOT, 'out', 'bench') })
    : { skipped: '--no-arbitrary' };
  if (args.quality) process.stderr.write('bench: bf16 quality guard (200 iterations at 256 px, twice)\n');
  const quality = args.quality ? await qualityGuard() : { skipped: '--no-quality' };
  const ttq = args.timeToQuality ? await timeToQuality(args, threads) : [];
  if (args.queue) process.stderr.write('bench: fast jobs through the BullMQ queue, 1 and 2 worker processes\n');
  const queue = args.queue ? await benchQueue() : { skipped: '--no-queue' };
  if (args.video) process.stderr.write('bench: video (flow, flicker and speed of both methods on synthetic pans)\n');
  const video = args.video ? await benchVideo({ threads }) : { skipped: '--no-video' };
  if (args.print) process.stderr.write('bench: print sizes (2048 px under 4 GB, 4096 px under 6 GB, tiled vs untiled at 1024 px; long)\n');
  const printSizes = args.print ? printSizeBench() : { skipped: 'pass --print' };
  const report = {
    engine: { ...engineInfo(), threads },
    printSizes,
    losses: 'content relu4_2, style relu1_1..relu5_1, tv (defaults)',
    gatys: results,
    fast,
    arbitrary,
    bf16QualityGuard: quality,
    timeToQuality: args.timeToQuality ? ttq : { skipped: '--no-time-to-quality' },
    queue,
    video,
    cpuHasBf16: cpuHasBf16(),
    peakMemory512: memory,
    benchProcessPeakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    pytorch: args.pytorch ? benchPytorch(args.sizes, args.repeats, threads) : { skipped: '--no-pytorch' },
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exit(1);
});
