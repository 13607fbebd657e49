/**
 * The STROTSS objective on our VGG19. At every evaluation a few hundred to a thousand positions
 * of the output are sampled (a strided grid with a random offset, shuffled); the output's and the
 * photo's hypercolumns there give
 * - content: the self-similarity loss (the photo's structure, not its feature values);
 * - style: REMD with cosine cost against hypercolumns sampled once from the painting, plus the
 *   moment term (mean and covariance), plus a colour REMD on the RGB part weighted 1/max(α, 1);
 * combined as STROTSS does: (α·content + remd + m·(moments + colour)) / (α + 1 + m).
 *
 * One change from STROTSS: the moment term is taken per layer (the RGB pixels and each VGG19
 * layer, averaged) over every position, not over the sampled hypercolumns' full covariance.
 * STROTSS's optimiser sees every pixel through its Laplacian pyramid; ours moves pixels directly,
 * and a term read at every position gives every pixel a gradient at each evaluation. It is also
 * cheaper: C²·H·W per layer instead of D² per sample for the hypercolumn's covariance (D = 2,179
 * with nine layers: 0.4–0.7 s per evaluation with one thread on the shared 2-core machine). Each
 * layer's features are divided by the painting's mean activation there, so every layer weighs
 * alike whatever the input convention of the weights.
 *
 * Region guidance: with masks on the style sources, each style's terms see only the output
 * positions inside its mask (> 0.5), and the style terms are averaged over the regions (STROTSS
 * pairs regions the same way, from a colour-coded guide). The content term sees every position.
 *
 * Not done here: STROTSS optimises a Laplacian pyramid of the image with RMSprop; the project's
 * loop optimises pixels with L-BFGS, coarse to fine (see strotssDefaults.schedule).
 */
import { cat, keep, noGrad, resize, Tensor, tidy } from '../../engine';
import { Vgg19 } from '../../models/vgg19';
import { colourRemdLoss, featureMoments, FeatureMoments, featureRows, LossBreakdown, mixtureMoments, Objective, remdLoss, selfSimilarityLoss, StyleSource, totalVariation, weightedMoments } from '../../losses';
import { seededRandom } from '../../util/random';
import { randomFromTorch } from '../../losses/sampling';
import { strotssDefaults } from './defaults';
import { hypercolumns, Positions, Random, samplePositions } from './hypercolumns';

export interface StrotssOptions {
  /** Content weight of this stage (see strotssContentWeight; default 16, STROTSS's 64-px value). */
  contentWeight?: number;
  /** Weight of the moment term (default 1). */
  momentWeight?: number;
  /** Weight of the colour REMD inside the moment term (default 1/max(contentWeight, 1), as STROTSS). */
  colourWeight?: number;
  /** VGG19 layers of the hypercolumns (default strotssDefaults.layers). */
  layers?: readonly string[];
  /** Output positions per evaluation (default 1024). */
  samples?: number;
  /** Painting hypercolumns kept (default 2048), shared among several unmasked styles by weight. */
  styleSamples?: number;
  /** At most gridSide² candidate positions per sampling (default 128). */
  gridSide?: number;
  /** Draw new positions every this many evaluations (default 1). */
  resampleEvery?: number;
  /**
   * Weight of a smoothness term: the mean over pixels of the squared neighbour differences of the
   * RGB [0,1] image (default strotssDefaults.tvWeight; STROTSS has none, its pyramid smooths).
   */
  tvWeight?: number;
  /** Seed of the position sampling; default: drawn from libtorch's generator (see manualSeed). */
  seed?: number;
}

/** One style region: the painting's sampled hypercolumns and its moments per layer. */
interface Region {
  styleRows: Tensor;
  styleColours: Tensor;
  /** Per layer ('rgb' first), of the features divided by the layer's scale. */
  moments: Map<string, FeatureMoments>;
  /** Where this region's style paints, 1 × 1 × H × W at the output's size (kept), or everywhere. */
  mask?: Tensor;
  /** The mask as row weights [h·w, 1] at each layer's size, made on first use. */
  layerWeights: Map<string, Tensor>;
  allowed?: (row: number, col: number) => boolean;
}

