/** `nst stylize`: the command-line face of `stylize()` (optimisation-based transfer). */
import * as fs from 'node:fs';
import { Command, Option } from 'commander';
import { stylize, StylizeOptions, STYLIZE_DEFAULTS, PRESETS, QUALITY_NAMES, QUALITY_PRESETS } from '../transfer/gatys';
import { CONTENT_LOSS_NAMES, METHOD_NAMES, METHODS, STYLE_LOSS_NAMES } from '../transfer/method-names';
import { collect, parseDevice, parseInteger, parseIntegerList, parseList, parseNumber, parseNumberList, precisionOption } from './parse';
import { ProgressReporter, formatLoss } from './progress';
import { interruptible } from './signals';
import { checkOutputSide } from './size-check';
import { describeBorder } from '../image/painting-border';

const qualityHelp = QUALITY_NAMES.map((q) => `${q}: ${QUALITY_PRESETS[q].description}`).join('; ');
const methodHelp = METHOD_NAMES.map((m) => `${m}: ${METHODS[m].description}`).join('; ');
/** "gatys 5, nnst 0, …": each method's default of a weight, for --help. */
const perMethod = (pick: (m: (typeof METHODS)[keyof typeof METHODS]) => number) => METHOD_NAMES.map((m) => `${m} ${pick(METHODS[m])}`).join(', ');
const presetHelp = Object.entries(PRESETS).map(([name, p]) => `${name}: ${p.description}`).join('; ');

