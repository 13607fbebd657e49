/** `nst train`: train a feed-forward style network on a folder of photos. */
import { Command, Option } from 'commander';
import { trainFast, TrainOptions, TRAIN_DEFAULTS } from '../transfer/fast';
import { parseDevice, parseInteger, parseList, parseNumber } from './parse';
import { formatLoss, ProgressReporter } from './progress';
import { interruptible } from './signals';

export function trainCommand(): Command {
  const d = TRAIN_DEFAULTS;
  return new Command('train')
    .description('train a feed-forward style network for one style (Johnson et al. 2016 with instance norm); see docs/fast-training.md')
    .requiredOption('-s, --style <file>', 'the style painting')
    .requiredOption('-d, --dataset <dir>', 'folder of training photos (searched recursively)')
    .requiredOption('-o, --output <file>', 'the trained model (.safetensors; put it in models/fast-style/ to use it by name)')
    .option('--image-size <px>', 'side of the random square crops', parseInteger('image-size'), d.imageSize)
    .option('--batch-size <n>', 'photos per step', parseInteger('batch-size'), d.batchSize)
    .option('--iterations <n>', `training steps (default: ${d.epochs} epochs)`, parseInteger('iterations'))
    .option('--epochs <n>', 'passes over the training photos (instead of --iterations)', parseNumber('epochs'))
    .option('--content-weight <w>', 'weight of the content loss', parseNumber('content-weight'), d.contentWeight)
    .option('--style-weight <w>', 'weight of the style loss', parseNumber('style-weight'), d.styleWeight)
    .option('--tv-weight <w>', 'weight of the total-variation loss', parseNumber('tv-weight'), d.tvWeight)
    .addOption(new Option('--content-layers <list>', 'VGG19 layers of the content loss').argParser(parseList('content-layers')).default(d.contentLayers, d.contentLayers.join(',')))
    .addOption(new Option('--style-layers <list>', 'VGG19 layers of the style loss').argParser(parseList('style-layers')).default(d.styleLayers, d.styleLayers.join(',')))
    .option('--style-size <px>', 'longest side of the style image (default: --image-size)', parseInteger('style-size'))
    .option('--learning-rate <lr>', 'Adam step size', parseNumber('learning-rate'), d.learningRate)
    .option('--checkpoint-every <n>', 'checkpoint and validation loss every n steps', parseInteger('checkpoint-every'), d.checkpointEvery)
    .option('--checkpoint <file>', 'checkpoint file (default: the output with .ckpt.safetensors)')
    .option('--resume [checkpoint]', 'continue from a checkpoint (default: the checkpoint file)')
    .option('--validation-images <n>', 'photos held out for the validation loss', parseInteger('validation-images'), d.validationImages)
    .option('--name <name>', "the style's name in the model (default: the output's file name)")
    .option('--seed <n>', 'seed of the initial weights and the crop sequence (default: random)', parseInteger('seed'))
    .option('--print-every <n>', 'progress line every n steps when not on a terminal', parseInteger('print-every'), d.printEvery)
    .addOption(new Option('--pooling <kind>', 'VGG19 pooling').choices(['max', 'avg']).default(d.pooling))
    .addOption(new Option('--precision <p>', 'convolution precision while training (fp32: the measured recipes; auto: bf16 where the CPU has bf16 instructions)').choices(['fp32', 'bf16', 'auto']).default('fp32'))
    .option('--threads <n>', 'compute threads (default: all cores)', parseInteger('threads'))
    .option('--device <name>', 'cpu, cuda or cuda:N', parseDevice, 'cpu')
    .option('--model-dir <dir>', 'directory that holds vgg19/ (default: $NST_MODEL_DIR, ./models, ../shared/models)')
    .action(async (opts: TrainOptions & { printEvery: number }) => {
      const progress = new ProgressReporter('train', opts.printEvery);
      let started = false;
      const result = await interruptible(
        (signal) =>
          trainFast(opts, {
            signal,
            onProgress: (p) => {
              if (p.type === 'step') {
                if (!started) {
                  progress.start(p.iterations);
                  started = true;
                }
                progress.update({ ...p, values: { content: p.losses.content, style: p.losses.style, tv: p.losses.tv, total: p.losses.total } });
              } else if (p.type === 'checkpoint') {
                const v = p.validation ? `, validation loss ${formatLoss(p.validation.total)}` : '';
                progress.log(`checkpoint at iteration ${p.iteration}: ${p.file}${v}`);
              } else if (p.type === 'warning') {
                progress.log(`nst: warning: ${p.message}`);
              } else {
                progress.log(p.message);
              }
            },
          }),
        () => progress.log('stopping after this step; a checkpoint will be written (Ctrl-C again to quit now)'),
      ).finally(() => progress.stop());
      const loss = result.losses.train ? `, loss ${formatLoss(result.losses.train.total)}` : '';
      const first = result.losses.first ? ` (first step ${formatLoss(result.losses.first.total)})` : '';
      const val = result.losses.validation ? `, validation ${formatLoss(result.losses.validation.total)}` : '';
      const timing = `${result.seconds.toFixed(1)} s, ${result.msPerStep.toFixed(0)} ms/step, seed ${result.seed}, ${result.threads} threads`;
      if (result.cancelled && !result.checkpointWritten) {
        process.stderr.write(`stopped before the first step; nothing was written\n`);
        process.exitCode = 130;
      } else if (result.cancelled) {
        process.stderr.write(
          `stopped at iteration ${result.iterations}/${result.totalIterations}${loss}; checkpoint ${result.checkpoint} (continue with --resume ${result.checkpoint}) (${timing})\n`,
        );
        process.exitCode = 130;
      } else {
        process.stderr.write(`wrote ${result.output} (${result.iterations} iterations${loss}${first}${val}; ${timing})\n`);
      }
    });
}
