/**
 * Fast network vs optimisation on the same objective (Johnson et al. 2016, Fig. 5): the Gatys
 * objective (content + style + TV, src/losses) reached by one forward pass of a trained network,
 * and by L-BFGS after 50/100/200/500 iterations, for one content and one style image. The
 * objective uses the layers and weights the network was trained with (from its metadata; the
 * training defaults for networks without them, e.g. the pretrained ml5.js ones). Writes a JSON
 * report and an SVG plot.
 */
import { configureThread, dispose, keep, randn, Tensor, tidy } from '../../engine';
import { loadImage, RgbImage, saveImage } from '../../image';
import { GatysObjective, LossBreakdown } from '../../losses';
import { Vgg19, VGG19_LAYER_NAMES } from '../../models';
import { loadStyleModel } from '../../models/style-model-format';
import { writeFileAtomicSync } from '../../util/atomic-write';
import { Lbfgs } from '../../optim';
import { imageToTensor, tensorToImage } from '../image-tensor';
import { ResolvedCompareOptions } from './compare-options';
import { TRAIN_DEFAULTS } from './train-options';

export interface CompareLoss {
  total: number;
  content: number;
  style: number;
  tv: number;
}

export type CompareProgress =
  | { type: 'fast'; loss: CompareLoss; ms: number }
  | { type: 'lbfgs'; iteration: number; iterations: number; loss: CompareLoss; elapsedSeconds: number; iterationsPerSecond: number; etaSeconds: number };

export interface CompareReport {
  model: { path: string; style: string; variant: string };
  content: string;
  style: string;
  width: number;
  height: number;
  styleSize: number;
  objective: { contentLayers: string[]; styleLayers: string[]; contentWeight: number; styleWeight: number; tvWeight: number; source: 'model' | 'defaults' };
  fast: { loss: CompareLoss; ms: number };
  lbfgs: {
    init: 'content' | 'noise';
    /** The loss after each requested number of iterations. */
    checkpoints: { iterations: number; loss: CompareLoss; seconds: number }[];
    /** Total loss after every iteration (index 0: the starting image). */
    curve: number[];
  };
  /** The first iteration at which L-BFGS reaches the fast network's loss; null if it did not. */
  lbfgsIterationsToMatch: number | null;
  cancelled: boolean;
  threads: number;
  device: string;
  seed: number;
  plot: string;
  images: string[];
}

export interface CompareHooks {
  onProgress?(p: CompareProgress): void;
  isCancelled?(): boolean;
}

export async function runCompare(o: ResolvedCompareOptions, hooks: CompareHooks = {}): Promise<CompareReport> {
  const runtime = configureThread({ threads: o.threads, device: o.device, seed: o.seed });
  const device = runtime.device;
  const model = loadStyleModel(o.modelPath, device);
  const held: { dispose(): void }[] = [model.net];
  try {
    const trained = (model.metadata.training ?? {}) as Partial<typeof TRAIN_DEFAULTS> & { styleSize?: number };
    const fromModel = model.metadata.training !== undefined;
    const objective = {
      contentLayers: o.layers.content ?? trained.contentLayers ?? TRAIN_DEFAULTS.contentLayers,
      styleLayers: o.layers.style ?? trained.styleLayers ?? TRAIN_DEFAULTS.styleLayers,
      contentWeight: o.weights.content ?? trained.contentWeight ?? TRAIN_DEFAULTS.contentWeight,
      styleWeight: o.weights.style ?? trained.styleWeight ?? TRAIN_DEFAULTS.styleWeight,
      tvWeight: o.weights.tv ?? trained.tvWeight ?? TRAIN_DEFAULTS.tvWeight,
      source: fromModel ? ('model' as const) : ('defaults' as const),
    };
    const styleSize = o.styleSize ?? trained.styleSize ?? o.size;
    const contentImage = await loadImage(o.content, { maxSide: o.size });
    const styleImage = await loadImage(o.style, { maxSide: styleSize });
    const deepest = [...objective.contentLayers, ...objective.styleLayers].reduce((a, b) =>
      VGG19_LAYER_NAMES.indexOf(a) > VGG19_LAYER_NAMES.indexOf(b) ? a : b,
    );
    const vgg = Vgg19.load({ modelDir: o.modelDir, device, upTo: deepest });
    held.push(vgg);
    const [rgb, content, style] = tidy(() => {
      const c = imageToTensor(contentImage, device);
      return [c, vgg.preprocess(c), vgg.preprocess(imageToTensor(styleImage, device))];
    });
    held.push(keep(rgb), keep(content), keep(style));
    const gatys = new GatysObjective(
      vgg,
      content,
      style,
      { content: objective.contentLayers, style: objective.styleLayers },
      { content: objective.contentWeight, style: objective.styleWeight, tv: objective.tvWeight },
    );
    held.push(gatys);
    const evaluate = (caffe: Tensor): CompareLoss => tidy(() => summarise(gatys.evaluate(caffe.detach().variable()).losses));

    const base = o.output.replace(/\.json$/i, '');
    const images: string[] = [];
    // The fast network: one forward pass (timed), then the objective at its output.
    const t0 = performance.now();
    const stylised = model.net.stylise(rgb);
    const ms = performance.now() - t0;
    held.push(stylised);
    const fastLoss = tidy(() => evaluate(vgg.preprocess(stylised)));
    hooks.onProgress?.({ type: 'fast', loss: fastLoss, ms });
    if (o.saveImages) {
      await saveImage(tensorToImage(stylised), `${base}_fast.png`);
      images.push(`${base}_fast.png`);
    }

    // L-BFGS on the pixels, from the content image or from noise.
    const [, , h, w] = content.shape;
    const x = keep(tidy(() => (o.init === 'content' ? content.clone() : randn([1, 3, h, w], device).mul(0.001))).detach().variable());
    held.push(x);
    const lbfgs = new Lbfgs(x, { learningRate: 1, history: 100 });
    held.push(lbfgs);
    const maxIter = o.iterations[o.iterations.length - 1];
    const wanted = new Set(o.iterations);
    const curve: number[] = [];
    const checkpoints: CompareReport['lbfgs']['checkpoints'] = [];
    let cancelled = false;
    const start = Date.now();
    // Evaluation k (k = 0…maxIter) is the objective after k iterations; its gradient drives step k+1.
    for (let k = 0; k <= maxIter; k++) {
      if (k > 0 && hooks.isCancelled?.()) {
        cancelled = true;
        break;
      }
      let snapshot: RgbImage | null = null;
      const loss = tidy(() => {
        const { losses, grad } = gatys.evaluate(x);
        if (o.saveImages && wanted.has(k)) snapshot = tensorToImage(vgg.deprocess(x));
        if (k < maxIter) lbfgs.step(losses.total, grad);
        return summarise(losses);
      });
      curve.push(loss.total);
      const elapsed = (Date.now() - start) / 1000;
      if (wanted.has(k)) checkpoints.push({ iterations: k, loss, seconds: elapsed });
      if (snapshot) {
        const file = `${base}_lbfgs_${String(k).padStart(4, '0')}.png`;
        await saveImage(snapshot, file);
        images.push(file);
      }
      if (k > 0) {
        const rate = k / Math.max(elapsed, 1e-9);
        hooks.onProgress?.({ type: 'lbfgs', iteration: k, iterations: maxIter, loss, elapsedSeconds: elapsed, iterationsPerSecond: rate, etaSeconds: (maxIter - k) / rate });
      }
    }
    const match = curve.findIndex((v) => v <= fastLoss.total);
    const report: CompareReport = {
      model: { path: o.modelPath, style: model.metadata.style?.name ?? o.styleName, variant: model.net.variant },
      content: o.content,
      style: o.style,
      width: contentImage.width,
      height: contentImage.height,
      styleSize,
      objective,
      fast: { loss: fastLoss, ms: round(ms, 1) },
      lbfgs: { init: o.init, checkpoints, curve },
      lbfgsIterationsToMatch: match < 0 ? null : match,
      cancelled,
      threads: runtime.threads,
      device,
      seed: o.seed,
      plot: o.plot,
      images,
    };
    writeFileAtomicSync(o.output, JSON.stringify(report, null, 1) + '\n');
    writeFileAtomicSync(o.plot, comparePlot(report));
    return report;
  } finally {
    dispose(held.reverse());
  }
}

