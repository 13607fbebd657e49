/**
 * Time to quality against the peer's optimiser. PyTorch (Debian's python3-torch) runs
 * neural-style-pt's optimisation (torch.optim.LBFGS, lr 1, history 100, no line search) for 300
 * iterations from the content image; its image is saved as an 8-bit PNG, as a user gets it, and
 * scored by the loss contract. Then our default run (quality 'standard', same inputs, same threads)
 * is timed until the image it would write scores at or below that (in the precision a user gets:
 * bf16 where the CPU has it): the ratio of the two loop times
 * is the figure. Both loops exclude loading; the same process, one after the other.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tensor, tidy } from '../src/engine';
import { loadImage, saveImage } from '../src/image';
import { findModelFile, PROJECT_ROOT } from '../src/models/model-dir';
import { Vgg19 } from '../src/models';
import { imageToTensor, tensorToImage } from '../src/transfer/image-tensor';
import { resolveStylizeOptions, runStylize, STYLIZE_DEFAULTS } from '../src/transfer/gatys';
import { scoreImageFile } from '../src/transfer/gatys/score-file';
import type { Quality } from '../src/transfer/gatys';

const IMAGES = path.join(PROJECT_ROOT, '..', 'shared', 'images');

export interface TimeToQualityOptions {
  size: number;
  threads: number;
  content?: string;
  style?: string;
  pytorchIterations?: number;
  quality?: Quality;
  /** Our compute precision; default 'auto' (bf16 where the CPU has it), what a user's run gets. */
  precision?: 'auto' | 'fp32' | 'bf16';
  /** Run PyTorch again even when its result for the same inputs is cached. */
  freshPytorch?: boolean;
}

/** PyTorch's 300 iterations take minutes (7 at 512 px): its result is kept per inputs and settings. */
const PYTORCH_CACHE = path.join(PROJECT_ROOT, '.nst-cache', 'time-to-quality');

export async function timeToQualityVsPytorch(o: TimeToQualityOptions): Promise<unknown> {
  const content = o.content ?? path.join(IMAGES, 'content', 'golden_gate.jpg');
  const style = o.style ?? path.join(IMAGES, 'style', 'the_scream.jpg');
  const iterations = o.pytorchIterations ?? 300;
  const quality = o.quality ?? STYLIZE_DEFAULTS.quality;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-ttq-'));
  const net = Vgg19.load({ upTo: 'relu5_1', precision: 'fp32' });
  try {
    // 1. The same preprocessed inputs for PyTorch.
    const [c, s] = await Promise.all([loadImage(content, { maxSide: o.size }), loadImage(style, { maxSide: o.size })]);
    const shapes: Record<string, number[]> = {};
    tidy(() => {
      for (const [name, img] of [['content', c], ['style', s]] as const) {
        const t = net.preprocess(imageToTensor(img));
        shapes[name] = t.shape;
        fs.writeFileSync(path.join(dir, `${name}.f32`), Buffer.from(t.data().buffer));
      }
    });
    fs.writeFileSync(path.join(dir, 'shapes.json'), JSON.stringify(shapes));
    const key = createHash('sha256');
    for (const name of ['content', 'style']) key.update(fs.readFileSync(path.join(dir, `${name}.f32`)));
    key.update(JSON.stringify({ shapes, iterations, threads: o.threads }));
    const cacheDir = path.join(PYTORCH_CACHE, key.digest('hex').slice(0, 16));
    const pytorchPng = path.join(cacheDir, 'pytorch.png');
    let pytorch: { seconds: number; finalInternalLoss: number; maxLoss: number; firstLoss: number; iterations: number; cached?: boolean };
    if (!o.freshPytorch && fs.existsSync(pytorchPng)) {
      pytorch = { ...JSON.parse(fs.readFileSync(path.join(cacheDir, 'pytorch.json'), 'utf8')), cached: true };
    } else {
      try {
        const out = execFileSync('/usr/bin/python3', [path.join(PROJECT_ROOT, 'bench', 'pytorch_lbfgs_run.py'), path.dirname(findModelFile('vgg19/model.json')), dir, String(iterations), String(o.threads)], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 3 * 3600_000,
        });
        pytorch = JSON.parse(out);
      } catch (err) {
        const msg = String((err as { stderr?: string }).stderr ?? (err as Error).message);
        return { size: o.size, skipped: msg.includes('No module named') ? 'python3-torch is not installed' : msg.split('\n').filter(Boolean).pop() };
      }
      // 2. PyTorch's image as the user gets it (8-bit PNG), kept for the next bench.
      const result = new Float32Array(fs.readFileSync(path.join(dir, 'result.f32')).buffer.slice(0));
      fs.mkdirSync(cacheDir, { recursive: true });
      await saveImage(tidy(() => tensorToImage(net.deprocess(tensor(result, shapes.content)))), pytorchPng);
      fs.writeFileSync(path.join(cacheDir, 'pytorch.json'), JSON.stringify(pytorch));
    }
    const target = await scoreImageFile(net, pytorchPng, content, style, o.size);

    // 3. Ours, until the image it keeps scores at or below the target at full size.
    let reachedAt: number | null = null;
    let evaluations = 0;
    let stop = false;
    const ours = await runStylize(
      resolveStylizeOptions({ content, style, output: path.join(dir, 'ours.png'), size: o.size, quality, threads: o.threads, seed: 1, report: false, printEvery: 0, precision: o.precision ?? 'auto' }),
      {
        isCancelled: () => stop,
        onProgress: (p) => {
          evaluations = p.step;
          if (p.stage === p.stages - 1 && p.losses.total <= target && reachedAt === null) {
            reachedAt = p.elapsedSeconds;
            stop = true;
          }
        },
      },
    );
    const oursScore = await scoreImageFile(net, ours.output, content, style, o.size);
    return {
      size: `${c.width}x${c.height}`,
      content: path.basename(content),
      style: path.basename(style),
      pytorch: { ...pytorch, savedImageScore: target },
      ours: {
        quality,
        precision: ours.precision,
        secondsToTarget: reachedAt === null ? null : round(reachedAt),
        evaluations,
        stages: ours.stages.map((st) => ({ size: `${st.size.width}x${st.size.height}`, iterations: st.iterations, converged: st.converged, seconds: st.seconds })),
        reportedLoss: ours.losses?.total ?? null,
        savedImageScore: oursScore,
        finishedWithoutReaching: reachedAt === null,
      },
      ratio: reachedAt === null ? null : round(reachedAt / pytorch.seconds),
      target: 0.05,
    };
  } finally {
    net.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
