/**
 * Which transfer method paints better? Each method (`nst stylize --method …`) runs on held-out
 * photo × painting pairs (none of them tubingen or starry_night, which the methods were tuned on),
 * each run a fresh CLI process under `/usr/bin/time -v` (time and peak memory), and every output
 * is scored with src/quality: the style distance to the painting (sliced-Wasserstein and Gram at
 * relu1_1…relu5_1), the content-structure distance to the photo (CFSD at relu3_1) and SSIM.
 * A method "wins" a pair when it cuts Gatys's sliced-Wasserstein distance by ≥ 20 % with a CFSD no
 * worse than Gatys's. A contact sheet (photo, painting, each method) is written beside the JSON.
 *
 *   node dist/bench/method-quality.js [--size 512] [--quality standard] [--methods gatys,strotss,nnst,ot]
 *     [--set held-out|tuning] [--pairs 16] [--threads 2] [--out out/bench/method-quality] [--extra "--seed 1"] [--resume] [--shard k/n]
 * --resume keeps outputs already in --out (their time and peak from any earlier JSON there), so
 * methods run in separate invocations (or an interrupted run) are scored and summarised together.
 * --shard k/n runs only the pairs whose index is k modulo n (n processes side by side, one per
 * core) and names its JSON and sheet after the shard; a last --resume run merges them.
 * --score-only scores and summarises what is already in --out and runs nothing (a pair or method
 * without an output is left out of the summary: compare the `runs` counts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resize, tidy } from '../src/engine';
import { loadImage } from '../src/image';
import { Vgg19 } from '../src/models/vgg19';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { measureQuality, qualityReference, QualityScores } from '../src/quality';
import { imageToTensor } from '../src/transfer/image-tensor';
import { renderContactSheet, SheetCell } from '../src/transfer/explore/contact-sheet';
import { timed } from './memory-budget';

const SHARED = path.resolve(process.env.NST_SHARED_DIR ?? path.join(PROJECT_ROOT, '..', 'shared'));
const content = (f: string) => path.join(SHARED, 'images/content', f);
const photo = (f: string) => path.join(SHARED, 'datasets/photos/images', f);
const painting = (f: string) => path.join(SHARED, 'images/style', f);

/** Held-out pairs: flat skies, faces, an animal close-up, architecture, night, landscape × abstract and figurative paintings. */
export const HELD_OUT_PAIRS: [string, string][] = [
  [content('golden_gate.jpg'), painting('composition_vii.jpg')],
  [content('golden_gate.jpg'), painting('wave.jpg')],
  [content('chicago.jpg'), painting('udnie.jpg')],
  [content('chicago.jpg'), painting('mosaic.jpg')],
  [content('stata.jpg'), painting('the_scream.jpg')],
  [content('stata.jpg'), painting('candy.jpg')],
  [content('hoovertowernight.jpg'), painting('shipwreck.jpg')],
  [content('hoovertowernight.jpg'), painting('woman_with_hat_matisse.jpg')],
  [content('amber.jpg'), painting('seated_nude.jpg')],
  [content('amber.jpg'), painting('composition_vii.jpg')],
  [photo('kodak24__kodim04.jpg'), painting('woman_with_hat_matisse.jpg')],
  [photo('kodak24__kodim04.jpg'), painting('candy.jpg')],
  [photo('imagenet_sample__n02129165_lion.jpg'), painting('composition_vii.jpg')],
  [photo('imagenet_sample__n02129165_lion.jpg'), painting('the_scream.jpg')],
  [photo('kodak24__kodim13.jpg'), painting('seated_nude.jpg')],
  [photo('kodak24__kodim13.jpg'), painting('mosaic.jpg')],
];

/**
 * Pairs to tune a method on, disjoint from the held-out pairs in photos and paintings: Tübingen and
 * Kodak 21 under The Starry Night (the first rounds'), a building (Urban100) under a drawn
 * illustration (Set14 comic) and parrots (Kodak 23) under an abstract colour field.
 */
export const TUNING_PAIRS: [string, string][] = [
  [content('tubingen.jpg'), painting('starry_night.jpg')],
  [photo('kodak24__kodim21.jpg'), painting('starry_night.jpg')],
  [photo('urban100__img_004.jpg'), photo('set14__comic.jpg')],
  [photo('kodak24__kodim23.jpg'), photo('debian_lomiri__analogpattern_by_Peter_Nerlich.jpg')],
];