function summarise(l: LossBreakdown): CompareLoss {
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return { total: l.total, content: sum(l.content), style: sum(l.style), tv: l.tv };
}

function round(v: number, digits: number): number {
  return Number(v.toFixed(digits));
}

/** An SVG line chart: L-BFGS objective per iteration (log scale) and the fast network's level. */
export function comparePlot(r: CompareReport): string {
  const W = 640;
  const H = 400;
  const m = { left: 70, right: 20, top: 40, bottom: 50 };
  const curve = r.lbfgs.curve.length > 0 ? r.lbfgs.curve : [r.fast.loss.total];
  const values = [...curve, r.fast.loss.total].filter((v) => v > 0 && Number.isFinite(v));
  let lo = Math.log10(Math.min(...values));
  let hi = Math.log10(Math.max(...values));
  if (hi - lo < 1e-6) {
    lo -= 0.5;
    hi += 0.5;
  }
  lo = Math.floor(lo * 2) / 2;
  hi = Math.ceil(hi * 2) / 2;
  const maxIter = Math.max(1, curve.length - 1);
  const px = (i: number) => m.left + (i / maxIter) * (W - m.left - m.right);
  const py = (v: number) => m.top + (1 - (Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (H - m.top - m.bottom);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(`Objective: fast network '${r.model.style}' vs L-BFGS (${r.width}x${r.height})`)}</text>`);
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    const y = py(10 ** e).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">1e${e}</text>`);
  }
  const ticks = [0, ...r.lbfgs.checkpoints.map((c) => c.iterations)];
  for (const t of [...new Set(ticks)]) {
    const x = px(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${H - m.bottom}" y2="${H - m.bottom + 5}" stroke="black"/>`);
    parts.push(`<text x="${x}" y="${H - m.bottom + 18}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${H - m.bottom}" y2="${H - m.bottom}" stroke="black"/>`);
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${H - m.bottom}" stroke="black"/>`);
  parts.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 12}" text-anchor="middle">L-BFGS iterations</text>`);
  parts.push(`<text x="16" y="${(m.top + H - m.bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(m.top + H - m.bottom) / 2})">objective (log scale)</text>`);
  const points = curve.map((v, i) => `${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
  parts.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${points}"/>`);
  for (const c of r.lbfgs.checkpoints) parts.push(`<circle cx="${px(c.iterations).toFixed(1)}" cy="${py(c.loss.total).toFixed(1)}" r="3.5" fill="#1f77b4"/>`);
  const fy = py(r.fast.loss.total).toFixed(1);
  parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${fy}" y2="${fy}" stroke="#d62728" stroke-width="2" stroke-dasharray="6 4"/>`);
  parts.push(`<text x="${W - m.right - 4}" y="${Number(fy) - 6}" text-anchor="end" fill="#d62728">${esc(`fast network (${r.fast.ms.toFixed(0)} ms)`)}</text>`);
  parts.push(`<text x="${W - m.right - 4}" y="${m.top + 14}" text-anchor="end" fill="#1f77b4">L-BFGS from ${r.lbfgs.init}</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
