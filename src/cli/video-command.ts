/** `nst video`: the command-line face of `stylizeVideo()` (a clip painted without flicker). */
import * as fs from 'node:fs';
import { Command, Option } from 'commander';
import { STYLIZE_DEFAULTS } from '../transfer/gatys';
import { terminateWorkers } from '../transfer/worker-host';
import { finishStoppedRun, paintVideo, resolveVideoOptions, STOP_GRACE_MS, StoppedRunState, VideoOptions, VideoProgress, VideoResult, VIDEO_DEFAULTS } from '../video';
import { parseDevice, parseInteger, parseList, parseNumber, parseNumberList, precisionOption } from './parse';
import { ProgressReporter } from './progress';
import { interruptible } from './signals';

export function videoCommand(): Command {
  return new Command('video')
    .description('paint a video clip without flicker: a fast style network (--style/--model) or optimisation towards a painting (--style-image)')
    .requiredOption('-i, --input <file>', 'the clip (anything ffmpeg reads)')
    .requiredOption('-o, --output <file>', 'the painted clip (.mp4, .mov, .mkv, .webm); audio, frame rate and aspect are kept')
    .option('-s, --style <name>', "fast: a style by name (see 'nst styles')")
    .option('-m, --model <file>', 'fast: a trained model (.safetensors)')
    .option('--style-image <file>', 'optimisation (Ruder et al.): the painting; repeat (or separate with commas) for several', splitFiles, [])
    .option('--size <px>', "longest side of the painted frames (default: the clip's)", parseInteger('size'))
    .option('--fps <rate>', "output frame rate (default: the clip's)", parseNumber('fps'))
    .option('--start <seconds>', 'paint from this time', parseNumber('start'))
    .option('--duration <seconds>', 'paint this many seconds', parseNumber('duration'))
    .option('--no-consistency', 'paint every frame on its own (flickers; for comparison)')
    .option('--blend <b>', 'fast: weight of the warped previous frame in the coarse band (colour, shapes) where the optical flow is reliable (0–1)', parseNumber('blend'), VIDEO_DEFAULTS.blend)
    .option('--detail-blend <b>', 'fast: its weight in the fine detail (strokes), whose contrast is then restored (0–1)', parseNumber('detail-blend'), VIDEO_DEFAULTS.detailBlend)
    .option('--temporal-weight <w>', 'optimisation: weight of the temporal loss', parseNumber('temporal-weight'), VIDEO_DEFAULTS.temporalWeight)
    .option('--iterations <n>', 'optimisation: iterations of the first frame', parseInteger('iterations'), VIDEO_DEFAULTS.iterations)
    .option('--frame-iterations <n>', 'optimisation: iterations of each later frame (warm-started; default iterations/4)', parseInteger('frame-iterations'))
    .option('--content-weight <w>', 'optimisation: weight of the content loss', parseNumber('content-weight'), STYLIZE_DEFAULTS.contentWeight)
    .option('--style-weight <w>', 'optimisation: weight of the style loss', parseNumber('style-weight'), STYLIZE_DEFAULTS.styleWeight)
    .option('--tv-weight <w>', 'optimisation: weight of the total-variation loss', parseNumber('tv-weight'), STYLIZE_DEFAULTS.tvWeight)
    .option('--preset <name>', 'optimisation: layer preset (see nst stylize --help)', STYLIZE_DEFAULTS.preset)
    .option('--content-layers <list>', 'optimisation: VGG19 layers of the content loss', parseList('content-layers'))
    .option('--style-layers <list>', 'optimisation: VGG19 layers of the style loss', parseList('style-layers'))
    .option('--style-layer-weights <list>', 'optimisation: style weight multiplier per style layer', parseNumberList('style-layer-weights'))
    .option('--style-layer-decay <d>', "optimisation: multiply style layer i's weight by d^i", parseNumber('style-layer-decay'))
    .option('--style-blend-weights <list>', 'optimisation: one weight per style image', parseNumberList('style-blend-weights'))
    .option('--style-scale <s>', 'optimisation: style images are resized to s × the frame size', parseNumber('style-scale'))
    .addOption(new Option('--init <how>', 'optimisation: start of the first frame (later frames start from the warped previous one)').choices(['content', 'style', 'noise']).default(VIDEO_DEFAULTS.init))
    .option('--noise-ratio <r>', 'optimisation: blend this much noise into the first start', parseNumber('noise-ratio'))
    .addOption(new Option('--optimizer <name>', 'optimisation: optimiser').choices(['lbfgs', 'adam']).default(STYLIZE_DEFAULTS.optimizer))
    .option('--learning-rate <lr>', 'optimisation: step size (default 1 for lbfgs, 10 for adam)', parseNumber('learning-rate'))
    .option('--lbfgs-history <n>', 'optimisation: L-BFGS memory', parseInteger('lbfgs-history'))
    .addOption(new Option('--pooling <kind>', 'optimisation: VGG19 pooling').choices(['max', 'avg']))
    .option('--normalize-gradients', "optimisation: L1-normalise each loss term's gradient")
    .addOption(new Option('--loss-normalization <mode>', 'optimisation: mean or sum').choices(['mean', 'sum']))
    .option('--seed <n>', 'optimisation: random seed', parseInteger('seed'))
    .addOption(new Option('--preserve-colors <mode>', "keep the clip's colours (histogram: optimisation only)").choices(['none', 'luminance', 'histogram']).default('none'))
    .option('--resume', 'continue an interrupted run from the frames in <output>.frames/')
    .option('--keep-frames', 'keep <output>.frames/ (the painted frames as PNG) after a complete run')
    .option('--max-frames <n>', 'refuse clips with more frames to paint than this', parseInteger('max-frames'), VIDEO_DEFAULTS.maxFrames)
    .option('--max-pixels <n>', 'refuse clips with larger frames', parseInteger('max-pixels'))
    .option('--max-memory <size>', "memory budget, e.g. 6GB: frames too large for it are painted in tiles, a --size whose frames cannot fit is refused (default: 75% of the machine's memory)")
    .addOption(precisionOption('compute precision'))
    .option('--threads <n>', 'compute threads (default: all cores)', parseInteger('threads'))
    .option('--device <name>', 'cpu, cuda or cuda:N', parseDevice, 'cpu')
    .option('--model-dir <dir>', 'directory searched for fast-style/ and vgg19/')
    .option('--print-every <n>', 'a progress line every n frames when stderr is not a terminal', parseInteger('print-every'), 1)
    .action(async (opts: VideoOptions & { styleImage: string[]; printEvery: number }) => {
      const progress = new ProgressReporter('video', opts.printEvery, process.stderr, 'frames');
      const options: VideoOptions = { ...opts, styleImage: opts.styleImage.length > 0 ? opts.styleImage : undefined };
      const resolved = resolveVideoOptions(options);
      const state: StoppedRunState = { started: Date.now(), painting: false, resumed: 0, painted: 0 };
      let assembling = false;
      let started = false;
      let frameValues: Record<string, number> = {};
      let last = { frame: 0, frames: 1, rate: 0, eta: 0 };
      const onProgress = (p: VideoProgress) => {
        if (p.type === 'warning') return progress.log(`nst: warning: ${p.message}`);
        if (p.type === 'painting') {
          state.painting = true;
          state.resumed = p.resumed;
          if (p.resumed > 0) progress.log(`continuing after the ${p.resumed} frame(s) already in ${p.framesDir}`);
          return;
        }
        if (p.type === 'assembling') {
          assembling = true;
          return progress.log(`assembling ${p.frames} frame(s)${p.partial ? ' into a partial video' : ''}…`);
        }
        if (!started) {
          progress.start(p.type === 'frame' ? p.frames : Math.max(last.frames, 1));
          started = true;
        }
        if (p.type === 'frame') {
          state.painted = p.frame - p.resumed;
          last = { frame: p.frame, frames: p.frames, rate: p.framesPerSecond, eta: p.etaSeconds };
          frameValues = { 'flow ms': Math.round(p.flowMs), 'paint ms': Math.round(p.paintMs) };
        } else {
          frameValues = { frame: p.frame, it: p.iteration, loss: p.loss };
        }
        // Iteration updates only refresh the bar on a terminal (the line log counts frames).
        if (p.type === 'frame' || process.stderr.isTTY) {
          progress.update({ iteration: last.frame, iterations: last.frames, iterationsPerSecond: last.rate, etaSeconds: last.eta, values: frameValues });
        }
      };
      // A frame of a large clip can take minutes of native computation: past the grace period the
      // compute thread is terminated and the frames it finished are assembled here.
      const abandon = async (): Promise<VideoResult> => {
        progress.log('the frame in progress is dropped');
        await terminateWorkers();
        return finishStoppedRun(resolved, state, onProgress);
      };
      const result = await interruptible(
        (signal) => stopInTime(paintVideo(resolved, { signal, onProgress }), signal, () => assembling, abandon),
        () => progress.log('stopping after this frame; the frames done are kept and assembled (Ctrl-C again to quit now)'),
      ).finally(() => progress.stop());
      const timing = result.painted > 0 && result.paintMs > 0 ? `, ${(result.painted / Math.max(result.seconds, 1e-9)).toFixed(2)} frames/s overall (flow ${result.flowMs.toFixed(0)} ms + paint ${result.paintMs.toFixed(0)} ms per frame)` : '';
      const resumed = result.resumed > 0 ? `, ${result.resumed} from an earlier run` : '';
      const m = result.memory;
      const memory = `; peak ${m.peakMiB} MiB of --max-memory ${m.budgetMiB} MiB${m.overBudget ? ' (over it)' : ''}${m.tile !== null ? `, ${m.tiledFrames} frame(s) in ${m.tile}-px tiles` : ''}`;
      if (result.written) {
        const what = result.cancelled ? `a partial video of ${result.frames} frame(s)` : `${result.frames} frames`;
        process.stderr.write(
          `wrote ${result.output} (${what}, ${result.width}x${result.height} at ${result.frameRate} fps${result.hasAudio ? ', with audio' : ''}${resumed}; ${result.seconds.toFixed(1)} s${timing}${result.precision ? `; ${result.precision}` : ''}${memory})\n`,
        );
      } else {
        process.stderr.write('stopped before the first frame was finished; nothing written\n');
      }
      if (result.cancelled && result.framesDir) process.stderr.write(`finished frames are in ${result.framesDir}; run again with --resume to continue\n`);
      if (result.cancelled) process.exitCode = 130;
    });
}

/**
 * The run's result; or, when it has not ended STOP_GRACE_MS after the signal (its frame is long)
 * and is not already assembling its video, what `abandon` makes of it.
 */
function stopInTime<R>(run: Promise<R>, signal: AbortSignal, finishing: () => boolean, abandon: () => Promise<R>): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const onAbort = () => {
      timer = setTimeout(() => {
        if (!settled && !finishing()) abandon().then(resolve, reject);
      }, STOP_GRACE_MS);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    run.then(resolve, reject).finally(() => {
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

/** --style-image a.jpg,b.jpg or repeated: commas split unless the value names an existing file. */
function splitFiles(value: string, previous: string[]): string[] {
  const parts = fs.existsSync(value) ? [value] : value.split(',').map((s) => s.trim()).filter(Boolean);
  return [...previous, ...parts];
}
