/**
 * The arbitrary-style transformer (Magenta, Ghiasi et al. 2017) in TensorFlow.js, steered by a
 * style vector the server fitted to a painting: "any painting" in this browser, webcam included.
 * The network is the original TF.js graph model, served by our server (GET /api/models/arbitrary/
 * model.json), loaded once and shared by every fitted style; each style is just its 100 numbers
 * (GET /api/styles/:name/vector).
 *
 * One change to the graph: its 16 zero paddings (Pad) become reflection paddings (MirrorPad),
 * because the server's port pads by reflection (src/models/arbitrary-transformer.ts: no 2–4 px
 * frame at the edges) and the page should paint what the server paints. Sizes that are not
 * multiples of 4 are padded by reflection at the bottom and right and cropped, as on the server.
 *
 * The pass is finished as the server's fast jobs finish it (src/jobs/kinds/fast.ts), with the
 * settings the vector comes with (`finish`): painted at `paintScale` × the photo's size and
 * resized back (paint-scale.ts), then `paletteMatch` of the way toward the painting's OkLAB
 * palette (palette-match.ts). A server without `finish` gets the plain pass.
 */
import type * as TF from '@tensorflow/tfjs';
import { BrowserStyleNet, paintInto, PaintSource } from './fast-net.js';
import { paintAtScale } from './paint-scale.js';
import { matchPalette, Palette, PlanarImage } from './palette-match.js';

const VECTOR_LENGTH = 100;

interface GraphNode {
  op: string;
  attr?: Record<string, unknown>;
}

/** The graph with its zero paddings turned into reflection paddings (same inputs, same sizes). */
export function withReflectionPadding(topology: { node: GraphNode[] }): { node: GraphNode[] } {
  const reflect = { s: Array.from('REFLECT', (c) => c.charCodeAt(0)) };
  return { ...topology, node: topology.node.map((n) => (n.op === 'Pad' ? { ...n, op: 'MirrorPad', attr: { ...(n.attr ?? {}), mode: reflect } } : n)) };
}

const models = new Map<string, Promise<TF.GraphModel>>();

/** The graph model at `url` (model.json; weight files beside it), loaded once per page. */
function loadGraph(url: string): Promise<TF.GraphModel> {
  let model = models.get(url);
  if (!model) {
    model = (async () => {
      const res = await fetch(url, { credentials: 'same-origin' });
      if (!res.ok) throw new Error(`cannot load the arbitrary-style transformer (${res.status})`);
      const json = await res.json();
      const specs: TF.io.WeightsManifestEntry[] = [];
      const buffers: ArrayBuffer[] = [];
      for (const group of json.weightsManifest as TF.io.WeightsManifestConfig) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const part = await fetch(new URL(p, new URL(url, location.href)).href, { credentials: 'same-origin' });
          if (!part.ok) throw new Error(`cannot load the transformer's weights (${part.status})`);
          buffers.push(await part.arrayBuffer());
        }
      }
      const weightData = concat(buffers);
      return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: withReflectionPadding(json.modelTopology), weightSpecs: specs, weightData }));
    })();
    models.set(url, model);
    model.catch(() => models.delete(url));
  }
  return model;
}

function concat(parts: ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  return out.buffer;
}

/** How the server finishes a fitted style's pass (GET /api/styles/:name/vector's `finish`). */
export interface StyliseFinish {
  paintScale: number;
  paletteMatch: number;
  /** The painting's OkLAB mean and covariance, from the server; null: none (no palette match). */
  palette: Palette | null;
}

const PLAIN_PASS: StyliseFinish = { paintScale: 1, paletteMatch: 0, palette: null };

/** The `finish` of a vector response, checked; the plain pass when absent (an older server). */
function readFinish(finish: unknown): StyliseFinish {
  if (finish == null) return PLAIN_PASS;
  const f = finish as Partial<StyliseFinish>;
  const ok = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;
  const p = f.palette;
  const palette = p && Array.isArray(p.mean) && p.mean.length === 3 && Array.isArray(p.cov) && p.cov.length === 3 ? p : null;
  if (!ok(f.paintScale, 1e-3, 16) || !ok(f.paletteMatch, 0, 1)) throw new Error('the server sent a finish the page does not understand');
  return { paintScale: f.paintScale!, paletteMatch: f.paletteMatch!, palette };
}

export class ArbitraryNet implements BrowserStyleNet {
  private constructor(
    readonly name: string,
    private readonly graph: TF.GraphModel,
    private readonly vector: TF.Tensor4D,
    readonly finish: StyliseFinish,
  ) {}

  /** The fitted style `name`: its vector from `vectorUrl`, the network from `modelUrl`. */
  static async load(name: string, vectorUrl: string, modelUrl: string): Promise<ArbitraryNet> {
    const res = await fetch(vectorUrl, { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`cannot load the style '${name}' (${res.status})`);
    const { vector, finish } = (await res.json()) as { vector: number[]; finish?: unknown };
    if (!Array.isArray(vector) || vector.length !== VECTOR_LENGTH) throw new Error(`style '${name}': not a style vector`);
    const graph = await loadGraph(modelUrl);
    return new ArbitraryNet(name, graph, tf.tensor4d(vector, [1, 1, 1, VECTOR_LENGTH], 'float32'), readFinish(finish));
  }

  dispose(): void {
    this.vector.dispose(); // the graph stays loaded for the next fitted style
  }

  /** RGB 0..255 [1,H,W,3] → RGB 0..255 [1,H,W,3], at the finish's paint scale (no palette yet). */
  forward(x: TF.Tensor4D): TF.Tensor4D {
    return tf.tidy(() => tf.mul(paintAtScale(tf.div(x, 255) as TF.Tensor4D, this.finish.paintScale, (input) => this.stylise(input)), 255) as TF.Tensor4D);
  }

  /** One pass of the network: RGB [0,1] [1,H,W,3] in and out, any size. */
  private stylise(x: TF.Tensor4D): TF.Tensor4D {
    return tf.tidy(() => {
      const [, height, width] = x.shape;
      const padH = (4 - (height % 4)) % 4;
      const padW = (4 - (width % 4)) % 4;
      let input = x;
      if (padH || padW) input = tf.mirrorPad(input, [[0, 0], [0, padH], [0, padW], [0, 0]], 'reflect');
      let y = this.graph.execute({ Placeholder: input, Placeholder_1: this.vector }) as TF.Tensor4D;
      if (padH || padW) y = tf.slice(y, [0, 0, 0, 0], [1, height, width, 3]);
      return y;
    });
  }

  stylizeTo(source: PaintSource, canvas: HTMLCanvasElement, maxSide: number, strength = 1): Promise<number> {
    const { palette, paletteMatch } = this.finish;
    const finish = palette && paletteMatch > 0 ? (image: PlanarImage) => matchPalette(image, palette, paletteMatch) : undefined;
    return paintInto((x) => this.forward(x), source, canvas, maxSide, strength, finish);
  }
}
