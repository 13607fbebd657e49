/**
 * `nst styles`: the styles `nst fast --style` knows, pretrained, user-trained and fitted, and
 * where they are; `nst styles fit`: fit a painting's style vector for the arbitrary-style network.
 */
import { Command, Option } from 'commander';
import { listStyles, STYLES_SUBDIR } from '../transfer/fast';
import { fitStyle, FitStyleOptions, FIT_DEFAULTS } from '../transfer/arbitrary';
import { modelDirCandidates } from '../models/model-dir';
import { FitProgressBar } from './fit-progress';
import { formatLoss } from './progress';
import { parseChoice, parseInteger, parseIntegerList, parseList, parseNumber, parseNumberList, precisionOption } from './parse';
import { interruptible } from './signals';

export function stylesCommand(): Command {
  const command = new Command('styles')
    .description('list the styles available to nst fast (pretrained, trained and fitted) and where they come from')
    .option('--model-dir <dir>', 'directory searched for fast-style/ (default: $NST_MODEL_DIR, ./models, ../shared/models)')
    .option('--json', 'print JSON')
    // Options after `fit` are fit's own: without this, commander hands `nst styles fit --model-dir X`
    // to `styles`, and the fit wrote its style file elsewhere.
    .enablePositionalOptions()
    .action((opts: { modelDir?: string; json?: boolean }) => {
      const styles = listStyles(opts.modelDir);
      if (opts.json) {
        process.stdout.write(JSON.stringify(styles, null, 1) + '\n');
        return;
      }
      if (styles.length === 0) {
        const dirs = (opts.modelDir ? [opts.modelDir] : modelDirCandidates()).map((d) => `${d}/${STYLES_SUBDIR}`);
        process.stdout.write(`no styles found (looked in ${dirs.join(', ')}); train one with 'nst train' or fit one with 'nst styles fit'\n`);
        return;
      }
      const width = Math.max(...styles.map((s) => s.name.length));
      const kindWidth = Math.max(...styles.map((s) => s.kind.length));
      for (const s of styles) {
        process.stdout.write(`${s.name.padEnd(width)}  ${s.kind.padEnd(kindWidth)}  ${s.description}  ${s.path}\n`);
      }
    });
  command.addCommand(fitCommand().exitOverride());
  return command;
}

function fitCommand(): Command {
  const d = FIT_DEFAULTS;
  return new Command('fit')
    .description('fit the style vector of a painting for the arbitrary-style network (about a minute); then nst fast --style NAME')
    .requiredOption('--style-image <file>', 'the painting')
    .option('--name <name>', "the style's name (default: the painting's file name)")
    .option('-o, --output <file>', 'the style file (default: <model dir>/fast-style/NAME.style.json)')
    .option('--photos <dir>', 'folder of training photos (default: ../shared/datasets/photos)')
    .option('--photo-count <n>', 'training photos used', parseInteger('photo-count'), d.photoCount)
    .addOption(new Option('--stage-sizes <list>', 'photo size of each fitting stage').argParser(parseIntegerList('stage-sizes')).default([...d.stageSizes], d.stageSizes.join(',')))
    .option('--evaluations <list>', `loss evaluations of each stage (default: ${d.stageEvaluations.join(',')}; 50 each with other --stage-sizes)`, parseIntegerList('evaluations'))
    .option('--content-scales <list>', `content weight multiplier of each stage (default: ${d.stageContentScales.join(',')}; ${d.stageContentScales[0]} then 1 for the last with other --stage-sizes)`, parseNumberList('content-scales'))
    .option('--content-weight <w>', 'weight of the content loss', parseNumber('content-weight'), d.contentWeight)
    .option('--style-weight <w>', 'weight of the style loss', parseNumber('style-weight'), d.styleWeight)
    .option('--tv-weight <w>', 'weight of the total-variation loss', parseNumber('tv-weight'), d.tvWeight)
    .option('--structure-weight <w>', "weight of the first stage's photo-structure term (relu3_1 self-similarity; keeps the photo's forms from the flat start, 0: off); later stages hold the structure below a level instead", parseNumber('structure-weight'), d.structureWeight)
    .option('--content-layers <list>', 'VGG19 layers of the content loss', parseList('content-layers'))
    .option('--style-layers <list>', 'VGG19 layers of the style loss', parseList('style-layers'))
    .option('--style-layer-weights <list>', 'style weight multiplier per style layer', parseNumberList('style-layer-weights'))
    .option('--init-style <name|file>', 'start from this fitted style (a warm start helps some paintings)')
    .option('--seed <n>', 'seed of the choice of training photos', parseInteger('seed'), d.seed)
    .option('--overwrite', 'replace an existing style of that name')
    .option('--keep-painting-border', 'keep a paper border around the painting (by default a uniform band of paper, with its folds, is cropped)')
    .addOption(precisionOption('convolution precision'))
    .option('--threads <n>', 'compute threads (default: all cores)', parseInteger('threads'))
    .option('--device <name>', 'cpu or cuda', parseChoice('device', ['cpu', 'cuda'] as const), 'cpu')
    .option('--model-dir <dir>', 'directory searched for the networks and written to (default: $NST_MODEL_DIR, ./models, ../shared/models; writes to the user cache)')
    .action(async (opts: FitStyleOptions & { evaluations: number[]; contentScales: number[] }, command: Command) => {
      const bar = new FitProgressBar('fit');
      // `nst styles --model-dir X fit …` means the same as `nst styles fit --model-dir X …`.
      const modelDir = opts.modelDir ?? (command.parent?.opts() as { modelDir?: string } | undefined)?.modelDir;
      const options: FitStyleOptions = { ...opts, modelDir, stageEvaluations: opts.evaluations, stageContentScales: opts.contentScales };
      const result = await interruptible(
        (signal) =>
          fitStyle(options, {
            signal,
            onProgress: (p) => (p.type === 'fit' ? bar.update(p) : bar.log(`nst: warning: ${p.message}`)),
          }),
        () => bar.log('stopping after this evaluation; nothing will be written (Ctrl-C again to quit now)'),
      ).finally(() => bar.stop());
      const last = result.stages[result.stages.length - 1];
      const timing = `${result.evaluations} evaluations, ${result.seconds.toFixed(1)} s, ${result.threads} threads, ${result.precision}`;
      if (result.cancelled) {
        process.stderr.write(`stopped after ${timing}; nothing was written\n`);
        process.exitCode = 130;
        return;
      }
      process.stderr.write(`wrote ${result.output} (loss ${last ? formatLoss(last.best.total) : '-'}; ${timing}); use it with: nst fast --style ${result.name}\n`);
    });
}