/**
 * VGG19 activations on Caffe-convention input (0–255) are about 255 × 0.226 ≈ 58 times those of
 * the torchvision convention STROTSS used: its moment weights are kept by scaling them back.
 */
function featureScale(net: Vgg19): number {
  return net.preprocessing === 'caffe' ? 1 / (255 * 0.226) : 1;
}

export class StrotssObjective implements Objective {
  readonly layers: readonly string[];
  readonly contentWeight: number;
  readonly momentWeight: number;
  readonly colourWeight: number;
  private readonly samples: number;
  private readonly gridSide: number;
  private readonly resampleEvery: number;
  private readonly tvWeight: number;
  private readonly scale: number;
  private readonly random: Random;
  private readonly contentRgb: Tensor;
  private readonly contentFeatures = new Map<string, Tensor>();
  private readonly regions: Region[] = [];
  /** 1 / the painting's mean activation, per layer ('rgb': 1). */
  private readonly layerScales = new Map<string, number>();
  private positions: { content: Positions; regions: Positions[] } | null = null;
  private evaluations = 0;

  constructor(
    private readonly net: Vgg19,
    content: Tensor,
    style: Tensor | StyleSource[],
    options: StrotssOptions = {},
  ) {
    const sources = style instanceof Tensor ? [{ image: style }] : style;
    if (sources.length === 0) throw new Error('STROTSS needs a style image');
    const masked = sources.some((s) => s.mask);
    if (masked && !sources.every((s) => s.mask)) throw new Error('either every style has a mask or none has');
    this.layers = options.layers ?? strotssDefaults.layers;
    this.contentWeight = options.contentWeight ?? 16;
    this.momentWeight = options.momentWeight ?? strotssDefaults.momentWeight;
    this.colourWeight = options.colourWeight ?? 1 / Math.max(this.contentWeight, 1);
    this.samples = options.samples ?? strotssDefaults.samples;
    this.gridSide = options.gridSide ?? strotssDefaults.gridSide;
    this.resampleEvery = options.resampleEvery ?? strotssDefaults.resampleEvery;
    this.tvWeight = options.tvWeight ?? strotssDefaults.tvWeight;
    this.scale = featureScale(net);
    this.random = options.seed === undefined ? randomFromTorch() : seededRandom(options.seed);
    const styleSamples = options.styleSamples ?? strotssDefaults.styleSamples;
    const [, , height, width] = content.shape;

    this.contentRgb = keep(noGrad(() => tidy(() => net.deprocess(content))));
    noGrad(() =>
      tidy(() => {
        const fc = net.forward(content, this.layers);
        for (const l of this.layers) this.contentFeatures.set(l, keep(fc.get(l)!.clone()));
      }),
    );
    const weightSum = sources.reduce((a, t) => a + (t.weight ?? 1), 0);
    const styles = sources.map((s) => this.styleStatistics(s.image, masked ? styleSamples : Math.max(1, Math.round((styleSamples * (s.weight ?? 1)) / weightSum))));
    if (masked) {
      sources.forEach((s, i) => {
        const m = noGrad(() => tidy(() => s.mask!.reshape([height * width]).data()));
        const mask = keep(noGrad(() => s.mask!.clone()));
        this.regions.push(this.region(styles[i].rows, styles[i].moments, (r, c) => m[r * width + c] > 0.5, mask));
      });
    } else if (styles.length === 1) {
      this.regions.push(this.region(styles[0].rows, styles[0].moments));
    } else {
      // Several paintings without masks: one pooled style, each in proportion to its weight.
      const pooled = noGrad(() =>
        tidy(() => {
          const rows = keep(cat(styles.map((s) => s.rows), 0));
          const moments = new Map([...styles[0].moments.keys()].map((l) => [l, keepMoments(mixtureMoments(styles.map((s, i) => ({ moments: s.moments.get(l)!, weight: (sources[i].weight ?? 1) / weightSum }))))]));
          return { rows, moments };
        }),
      );
      for (const s of styles) disposeStatistics(s);
      this.regions.push(this.region(pooled.rows, pooled.moments));
    }
  }

