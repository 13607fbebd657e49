/** `nst fast`: stylise a photo or a folder of photos with a trained feed-forward network. */
import { Command, Option } from 'commander';
import { fastStylize, FastOptions } from '../transfer/fast';
import { parseChoice, parseDevice, parseInteger, parseIntegerList, parseList, parseNumber, parseNumberList, precisionOption } from './parse';
import { FitProgressBar } from './fit-progress';
import { interruptible } from './signals';
import { checkOutputSide } from './size-check';

export function fastCommand(): Command {
  return new Command('fast')
    .description('stylise photos in one forward pass of a trained network (Johnson et al.); see nst styles')
    .option('-s, --style <name>', "a style by name (pretrained, trained or fitted; see 'nst styles'); fitted styles blend: a,b")
    .option('-m, --model <file>', 'a trained model (.safetensors) or a deeplearn.js checkpoint folder')
    .requiredOption('-c, --content <file|dir>', 'a photo, or a folder of photos')
    .requiredOption('-o, --output <file|dir>', 'output image, or output folder for a folder of photos')
    .option('--size <px>', "longest side of the output (default: the photo's size)", parseInteger('size'))
    .addOption(new Option('--preserve-colors <how>', "keep the photo's colours").choices(['none', 'luminance']).default('none'))
    .addOption(precisionOption('convolution precision'))
    .option('--threads <n>', 'compute threads (default: all cores)', parseInteger('threads'))
    .option('--device <name>', 'cpu, cuda or cuda:N', parseDevice, 'cpu')
    .option('--model-dir <dir>', 'directory searched for fast-style/ (default: $NST_MODEL_DIR, ./models, ../shared/models)')
    .option('--max-pixels <n>', 'refuse larger images (the input, and the output --size makes)', parseInteger('max-pixels'))
    .option('--style-image <file>', 'any painting: fit its style vector now (about a minute, cached by the file\'s hash) and paint with the arbitrary-style network', parseList('style-image'))
    .option('--style-blend-weights <list>', 'fitted styles: one weight per style (--style a,b), normalised to sum 1', parseNumberList('style-blend-weights'))
    .option('--style-strength <s>', "fitted styles: 1 = the style, 0 = the photo's own vector (fits the photo too: slow)", parseNumber('style-strength'))
    .option('--paint-scale <x>', "fitted styles: paint at this multiple of the photo's size, then resize back: finer strokes keep more of the photo (default: the style's own, chosen by its fit: 1.5, or 1 where its vector keeps a close-up; 1: the plain pass)", parseNumber('paint-scale'))
    .option('--palette-match <a>', "fitted styles: 0 to 1, how far the output takes the painting's colour palette (default: the style's own, 0.5 or 0)", parseNumber('palette-match'))
    .option('--fit-evaluations <list>', 'loss evaluations per stage of an on-the-fly fit', parseIntegerList('fit-evaluations'))
    .option('--photos <dir>', 'training photos of an on-the-fly fit (default: ../shared/datasets/photos)')
    .option('--max-memory <size>', "memory budget, e.g. 6GB; larger photos are stylised in overlapping tiles (default: 75% of the machine's memory)")
    .option('--tile-size <px>', 'stylise in tiles of this side whatever the budget', parseInteger('tile-size'))
    .addOption(new Option('--padding <mode>', "pretrained styles: reflect (no dark frame, no invented dots, no upsampling grid or woven texture on flat areas) or exact (the original networks bit for bit)").choices(['reflect', 'exact']).default('reflect'))
    .action(async (opts: FastOptions) => {
      await checkOutputSide(opts.content, opts.size, opts.maxPixels, '--size');
      const bar = new FitProgressBar('fit');
      const result = await interruptible(
        (signal) =>
          fastStylize(opts, {
            signal,
            onProgress: (p) => {
              if (p.type === 'warning') bar.log(`nst: warning: ${p.message}`);
              else if (p.type === 'fit') bar.update(p);
              else {
                bar.stop();
                const count = p.total > 1 ? `[${p.index}/${p.total}] ` : '';
                process.stderr.write(`${count}wrote ${p.output} (${p.width}x${p.height}${p.tile ? `, in ${p.tile}-px tiles, peak memory ${p.peakMiB} MiB` : ''}, ${p.ms.toFixed(0)} ms)\n`);
              }
            },
          }),
        () => process.stderr.write('stopping after this image (Ctrl-C again to quit now)\n'),
      ).finally(() => bar.stop());
      const n = result.outputs.length;
      if (n > 1 || result.skipped.length > 0 || result.cancelled) {
        const skipped = result.skipped.length > 0 ? `, skipped ${result.skipped.length} unreadable` : '';
        const stopped = result.cancelled ? ', stopped early' : '';
        process.stderr.write(
          `stylised ${n} image${n === 1 ? '' : 's'} with '${result.model.style}'${skipped}${stopped} in ${result.seconds.toFixed(1)} s (${result.threads} threads, ${result.precision})\n`,
        );
      }
      if (result.overBudget) process.stderr.write(`nst: warning: the process peaked at ${result.peakMiB} MiB, over the --max-memory budget of ${result.budgetMiB} MiB\n`);
      if (result.cancelled) process.exitCode = 130;
      else if (result.skipped.length > 0) {
        // The good photos are written, but a script must not take a partial batch for a whole one.
        const k = result.skipped.length;
        const failed = n > 0 ? `${k} of ${n + k} photos could not be stylised` : k === 1 ? 'the photo could not be stylised' : `none of the ${k} photos could be stylised`;
        const written = n === 0 ? 'none was written' : n === 1 ? 'the other one was written' : `the other ${n} were written`;
        process.stderr.write(`nst: error: ${failed} (see the warning${k === 1 ? '' : 's'} above); ${written}\n`);
        process.exitCode = 2;
      }
    });
}
