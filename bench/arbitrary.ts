/**
 * `node dist/bench/arbitrary.js [--styles scream,wave|none] [--threads N] [--repeats N] [--fitted-dir DIR]
 *   [--out-dir DIR] [--fit JSON]`: only the arbitrary-style transformer part of `npm run bench` (see
 * src/transfer/arbitrary/bench.ts), as JSON. `--fit '{"structureWeight":0}'` overrides fit options
 * (e.g. to compare a recipe with the previous one).
 */
import * as path from 'node:path';
import { engineInfo } from '../src/engine';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { benchArbitrary } from '../src/transfer/arbitrary/bench';
import type { FitStyleOptions } from '../src/transfer/arbitrary/options';

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
    outDir: path.resolve(value('--out-dir') ?? path.join(PROJECT_ROOT, 'out', 'bench')),
    fitOverrides: JSON.parse(value('--fit') ?? '{}') as Partial<FitStyleOptions>,
  });
  process.stdout.write(JSON.stringify({ engine: engineInfo(), arbitrary: result }, null, 2) + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exit(1);
});
