/** `nst styles`: the styles `nst fast --style` knows, pretrained and user-trained, and where they are. */
import { Command } from 'commander';
import { listStyles, STYLES_SUBDIR } from '../transfer/fast';
import { modelDirCandidates } from '../models/model-dir';

export function stylesCommand(): Command {
  return new Command('styles')
    .description('list the styles available to nst fast (pretrained and trained) and where they come from')
    .option('--model-dir <dir>', 'directory searched for fast-style/ (default: $NST_MODEL_DIR, ./models, ../shared/models)')
    .option('--json', 'print JSON')
    .action((opts: { modelDir?: string; json?: boolean }) => {
      const styles = listStyles(opts.modelDir);
      if (opts.json) {
        process.stdout.write(JSON.stringify(styles, null, 1) + '\n');
        return;
      }
      if (styles.length === 0) {
        const dirs = (opts.modelDir ? [opts.modelDir] : modelDirCandidates()).map((d) => `${d}/${STYLES_SUBDIR}`);
        process.stdout.write(`no styles found (looked in ${dirs.join(', ')}); train one with 'nst train'\n`);
        return;
      }
      const width = Math.max(...styles.map((s) => s.name.length));
      const kindWidth = Math.max(...styles.map((s) => s.kind.length));
      for (const s of styles) {
        process.stdout.write(`${s.name.padEnd(width)}  ${s.kind.padEnd(kindWidth)}  ${s.description}  ${s.path}\n`);
      }
    });
}