  /** Feature rows of a map scaled for the moment term: [h·w, C] (the 'rgb' map: the pixels). */
  private momentRows(layer: string, map: Tensor): Tensor {
    return featureRows(map).mul(this.layerScales.get(layer)!);
  }

  /**
   * A painting's sampled hypercolumns ([M, D], kept) and its per-layer moments (kept). The first
   * painting sets each layer's scale.
   */
  private styleStatistics(image: Tensor, count: number): { rows: Tensor; moments: Map<string, FeatureMoments> } {
    return noGrad(() =>
      tidy(() => {
        const [, , h, w] = image.shape;
        const features = this.net.forward(image, this.layers);
        const rgb = this.net.deprocess(image);
        features.set('rgb', rgb);
        if (this.layerScales.size === 0) {
          this.layerScales.set('rgb', 1);
          for (const l of this.layers) this.layerScales.set(l, 1 / Math.max(features.get(l)!.abs().mean().item(), 1e-8));
        }
        const positions = samplePositions(h, w, count, this.random, Math.max(h, w));
        const rows = keep(hypercolumns(rgb, features, this.layers, positions, this.scale));
        const moments = new Map(['rgb', ...this.layers].map((l) => [l, keepMoments(featureMoments(this.momentRows(l, features.get(l)!)))]));
        return { rows, moments };
      }),
    );
  }

  private region(styleRows: Tensor, moments: Map<string, FeatureMoments>, allowed?: (row: number, col: number) => boolean, mask?: Tensor): Region {
    const colours = keep(noGrad(() => tidy(() => styleRows.narrow(1, 0, 3).clone())));
    return { styleRows, styleColours: colours, moments, allowed, mask, layerWeights: new Map() };
  }

  /** The region's mask as row weights at a map's size ([h·w, 1], cached). */
  private maskWeights(region: Region, layer: string, map: Tensor): Tensor {
    const [, , h, w] = map.shape;
    let m = region.layerWeights.get(layer);
    if (!m || m.shape[0] !== h * w) {
      m?.dispose();
      m = keep(noGrad(() => tidy(() => resize(region.mask!, h, w, 'bilinear').reshape([h * w, 1]))));
      region.layerWeights.set(layer, m);
    }
    return m;
  }

  /** The moment term of a region: mean over 'rgb' and the layers of mean|Δμ| + mean|ΔΣ|, every position (weighted by the mask). */
  private regionMoments(region: Region, maps: Map<string, Tensor>): Tensor {
    let sum: Tensor | null = null;
    for (const [layer, target] of region.moments) {
      const rows = this.momentRows(layer, maps.get(layer)!);
      const m = region.mask ? weightedMoments(rows, this.maskWeights(region, layer, maps.get(layer)!)) : featureMoments(rows);
      const term = m.mean.sub(target.mean).abs().mean().add(m.cov.sub(target.cov).abs().mean());
      sum = sum ? sum.add(term) : term;
    }
    return sum!.div(region.moments.size);
  }

  /** The positions of this evaluation: new ones every `resampleEvery` evaluations. */
  private currentPositions(height: number, width: number): { content: Positions; regions: Positions[] } {
    if (!this.positions || this.evaluations % this.resampleEvery === 0) {
      const content = samplePositions(height, width, this.samples, this.random, this.gridSide);
      const regions = this.regions.map((r) => (r.allowed ? samplePositions(height, width, this.samples, this.random, this.gridSide, r.allowed) : content));
      this.positions = { content, regions };
    }
    this.evaluations++;
    return this.positions;
  }

