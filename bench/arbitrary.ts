/**
 * `node dist/bench/arbitrary.js [--styles scream,wave|none] [--threads N] [--repeats N] [--fitted-dir DIR]`: only the
 * arbitrary-style transformer part of `npm run bench` (see src/transfer/arbitrary/bench.ts), as JSON.
 */
import * as path from 'node:path';
import { engineInfo } from '../src/engine';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { benchArbitrary } from '../src/transfer/arbitrary/bench';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const value = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const styles = value('--styles');
  const threads = value('--threads');
  const repeats = value('--repeats');
  const result = await benchArbitrary({
    styles: styles === undefined ? ['scream'] : styles === 'none' ? [] : styles.split(','),
    threads: threads ? Number(threads) : undefined,
    repeats: repeats ? Number(repeats) : undefined,
    fittedDir: value('--fitted-dir'),
    outDir: path.join(PROJECT_ROOT, 'out', 'bench'),
  });
  process.stdout.write(JSON.stringify({ engine: engineInfo(), arbitrary: result }, null, 2) + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exit(1);
});
