/** `nst explore <experiment>`: the experiments of Gatys et al. as contact sheets (see docs/experiments.md). */
import { Command, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { NstError } from '../errors';
import { explore, ExploreOptions, ExploreProgress, EXPERIMENTS, EXPERIMENT_NAMES, EXPLORE_DEFAULTS, Experiment, formatRatio } from '../transfer/explore';
import { parseDevice, parseInteger, parseNumberList, precisionOption } from './parse';
import { formatLoss } from './progress';
import { interruptible } from './signals';
import { checkOutputSide } from './size-check';

type CommandOptions = Omit<ExploreOptions, 'experiment'> & { printEvery: number };

export function exploreCommand(): Command {
  const cmd = new Command('explore')
    .description('run an experiment of the Gatys et al. papers and write a labelled contact sheet <output>.png plus <output>.json of the losses')
    .argument('[experiment]', `one of ${EXPERIMENT_NAMES.join(', ')}`)
    // So that `nst explore typo -c … -s …` reaches the action below and says what is wrong.
    .allowUnknownOption()
    .allowExcessArguments()
    .action((name?: string) => {
      // Reached only when no experiment subcommand matched.
      const usage = `nst explore <${EXPERIMENT_NAMES.join('|')}> [options] (see nst explore --help)`;
      if (!name) throw new NstError(`name an experiment: ${usage}`);
      if (name.startsWith('-')) throw new NstError(`unknown option '${name}' before the experiment: ${usage}`);
      throw new NstError(`unknown experiment '${name}' (expected ${EXPERIMENT_NAMES.join(', ')})`);
    });
  for (const name of EXPERIMENT_NAMES) cmd.addCommand(experimentCommand(EXPERIMENTS[name]).exitOverride());
  return cmd;
}

function experimentCommand(experiment: Experiment): Command {
  const cmd = new Command(experiment.name).description(experiment.summary);
  // Ask only for the images the experiment uses. An unused --style is still parsed (hidden), so
  // that resolveExploreOptions says in one line that it is not used.
  if (experiment.inputs.includes('content')) cmd.requiredOption('-c, --content <file>', 'content photo');
  else if (experiment.contentSetsSize) cmd.option('-c, --content <file>', "a photo whose size the synthesised images take (default: the style's size)");
  if (experiment.inputs.includes('style')) cmd.requiredOption('-s, --style <file>', 'style painting');
  else cmd.addOption(new Option('-s, --style <file>').hideHelp());
  cmd
    .option('-o, --output <base>', 'writes <base>.png (the sheet) and <base>.json (the losses)', experiment.name)
    .option('--size <px>', 'longest side of each cell', parseInteger('size'), EXPLORE_DEFAULTS.size)
    .option('--iterations <n>', 'iterations of each cell', parseInteger('iterations'), EXPLORE_DEFAULTS.iterations);
  if (experiment.takesRatios) {
    cmd.addOption(
      new Option('--ratios <list>', 'style/content weight ratios, comma-separated (the content weight stays at its default, 5)')
        .argParser(parseNumberList('ratios'))
        .default(EXPLORE_DEFAULTS.ratios, EXPLORE_DEFAULTS.ratios.map(formatRatio).join(',')),
    );
  }
  if (experiment.defaultInit) {
    cmd.addOption(new Option('--init <how>', 'starting image of every cell').choices(['content', 'style', 'noise']).default(experiment.defaultInit));
  }
  return cmd
    .option('--seed <n>', 'random seed, the same for every cell (default: random, printed at the end)', parseInteger('seed'))
    .option('--columns <n>', 'cells per row of the sheet (default: one row up to 6 cells)', parseInteger('columns'))
    .option('--threads <n>', 'compute threads (default: all cores)', parseInteger('threads'))
    .addOption(precisionOption('compute precision', EXPLORE_DEFAULTS.precision))
    .option('--device <name>', 'cpu, cuda or cuda:N', parseDevice, 'cpu')
    .option('--model-dir <dir>', 'directory that holds vgg19/ (default: $NST_MODEL_DIR, ./models, ../shared/models)')
    .option('--print-every <n>', 'a progress line every n iterations when stderr is not a terminal', parseInteger('print-every'), 50)
    .action(async (opts: CommandOptions) => {
      const { printEvery, ...rest } = opts;
      const options: ExploreOptions = { ...rest, experiment: experiment.name };
      await checkOutputSide(options.content ?? options.style, options.size, options.maxPixels, '--size');
      const progress = new ExploreProgressReporter(experiment.name, printEvery);
      const result = await interruptible(
        (signal) => explore(options, { signal, onProgress: (p) => progress.update(p) }),
        () => progress.log('stopping after this iteration; the sheet of the cells done so far will be written (Ctrl-C again to quit now)'),
      ).finally(() => progress.stop());
      const done = result.cells.filter((c) => !c.cancelled).length;
      const status = result.cancelled ? `stopped: ${done} of ${result.cellsPlanned} cells done` : `${result.cellsPlanned} cells`;
      const ratios = options.ratios ? `, ratios ${options.ratios.map(formatRatio).join(',')}` : '';
      process.stderr.write(
        `wrote ${result.sheet} (${result.width}x${result.height}, ${result.inputs} input + ${result.cells.length} result cells of ${result.cellWidth}x${result.cellHeight} in ${result.rows} row(s); ${status}${ratios}, ${result.seconds.toFixed(1)} s, seed ${result.seed}, ${result.threads} threads, ${result.precision})\n`,
      );
      process.stderr.write(`wrote ${result.json}\n`);
      if (result.cancelled) process.exitCode = 130;
    });
}

/** A live bar (cells done / total, the current cell's iteration) on a terminal; lines otherwise. */
class ExploreProgressReporter {
  private bar: SingleBar | null = null;
  private started = false;

  constructor(private readonly label: string, private readonly printEvery: number, private readonly stream: NodeJS.WriteStream = process.stderr) {
    if (stream.isTTY) {
      this.bar = new SingleBar({
        stream,
        format: `explore ${label} [{bar}] cells done {cellsDone}/{cells} | {cellLabel} it {iteration}/{iterations} | {rate} it/s | ETA {eta_formatted} | {loss}`,
        barsize: 20,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      });
    }
  }

  update(p: ExploreProgress): void {
    const payload = {
      cellsDone: p.cellsDone,
      cells: p.cells,
      cellLabel: p.label,
      iteration: p.iteration,
      iterations: p.iterations,
      rate: p.iterationsPerSecond.toFixed(2),
      loss: p.losses ? `loss ${formatLoss(p.losses.total)}` : '',
    };
    if (this.bar) {
      if (!this.started) {
        this.bar.start(p.steps, 0, payload);
        this.started = true;
      }
      this.bar.update(p.step, payload);
      return;
    }
    const head = `explore ${this.label} cell ${p.cell + 1}/${p.cells} ${p.label}`;
    if (p.event === 'cell') {
      this.stream.write(`${head}: done (${p.iteration} iterations${p.losses ? `, loss ${formatLoss(p.losses.total)}` : ''}; ${p.cellsDone}/${p.cells} cells, ${Math.round(p.elapsedSeconds)} s)\n`);
    } else if (this.printEvery > 0 && p.iteration % this.printEvery === 0 && p.iteration < p.iterations) {
      this.stream.write(`${head} | it ${p.iteration}/${p.iterations} | ${p.iterationsPerSecond.toFixed(2)} it/s | ETA ${Math.round(p.etaSeconds)}s | ${payload.loss}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }

  log(line: string): void {
    this.stream.write(this.bar ? `\n${line}\n` : `${line}\n`);
  }
}
