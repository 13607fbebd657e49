/** `nst stylize`: the command-line face of `stylize()` (optimisation-based transfer). */
import { Command, Option } from 'commander';
import { stylize, StylizeOptions, STYLIZE_DEFAULTS } from '../transfer/gatys';
import { parseChoice, parseInteger, parseList, parseNumber } from './parse';
import { ProgressReporter, formatLoss } from './progress';
import { interruptible } from './signals';

export function stylizeCommand(): Command {
  return new Command('stylize')
    .description('paint a photo in the style of a painting by optimising its pixels (Gatys et al.)')
    .requiredOption('-c, --content <file>', 'content photo')
    .requiredOption('-s, --style <file>', 'style painting')
    .requiredOption('-o, --output <file>', 'output image (.jpg, .png, .webp, .tif)')
    .option('--size <px>', 'longest side of the output', parseInteger('size'), STYLIZE_DEFAULTS.size)
    .option('--iterations <n>', 'loss evaluations', parseInteger('iterations'), STYLIZE_DEFAULTS.iterations)
    .option('--content-weight <w>', 'weight of the content loss', parseNumber('content-weight'), STYLIZE_DEFAULTS.contentWeight)
    .option('--style-weight <w>', 'weight of the style loss', parseNumber('style-weight'), STYLIZE_DEFAULTS.styleWeight)
    .option('--tv-weight <w>', 'weight of the total-variation loss', parseNumber('tv-weight'), STYLIZE_DEFAULTS.tvWeight)
    .option('--content-layers <list>', 'VGG19 layers of the content loss', parseList('content-layers'), STYLIZE_DEFAULTS.contentLayers)
    .option('--style-layers <list>', 'VGG19 layers of the style loss', parseList('style-layers'), STYLIZE_DEFAULTS.styleLayers)
    .option('--init <how>', 'start from content, style, noise, or an image file', STYLIZE_DEFAULTS.init)
    .addOption(new Option('--optimizer <name>', 'optimiser').choices(['lbfgs', 'adam']).default(STYLIZE_DEFAULTS.optimizer))
    .option('--learning-rate <lr>', 'step size (default 1 for lbfgs, 10 for adam)', parseNumber('learning-rate'))
    .addOption(new Option('--pooling <kind>', 'VGG19 pooling').choices(['max', 'avg']).default(STYLIZE_DEFAULTS.pooling))
    .option('--seed <n>', 'random seed (default: random, printed at the end)', parseInteger('seed'))
    .option('--print-every <n>', 'progress line every n iterations when not on a terminal', parseInteger('print-every'), STYLIZE_DEFAULTS.printEvery)
    .option('--save-every <n>', 'save the current image every n iterations (0: never)', parseInteger('save-every'), STYLIZE_DEFAULTS.saveEvery)
    .option('--threads <n>', 'compute threads (default: all cores)', parseInteger('threads'))
    .option('--device <name>', 'cpu or cuda', parseChoice('device', ['cpu', 'cuda'] as const), 'cpu')
    .addOption(new Option('--precision <p>', 'compute precision: auto picks bf16 where the CPU has bf16 instructions').choices(['auto', 'fp32', 'bf16']).default(STYLIZE_DEFAULTS.precision))
    .option('--model-dir <dir>', 'directory that holds vgg19/ (default: $NST_MODEL_DIR, ./models, ../shared/models)')
    .option('--max-pixels <n>', 'refuse larger input images', parseInteger('max-pixels'), STYLIZE_DEFAULTS.maxPixels)
    .action(async (opts: StylizeOptions & { printEvery: number }) => {
      const progress = new ProgressReporter('stylize', opts.printEvery);
      const result = await interruptible(
        (signal) => {
          let started = false;
          return stylize(opts, {
            signal,
            onProgress: (p) => {
              if (!started) {
                progress.start(p.iterations);
                started = true;
              }
              progress.update({
                ...p,
                values: { content: sum(p.losses.content), style: sum(p.losses.style), tv: p.losses.tv, total: p.losses.total },
              });
            },
          });
        },
        () => progress.log('stopping after this iteration; the current image will be saved (Ctrl-C again to quit now)'),
      ).finally(() => progress.stop());
      const status = result.cancelled ? `stopped at iteration ${result.iterations}` : `${result.iterations} iterations`;
      const loss = result.losses ? `, final loss ${formatLoss(result.losses.total)}` : '';
      process.stderr.write(
        `wrote ${result.output} (${result.width}x${result.height}, ${status}${loss}, ${result.seconds.toFixed(1)} s, seed ${result.seed}, ${result.threads} threads, ${result.precision})\n`,
      );
      if (result.cancelled) process.exitCode = 130;
    });
}

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}