interface Args {
  set: 'held-out' | 'tuning';
  size: number;
  quality: string;
  methods: string[];
  pairs: number;
  threads: number;
  out: string;
  extra: string[];
  resume: boolean;
  shard: { k: number; n: number } | null;
  scoreOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const set = get('set') ?? 'held-out';
  if (set !== 'held-out' && set !== 'tuning') throw new Error(`--set is held-out or tuning (got '${set}')`);
  return {
    set,
    size: Number(get('size') ?? 512),
    quality: get('quality') ?? 'standard',
    methods: (get('methods') ?? 'gatys,strotss,nnst,ot').split(','),
    pairs: Number(get('pairs') ?? (set === 'tuning' ? TUNING_PAIRS : HELD_OUT_PAIRS).length),
    threads: Number(get('threads') ?? 2),
    out: path.resolve(get('out') ?? path.join(PROJECT_ROOT, 'out/bench/method-quality')),
    extra: (get('extra') ?? '').split(' ').filter(Boolean),
    resume: argv.includes('--resume'),
    shard: parseShard(get('shard')),
    scoreOnly: argv.includes('--score-only'),
  };
}

function parseShard(value: string | undefined): { k: number; n: number } | null {
  if (value === undefined) return null;
  const m = /^(\d+)\/(\d+)$/.exec(value);
  if (!m || Number(m[1]) >= Number(m[2])) throw new Error(`--shard wants k/n with 0 <= k < n (got '${value}')`);
  return { k: Number(m[1]), n: Number(m[2]) };
}

export interface MethodRun {
  method: string;
  seconds: number;
  peakMiB: number;
  exit: number | null;
  scores: QualityScores | null;
  error?: string;
}

export interface PairResult {
  photo: string;
  painting: string;
  /** The unstylised photo scored as if it were an output (the style distance to beat). */
  photoItself: QualityScores;
  runs: MethodRun[];
}

const stem = (f: string) => path.basename(f).replace(/\.[^.]+$/, '');

