/** `nst compare`: the objective reached by a fast network vs by L-BFGS (Johnson et al. Fig. 5). */
import { Command, Option } from 'commander';
import { NstError } from '../errors';
import { compareFast, CompareOptions, COMPARE_DEFAULTS } from '../transfer/fast';
import { parseDevice, parseInteger, parseList, parseNumber } from './parse';
import { formatLoss, ProgressReporter } from './progress';
import { interruptible } from './signals';

function parseCounts(value: string): number[] {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const counts = list.map(Number);
  if (list.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new NstError(`--iterations needs a comma-separated list of positive integers (got '${value}')`);
  }
  return counts;
}

export function compareCommand(): Command {
  return new Command('compare')
    .description('compare the objective reached by a fast network with L-BFGS after 50/100/200/500 iterations (JSON + SVG plot)')
    .requiredOption('-m, --model <file|name>', 'the trained network (.safetensors, a checkpoint folder, or a style name)')
    .requiredOption('-c, --content <file>', 'content photo')
    .requiredOption('-s, --style <file>', 'the style painting the objective measures against')
    .requiredOption('-o, --output <file.json>', 'the JSON report (the plot goes beside it as .svg)')
    .option('--plot <file.svg>', 'where to write the SVG plot')
    .option('--size <px>', 'longest side of the content image', parseInteger('size'), COMPARE_DEFAULTS.size)
    .option('--style-size <px>', "longest side of the style image (default: the model's training setting, else --size)", parseInteger('style-size'))
    .option('--iterations <list>', 'L-BFGS iteration counts to report', parseCounts, COMPARE_DEFAULTS.iterations)
    .addOption(new Option('--init <how>', 'L-BFGS start').choices(['content', 'noise']).default(COMPARE_DEFAULTS.init))
    .option('--content-weight <w>', 'objective: content weight (default: from the model)', parseNumber('content-weight'))
    .option('--style-weight <w>', 'objective: style weight (default: from the model)', parseNumber('style-weight'))
    .option('--tv-weight <w>', 'objective: total-variation weight (default: from the model)', parseNumber('tv-weight'))
    .option('--content-layers <list>', 'objective: content layers (default: from the model)', parseList('content-layers'))
    .option('--style-layers <list>', 'objective: style layers (default: from the model)', parseList('style-layers'))
    .option('--save-images', 'also write the fast result and the L-BFGS images beside the report')
    .option('--seed <n>', 'random seed (noise init)', parseInteger('seed'))
    .option('--threads <n>', 'compute threads (default: all cores)', parseInteger('threads'))
    .option('--device <name>', 'cpu, cuda or cuda:N', parseDevice, 'cpu')
    .option('--model-dir <dir>', 'directory that holds vgg19/ and fast-style/')
    .action(async (opts: CompareOptions) => {
      const progress = new ProgressReporter('L-BFGS', 50);
      let started = false;
      const report = await interruptible(
        (signal) =>
          compareFast(opts, {
            signal,
            onProgress: (p) => {
              if (p.type === 'fast') {
                progress.log(`fast network: objective ${formatLoss(p.loss.total)} in ${p.ms.toFixed(0)} ms`);
                return;
              }
              if (!started) {
                progress.start(p.iterations);
                started = true;
              }
              progress.update({ ...p, values: { total: p.loss.total } });
            },
          }),
        () => progress.log('stopping L-BFGS; the report will cover the iterations done (Ctrl-C again to quit now)'),
      ).finally(() => progress.stop());
      const points = report.lbfgs.checkpoints.map((c) => `${c.iterations}: ${formatLoss(c.loss.total)}`).join(', ');
      process.stderr.write(`fast network: ${formatLoss(report.fast.loss.total)} (${report.fast.ms.toFixed(0)} ms); L-BFGS ${points}\n`);
      process.stderr.write(
        report.lbfgsIterationsToMatch === null
          ? `L-BFGS did not reach the fast network's objective in ${report.lbfgs.curve.length - 1} iterations\n`
          : `L-BFGS reaches the fast network's objective after ${report.lbfgsIterationsToMatch} iterations\n`,
      );
      process.stderr.write(`wrote ${opts.output} and ${report.plot}\n`);
      if (report.cancelled) process.exitCode = 130;
    });
}