  /** The weighted terms at x (tensors in the caller's scope) and the total. */
  terms(x: Tensor): { total: Tensor; content: Map<string, Tensor>; style: Map<string, Tensor>; tv: Tensor } {
    const [, , height, width] = x.shape;
    const [, , ch, cw] = this.contentRgb.shape;
    if (ch !== height || cw !== width) throw new Error(`StrotssObjective: the image is ${width}x${height}, the content ${cw}x${ch}`);
    const positions = this.currentPositions(height, width);
    const rgb = this.net.deprocess(x);
    const features = this.net.forward(x, this.layers);
    const maps = new Map([['rgb', rgb], ...features]);
    const columns = (p: Positions) => hypercolumns(rgb, features, this.layers, p, this.scale);
    const output = columns(positions.content);
    const photo = noGrad(() => hypercolumns(this.contentRgb, this.contentFeatures, this.layers, positions.content, this.scale));

    const norm = this.contentWeight + 1 + this.momentWeight;
    const content = selfSimilarityLoss(output, photo).mul(this.contentWeight / norm);
    let remd: Tensor | null = null;
    let moments: Tensor | null = null;
    let colour: Tensor | null = null;
    const used = this.regions.filter((_, i) => positions.regions[i].rows.length > 0);
    this.regions.forEach((region, i) => {
      const p = positions.regions[i];
      if (p.rows.length === 0) return; // a mask with no position in this sampling grid
      const rows = p === positions.content ? output : columns(p);
      const share = 1 / (norm * used.length);
      const r = remdLoss(rows, region.styleRows).mul(share);
      const m = this.regionMoments(region, maps).mul(this.momentWeight * share);
      const c = colourRemdLoss(rows.narrow(1, 0, 3), region.styleColours).mul(this.momentWeight * this.colourWeight * share);
      remd = remd ? remd.add(r) : r;
      moments = moments ? moments.add(m) : m;
      colour = colour ? colour.add(c) : c;
    });
    if (!remd || !moments || !colour) throw new Error('StrotssObjective: no style region has a sampled position');
    const tv = totalVariation(rgb).mul(this.tvWeight / (height * width));
    const style = new Map<string, Tensor>([['remd', remd], ['moments', moments], ['colour', colour]]);
    const total = content.add(remd).add(moments).add(colour).add(tv);
    return { total, content: new Map([['self-similarity', content]]), style, tv };
  }

  evaluate(x: Tensor): { losses: LossBreakdown; grad: Tensor } {
    const t = this.terms(x);
    x.zeroGrad();
    t.total.backward();
    const grad = x.grad();
    if (!grad) throw new Error('no gradient reached the image');
    const read = (m: Map<string, Tensor>) => Object.fromEntries([...m].map(([k, v]) => [k, v.item()]));
    return { losses: { total: t.total.item(), content: read(t.content), style: read(t.style), tv: t.tv.item() }, grad };
  }

  dispose(): void {
    this.contentRgb.dispose();
    for (const t of this.contentFeatures.values()) t.dispose();
    this.contentFeatures.clear();
    for (const r of this.regions) {
      r.styleRows.dispose();
      r.styleColours.dispose();
      for (const m of r.moments.values()) disposeMoments(m);
      for (const t of r.layerWeights.values()) t.dispose();
      r.mask?.dispose();
    }
    this.regions.length = 0;
  }
}

function keepMoments(m: FeatureMoments): FeatureMoments {
  return { mean: keep(m.mean), cov: keep(m.cov) };
}

function disposeMoments(m: FeatureMoments): void {
  m.mean.dispose();
  m.cov.dispose();
}

function disposeStatistics(s: { rows: Tensor; moments: Map<string, FeatureMoments> }): void {
  s.rows.dispose();
  for (const m of s.moments.values()) disposeMoments(m);
}