export function stylizeCommand(): Command {
  return new Command('stylize')
    .description('paint a photo in the style of a painting by optimising its pixels (Gatys, STROTSS or neural neighbours)')
    .requiredOption('-c, --content <file>', 'content photo')
    .requiredOption('-s, --style <file>', 'style painting; repeat (or separate with commas) for several styles', splitStyles, [])
    .requiredOption('-o, --output <file>', 'output image (.jpg, .png, .webp, .tif)')
    // Method names are checked by the options (one line, exit 2), not by commander's choices, so the
    // library, the server and the CLI refuse them the same way.
    .option('--method <name>', `transfer method (${methodHelp}); default gatys`)
    .option('--style-loss <name>', `gatys: style loss block, ${STYLE_LOSS_NAMES.join(', ')} (default gram)`)
    .option('--content-loss <name>', `gatys: content loss block, ${CONTENT_LOSS_NAMES.join(', ')} (default mse)`)
    .option('--alpha <a>', `nnst, strotss: content-vs-style trade-off in [0,1], 1 keeps the most of the photo (default ${perMethod((m) => m.defaults.alpha)})`, parseNumber('alpha'))
    .option('--rotate-style', 'nnst: also match against the painting\'s 90/180/270° rotations (4x the search)')
    .option('--size <px>', 'longest side of the output', parseInteger('size'), STYLIZE_DEFAULTS.size)
    .addOption(new Option('--quality <q>', `effort, picks a coarse-to-fine schedule (${qualityHelp}); default ${STYLIZE_DEFAULTS.quality}`).choices([...QUALITY_NAMES]))
    .option('--iterations <n>', 'loss evaluations: alone, one stage of exactly n (as neural-style); with --quality, the full-size stage\'s cap; per stage with --scales', parseInteger('iterations'))
    .option('--content-weight <w>', `weight of the content loss (default ${perMethod((m) => m.defaults.contentWeight)})`, parseNumber('content-weight'))
    .option('--style-weight <w>', `weight of the style loss (default ${perMethod((m) => m.defaults.styleWeight)})`, parseNumber('style-weight'))
    .option('--tv-weight <w>', `weight of the total-variation loss (default ${perMethod((m) => m.defaults.tvWeight)})`, parseNumber('tv-weight'))
    .option('--preset <name>', `layer preset (${presetHelp})`, STYLIZE_DEFAULTS.preset)
    .option('--content-layers <list>', 'VGG19 layers of the content loss (default: the preset\'s, relu4_2)', parseList('content-layers'))
    .option('--style-layers <list>', 'VGG19 layers of the style loss (default: the preset\'s, relu1_1,…,relu5_1)', parseList('style-layers'))
    .option('--style-layer-weights <list>', 'style weight multiplier per style layer', parseNumberList('style-layer-weights'))
    .option('--style-layer-decay <d>', 'multiply style layer i\'s weight by d^i: <1 favours fine texture, >1 coarse forms', parseNumber('style-layer-decay'))
    .option('--style-blend-weights <list>', 'one weight per style image (normalised to sum 1)', parseNumberList('style-blend-weights'))
    .option('--style-mask <file>', 'mask of the region the matching --style paints (white = paint); repeat once per style', collect, [])
    .option('--style-scale <s>', 'style images are resized to s × the output size', parseNumber('style-scale'), STYLIZE_DEFAULTS.styleScale)
    .addOption(new Option('--preserve-colors <mode>', 'keep the photo\'s colours: luminance (transfer luminance only) or histogram (recolour the style first)').choices(['none', 'luminance', 'histogram']).default('none'))
    .option('--scales <list>', 'multi-resolution: increasing output sizes of successive stages, e.g. 256,512,1024', parseIntegerList('scales'))
    .option('--scale-iterations <list>', 'iterations of each stage (default: --iterations each)', parseIntegerList('scale-iterations'))
    .option('--rounds <n>', `split the last stage into n rounds, each with new random directions and samples (default ${perMethod((m) => m.defaults.rounds)})`, parseInteger('rounds'))
    .option('--init <how>', 'start from content, style, noise, or an image file', STYLIZE_DEFAULTS.init)
    .option('--noise-ratio <r>', 'blend this much noise (0–1) into the starting image', parseNumber('noise-ratio'), STYLIZE_DEFAULTS.noiseRatio)
    .addOption(new Option('--optimizer <name>', 'optimiser').choices(['lbfgs', 'adam']).default(STYLIZE_DEFAULTS.optimizer))
    .option('--learning-rate <lr>', 'step size (default 1 for lbfgs, 10 for adam)', parseNumber('learning-rate'))
    .addOption(new Option('--line-search <kind>', 'L-BFGS step rule: strong-wolfe (never raises the loss) or none (the classic fixed step)').choices(['strong-wolfe', 'none']).default(STYLIZE_DEFAULTS.lineSearch))
    .option('--unbounded', 'let pixels leave the displayable range while optimising (they are clipped when saved)')
    .option('--lbfgs-history <n>', `L-BFGS memory: curvature pairs kept (neural-style\'s -lbfgs_num_correction; default ${perMethod((m) => m.defaults.lbfgsHistory)})`, parseInteger('lbfgs-history'))
    .addOption(new Option('--pooling <kind>', 'VGG19 pooling').choices(['max', 'avg']).default(STYLIZE_DEFAULTS.pooling))
    .addOption(new Option('--pool-gradient <how>', "max pooling's gradient: spread (evenly over each window: no dotted lattice in flat regions) or argmax (exact)").choices(['spread', 'argmax']).default(STYLIZE_DEFAULTS.poolGradient))
    .option('--normalize-gradients', 'L1-normalise each loss term\'s gradient (as neural-style)')
    .addOption(new Option('--loss-normalization <mode>', 'mean (the loss contract) or sum (the paper\'s ½Σ and 1/(4N²M²); needs other weights)').choices(['mean', 'sum']).default(STYLIZE_DEFAULTS.lossNormalization))
    .option('--seed <n>', 'random seed (default: random, printed at the end)', parseInteger('seed'))
    .option('--print-every <n>', 'record losses (and print a line when not on a terminal) every n iterations', parseInteger('print-every'), STYLIZE_DEFAULTS.printEvery)
    .option('--save-every <n>', 'save the current image every n iterations (0: never)', parseInteger('save-every'), STYLIZE_DEFAULTS.saveEvery)
    .addOption(new Option('--animation <format>', 'write an animation of the --save-every frames').choices(['none', 'gif', 'webp']).default('none'))
    .option('--no-report', 'do not write <output>.report.json and <output>.losses.svg')
    .option('--threads <n>', 'compute threads (default: all cores)', parseInteger('threads'))
    .option('--device <name>', 'cpu, cuda or cuda:N', parseDevice, 'cpu')
    .addOption(precisionOption('compute precision', STYLIZE_DEFAULTS.precision))
    .option('--model-dir <dir>', 'directory that holds vgg19/ (default: $NST_MODEL_DIR, ./models, ../shared/models)')
    .option('--max-pixels <n>', 'refuse larger images (the input, and the output --size makes)', parseInteger('max-pixels'), STYLIZE_DEFAULTS.maxPixels)
    .option('--keep-painting-border', 'keep a paper border around a style painting (by default a uniform band of paper, with its folds, is cropped)')
    .option('--max-memory <size>', 'memory budget, e.g. 6GB; a stage that would not fit is optimised in overlapping tiles (default: 75% of the machine\'s memory)')
    .option('--tile-size <px>', 'optimise every stage in tiles of this side, whatever the budget', parseInteger('tile-size'))
    .option('--tile-passes <n>', 'passes over the tiles of a tiled stage (the grid shifts between them)', parseInteger('tile-passes'))
    .addOption(new Option('--checkpoint <when>', 'recompute VGG19 activations in the backward pass: half the memory, ~1.5x the time (auto: only where that avoids tiles, or no tile fits without it)').choices(['auto', 'on', 'off']).default('auto'))
    .action(async (opts: StylizeOptions & { printEvery: number; styleMask: string[]; unbounded?: boolean }) => {
      const progress = new ProgressReporter('stylize', opts.printEvery);
      const { unbounded, ...rest } = opts;
      const options: StylizeOptions = { ...rest, bounded: !unbounded, styleMasks: opts.styleMask.length > 0 ? opts.styleMask : undefined };
      // The full-size stage is the largest (those of --quality and --scales before it are smaller).
      const scales = options.scales?.length ? options.scales : undefined;
      await checkOutputSide(options.content, scales ? Math.max(...scales) : options.size, options.maxPixels, scales ? '--scales' : '--size');
      const result = await interruptible(
        (signal) => {
          let started = false;
          return stylize(options, {
            signal,
            onProgress: (p) => {
              if (!started) {
                progress.start(p.steps);
                started = true;
              }
              progress.update({
                iteration: p.step,
                iterations: p.steps,
                iterationsPerSecond: p.iterationsPerSecond,
                etaSeconds: p.etaSeconds,
                values: { content: sum(p.losses.content), style: sum(p.losses.style), tv: p.losses.tv, total: p.losses.total },
                // Every progress line names the method (and the tile, in a tiled stage).
                detail: p.method + (p.tile ? ` tile ${p.tile.tile}/${p.tile.tiles} pass ${p.tile.pass}/${p.tile.passes}` : ''),
              });
            },
          });
        },
        () => progress.log('stopping after this iteration; the current image will be saved (Ctrl-C again to quit now)'),
      ).finally(() => progress.stop());
      const status = (result.cancelled ? `stopped at iteration ${result.iterations}` : `${result.iterations} iterations`) + (result.quality ? `, quality ${result.quality}` : '');
      const loss = result.losses ? `, final loss ${formatLoss(result.losses.total)}` : '';
      process.stderr.write(
        `wrote ${result.output} (${result.width}x${result.height}, ${status}${loss}, ${result.seconds.toFixed(1)} s, seed ${result.seed}, ${result.threads} threads, ${result.precision}, method ${result.method})\n`,
      );
      if (result.stages.length > 1 || result.stages.some((s) => s.tiling || s.memory?.overBudget)) {
        for (const [i, s] of result.stages.entries()) {
          const t = s.tiling;
          const tiles = t ? `, tiled ${t.grids.map((g) => `${g.columns}x${g.rows}`).join(' + ')} tiles of ${t.tile} px (overlap ${t.overlap}, ${t.passes} passes)` : '';
          const stop = s.converged ? 'converged' : `of ${s.maxIterations}`;
          const over = s.memory?.overBudget ? ` — over the --max-memory budget of ${s.memory.budgetMiB} MiB` : '';
          process.stderr.write(`  stage ${i + 1}: ${s.size.width}x${s.size.height}, ${s.iterations} iterations (${stop})${tiles}, ${s.seconds.toFixed(1)} s, loss ${formatLoss(s.bestLoss)}, peak memory ${s.peakRssMiB} MiB${over}\n`);
        }
      }
      const paintings = ([] as string[]).concat(options.style).flatMap((s) => s.split(','));
      result.paintingBorders?.forEach((b, i) => b && process.stderr.write(`${describeBorder(b, paintings[i] ?? `style ${i + 1}`)}\n`));
      for (const f of result.sidecars) process.stderr.write(`wrote ${f}\n`);
      if (result.cancelled) process.exitCode = 130;
    });
}

/** --style a.jpg,b.jpg or repeated --style: commas split unless the value names an existing file. */
function splitStyles(value: string, previous: string[]): string[] {
  const parts = fs.existsSync(value) ? [value] : value.split(',').map((s) => s.trim()).filter(Boolean);
  return [...previous, ...parts];
}

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}
