/**
 * Does --max-memory hold? Each case runs the CLI in a fresh process under `/usr/bin/time -v` and
 * reports the process's peak resident memory over its budget (≤ 1.00 is the promise), for
 * stylize (whole, tiled and checkpointed; fp32 and bf16), fast and video on a 2,048-px job.
 * `node dist/bench/memory-budget.js [--budgets 1GB,2GB,3GB] [--size 2048] [--only stylize,fast,video]`
 * prints JSON, with the kernel settings it ran under (e.g. `ONEDNN_MAX_CPU_ISA=AVX2` simulates a
 * CPU without AVX-512: docs/print-size.md, "Other CPUs, simulated"). Slow (stylize runs few iterations, but at print size): minutes per case.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cpuHasBf16, kernelEnvironment } from '../src/engine/cpu-kernels';
import { parseMemorySize } from '../src/transfer/tiling/memory-size';

const ROOT = path.resolve(__dirname, '..', '..');
const SHARED = process.env.NST_SHARED ?? path.resolve(ROOT, '..', 'shared');
const CONTENT = path.join(SHARED, 'images', 'content', 'amber.jpg');
const STYLE = path.join(SHARED, 'images', 'style', 'starry_night.jpg');

export interface BudgetCase {
  name: string;
  budget: string;
  peakMiB: number;
  budgetMiB: number;
  ratio: number;
  seconds: number;
  exit: number | null;
  /** The run's last line (what it wrote, or why it stopped). */
  last: string;
}

/** Peak RSS of a command via GNU time's "Maximum resident set size (kbytes)". */
export function timed(args: string[]): { peakMiB: number; seconds: number; exit: number | null; last: string } {
  const started = Date.now();
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, path.join(ROOT, 'bin', 'nst.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  // GNU time's own lines are tab-indented, plus 'Command exited with non-zero status N'.
  const ours = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('\t') && !l.startsWith('Command exited'));
  return { peakMiB: Math.round(kb / 1024), seconds: (Date.now() - started) / 1000, exit: r.status, last: ours.pop() ?? '' };
}

function cases(size: number, budget: string, out: string, only: Set<string>): { name: string; args: string[] }[] {
  const stylize = (extra: string[]) => ['stylize', '-c', CONTENT, '-s', STYLE, '-o', path.join(out, 's.jpg'), '--size', String(size), '--iterations', '3', '--tile-passes', '1', '--no-report', '--max-memory', budget, ...extra];
  const list = [
    { name: 'stylize fp32', args: stylize(['--precision', 'fp32']) },
    { name: 'stylize bf16', args: stylize(['--precision', 'bf16']) },
    { name: 'stylize fp32 checkpointed', args: stylize(['--precision', 'fp32', '--checkpoint', 'on']) },
    { name: 'fast', args: ['fast', '-c', CONTENT, '--style', 'wave', '--size', String(size), '-o', path.join(out, 'f.jpg'), '--max-memory', budget] },
    { name: 'video fast', args: ['video', '-i', path.join(out, 'clip.mp4'), '--style', 'wave', '--size', String(size), '-o', path.join(out, 'v.mp4'), '--max-memory', budget] },
  ];
  return list.filter((c) => only.has(c.name.split(' ')[0]));
}

export function benchMemoryBudget(budgets = ['1GB', '2GB', '3GB'], size = 2048, only = new Set(['stylize', 'fast', 'video'])): BudgetCase[] {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-membench-'));
  try {
    if (only.has('video')) {
      // A short clip at the job's size: 4 frames of ffmpeg's test pattern.
      spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}x${Math.round((size * 3) / 4)}:rate=4:duration=1`, '-pix_fmt', 'yuv420p', path.join(out, 'clip.mp4')]);
    }
    const results: BudgetCase[] = [];
    for (const budget of budgets) {
      for (const c of cases(size, budget, out, only)) {
        const r = timed(c.args);
        const budgetMiB = Math.round(parseMemorySize(budget) / 2 ** 20);
        results.push({ name: c.name, budget, budgetMiB, peakMiB: r.peakMiB, ratio: Math.round((r.peakMiB / budgetMiB) * 1000) / 1000, seconds: Math.round(r.seconds), exit: r.exit, last: r.last });
        process.stderr.write(`memory-budget: ${c.name} under ${budget}: peak ${r.peakMiB} MiB (${(r.peakMiB / budgetMiB).toFixed(3)}), ${r.seconds.toFixed(0)} s, exit ${r.exit}: ${r.last}\n`);
      }
    }
    return results;
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

if (require.main === module && (process.argv.includes('--help') || process.argv.includes('-h'))) {
  process.stdout.write('node dist/bench/memory-budget.js [--budgets 1GB,2GB,3GB] [--size 2048] [--only stylize,fast,video]\n' +
    'peak RSS over --max-memory of each case, each a fresh CLI process under /usr/bin/time -v (JSON; minutes per case)\n');
} else if (require.main === module) {
  const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
  const budgets = (arg('--budgets') ?? '1GB,2GB,3GB').split(',');
  const only = new Set((arg('--only') ?? 'stylize,fast,video').split(','));
  process.stdout.write(JSON.stringify({ kernels: kernelEnvironment(), nativeBf16: cpuHasBf16(), memoryBudget: benchMemoryBudget(budgets, Number(arg('--size') ?? 2048), only) }, null, 1) + '\n');
}
