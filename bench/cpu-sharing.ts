/**
 * Sharing the CPU: each job alone, then two of it at once, every process with the same thread
 * count (default: all cores). Reports each pair's times over the time alone (medians of the
 * repeats); the promise is ≤ 2.5 on a quiet machine. Process start and model loading are inside
 * the times, as a user sees them.
 * `node dist/bench/cpu-sharing.js [--repeats 3] [--threads N]` prints JSON.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const SHARED = process.env.NST_SHARED ?? path.resolve(ROOT, '..', 'shared');
const CONTENT = path.join(SHARED, 'images', 'content', 'tubingen.jpg');
const STYLE = path.join(SHARED, 'images', 'style', 'starry_night.jpg');

function run(args: string[]): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'nst.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve((Date.now() - started) / 1000) : reject(new Error(`nst ${args[0]} exited ${code}: ${err.trim().split('\n').pop()}`))));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchCpuSharing(repeats = 3, threads = os.availableParallelism()): Promise<Record<string, { aloneSeconds: number; pairSeconds: number; ratio: number }>> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-sharing-'));
  const jobs: Record<string, (tag: string) => string[]> = {
    stylize: (tag) => ['stylize', '-c', CONTENT, '-s', STYLE, '-o', path.join(out, `s${tag}.jpg`), '--size', '256', '--iterations', '30', '--seed', '1', '--threads', String(threads), '--no-report'],
    fast: (tag) => ['fast', '-c', path.join(SHARED, 'images', 'content'), '--style', 'wave', '--size', '512', '-o', path.join(out, `f${tag}`), '--threads', String(threads)],
  };
  const results: Record<string, { aloneSeconds: number; pairSeconds: number; ratio: number }> = {};
  try {
    for (const [name, args] of Object.entries(jobs)) {
      const alone: number[] = [];
      const pair: number[] = [];
      for (let i = 0; i < repeats; i++) {
        alone.push(await run(args('a')));
        pair.push(...(await Promise.all([run(args('b')), run(args('c'))])));
      }
      const a = median(alone);
      const p = median(pair);
      results[name] = { aloneSeconds: Math.round(a * 100) / 100, pairSeconds: Math.round(p * 100) / 100, ratio: Math.round((p / a) * 100) / 100 };
      process.stderr.write(`cpu-sharing: ${name} alone ${a.toFixed(1)} s, two at once ${p.toFixed(1)} s each (${(p / a).toFixed(2)}x)\n`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  return results;
}

if (require.main === module) {
  const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
  benchCpuSharing(Number(arg('--repeats') ?? 3), arg('--threads') ? Number(arg('--threads')) : undefined).then(
    (r) => process.stdout.write(JSON.stringify({ cpuSharing: r, gompSpincount: process.env.GOMP_SPINCOUNT ?? 'default (1000)' }, null, 1) + '\n'),
    (e) => { process.stderr.write(`cpu-sharing: ${(e as Error).message}\n`); process.exit(1); },
  );
}