/** Scores and summary over pairs: per method, the share of pairs where it beats Gatys as the issue defines it. */
export function summarise(pairs: PairResult[], methods: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of methods) {
    const rows = pairs.map((p) => ({ g: p.runs.find((r) => r.method === 'gatys')?.scores, s: p.runs.find((r) => r.method === m)?.scores, run: p.runs.find((r) => r.method === m) }));
    const ok = rows.filter((r) => r.s);
    const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);
    const wins = ok.filter((r) => r.g && r.s!.swd <= 0.8 * r.g.swd && r.s!.cfsd <= r.g.cfsd).length;
    out[m] = {
      runs: ok.length,
      medianSeconds: median(ok.map((r) => r.run!.seconds)),
      maxPeakMiB: Math.max(...ok.map((r) => r.run!.peakMiB)),
      medianSwd: median(ok.map((r) => r.s!.swd)),
      medianCfsd: median(ok.map((r) => r.s!.cfsd)),
      medianSsim: median(ok.map((r) => r.s!.ssim)),
      medianSwdVsGatys: median(ok.filter((r) => r.g).map((r) => r.s!.swd / r.g!.swd)),
      medianCfsdVsGatys: median(ok.filter((r) => r.g).map((r) => r.s!.cfsd / r.g!.cfsd)),
      pairsBeatingGatys: m === 'gatys' ? null : `${wins}/${ok.length}`,
      shareBeatingGatys: m === 'gatys' || !ok.length ? null : wins / ok.length,
    };
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.out, { recursive: true });
  const net = Vgg19.load({ upTo: 'relu5_1' });
  const pairs: PairResult[] = [];
  const cells: SheetCell[] = [];
  const cell = args.size >= 384 ? 256 : 192;
  const chosen = (args.set === 'tuning' ? TUNING_PAIRS : HELD_OUT_PAIRS).slice(0, args.pairs).filter((_, i) => !args.shard || i % args.shard.n === args.shard.k);
  const suffix = args.shard ? `-shard-${args.shard.k}` : '';
  for (const [photoFile, paintingFile] of chosen) {
    const name = `${stem(photoFile)}-x-${stem(paintingFile)}`;
    const runs: MethodRun[] = [];
    const outputs: { method: string; file: string }[] = [];
    for (const method of args.methods) {
      const file = path.join(args.out, `${name}.${method}.png`);
      if (args.scoreOnly && !fs.existsSync(file)) continue;
      const earlier = (args.resume || args.scoreOnly) && fs.existsSync(file) ? earlierRuns(args.out).get(`${name}.${method}`) : undefined;
      if ((args.resume || args.scoreOnly) && fs.existsSync(file)) {
        runs.push({ method, seconds: earlier?.seconds ?? NaN, peakMiB: earlier?.peakMiB ?? NaN, exit: 0, scores: null });
        outputs.push({ method, file });
        continue;
      }
      const r = timed(['stylize', '-c', photoFile, '-s', paintingFile, '-o', file, '--size', String(args.size), '--quality', args.quality,
        '--method', method, '--seed', '1', '--threads', String(args.threads), '--no-report', ...args.extra]);
      runs.push({ method, seconds: r.seconds, peakMiB: r.peakMiB, exit: r.exit, scores: null, ...(r.exit === 0 ? {} : { error: r.last }) });
      if (r.exit === 0) outputs.push({ method, file });
      process.stderr.write(`${name} ${method}: ${r.seconds.toFixed(1)} s, ${r.peakMiB} MiB${r.exit === 0 ? '' : ` — ${r.last}`}\n`);
    }
    const photoImg = await loadImage(photoFile, { maxSide: args.size });
    const paintingImg = await loadImage(paintingFile, { maxSide: args.size });
    const photoT = imageToTensor(photoImg);
    const paintingT = imageToTensor(paintingImg);
    const pRef = qualityReference(net, photoT);
    const sRef = qualityReference(net, paintingT);
    const photoItself = measureQuality(net, pRef, sRef, photoT);
    const row: SheetCell[] = [
      { image: photoImg, lines: [stem(photoFile), 'photo'] },
      { image: paintingImg, lines: [stem(paintingFile), 'painting'] },
    ];
    for (const o of outputs) {
      const img = await loadImage(o.file);
      const scores = tidy(() => {
        const t = imageToTensor(img);
        const [, , h, w] = photoT.shape;
        return measureQuality(net, pRef, sRef, t.shape[2] === h && t.shape[3] === w ? t : resize(t, h, w));
      });
      const run = runs.find((r) => r.method === o.method)!;
      run.scores = scores;
      row.push({ image: img, lines: [o.method, `swd ${scores.swd.toFixed(1)} cfsd ${scores.cfsd.toFixed(4)}`] });
    }
    pRef.dispose();
    sRef.dispose();
    photoT.dispose();
    paintingT.dispose();
    pairs.push({ photo: path.relative(SHARED, photoFile), painting: path.relative(SHARED, paintingFile), photoItself, runs });
    cells.push(...row);
    while (cells.length % (2 + args.methods.length)) cells.push({ image: { width: 1, height: 1, data: new Float32Array(3).fill(1) }, lines: [''] });
  }
  const result = { size: args.size, quality: args.quality, threads: args.threads, methods: args.methods, summary: summarise(pairs, args.methods), pairs };
  fs.writeFileSync(path.join(args.out, `method-quality${suffix}.json`), JSON.stringify(result, null, 2));
  const sheet = await renderContactSheet(`photo, painting, ${args.methods.join(', ')} at ${args.size} px (${args.quality})`, cells, cell, cell, { columns: 2 + args.methods.length, labelLines: 2 });
  const sheetFile = path.join(args.out, `method-quality-sheet${suffix}.jpg`);
  fs.writeFileSync(sheetFile, await encodeJpeg(sheet.png));
  process.stdout.write(JSON.stringify({ summary: result.summary, json: path.join(args.out, `method-quality${suffix}.json`), sheet: sheetFile }, null, 2) + '\n');
}

/** Time and peak of every run recorded in the JSON files already in `dir`, by '<pair>.<method>'. */
function earlierRuns(dir: string): Map<string, MethodRun> {
  const found = new Map<string, MethodRun>();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    try {
      const data = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { pairs?: PairResult[] };
      for (const p of data.pairs ?? []) {
        for (const r of p.runs) if (Number.isFinite(r.seconds)) found.set(`${stem(p.photo)}-x-${stem(p.painting)}.${r.method}`, r);
      }
    } catch {
      // not one of ours
    }
  }
  return found;
}

async function encodeJpeg(png: Buffer): Promise<Buffer> {
  const sharp = (await import('sharp')).default;
  return sharp(png).jpeg({ quality: 82 }).toBuffer();
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
