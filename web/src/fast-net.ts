/**
 * The feed-forward style network (Johnson et al. 2016 with instance norm) in TensorFlow.js, so the
 * pretrained and trained fast styles run in the browser. Weights come from the server as one
 * safetensors file in the project's style-model format (docs/model-format.md): parameters named
 * as in src/models/transformer-net.ts, in TensorFlow layouts, and the architecture in the
 * metadata. Both variants are implemented:
 *   johnson-ml5       zero padding (stride-2 convs: TensorFlow SAME), transposed convs cropped to
 *                     2H×2W, instance norm (eps 1e-3) after every conv;
 *   johnson-upsample  reflection padding, nearest ×2 upsampling + 3×3 conv, eps 1e-5, and a conv
 *                     with bias (no norm) before the output.
 * Output: f(x)·150 + 127.5 on the 0..255 scale, f = tanh, or the identity where the architecture's
 * `outputActivation` is 'linear' (trained models).
 */
import type * as TF from '@tensorflow/tfjs';
import type { PlanarImage } from './palette-match.js';

declare global {
  // The UMD bundle (vendor/tf.min.js) defines the global `tf`.
  const tf: typeof TF;
}

interface Architecture {
  variant: 'johnson-ml5' | 'johnson-upsample';
  channels: [number, number, number];
  residualBlocks: number;
  normEps: number;
  /** Absent in older models: tanh. */
  outputActivation?: 'tanh' | 'linear';
  outputScale: number;
  outputOffset: number;
}

interface Layer {
  name: string;
  kernel: number;
  kind: 'conv' | 'down' | 'up';
  norm: boolean;
  bias: boolean;
}

function layers(arch: Architecture): Layer[] {
  const ml5 = arch.variant === 'johnson-ml5';
  const out: Layer[] = [
    { name: 'conv_in', kernel: 9, kind: 'conv', norm: true, bias: false },
    { name: 'down1', kernel: 3, kind: 'down', norm: true, bias: false },
    { name: 'down2', kernel: 3, kind: 'down', norm: true, bias: false },
  ];
  for (let r = 1; r <= arch.residualBlocks; r++) {
    for (const i of [1, 2]) out.push({ name: `res${r}.conv${i}`, kernel: 3, kind: 'conv', norm: true, bias: false });
  }
  out.push(
    { name: 'up1', kernel: 3, kind: 'up', norm: true, bias: false },
    { name: 'up2', kernel: 3, kind: 'up', norm: true, bias: false },
    { name: 'conv_out', kernel: 9, kind: 'conv', norm: ml5, bias: !ml5 },
  );
  return out;
}

/** Parses a safetensors file (F32 tensors only) and its nst metadata. */
export function parseSafetensors(buf: ArrayBuffer): { tensors: Map<string, { shape: number[]; values: Float32Array }>; metadata: any } {
  const view = new DataView(buf);
  const n = Number(view.getBigUint64(0, true));
  if (n <= 0 || 8 + n > buf.byteLength) throw new Error('not a safetensors file');
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
  const start = 8 + n;
  const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, entry] of Object.entries<any>(header)) {
    if (name === '__metadata__') continue;
    if (entry.dtype !== 'F32') throw new Error(`tensor ${name}: unsupported dtype ${entry.dtype}`);
    const [b, e] = entry.data_offsets as [number, number];
    // Copy: the data need not be 4-byte aligned within the file.
    const values = new Float32Array(buf.slice(start + b, start + e));
    tensors.set(name, { shape: entry.shape, values });
  }
  const meta = header.__metadata__ ?? {};
  return { tensors, metadata: typeof meta.nst === 'string' ? JSON.parse(meta.nst) : {} };
}

export class StyleNet implements BrowserStyleNet {
  private constructor(readonly name: string, readonly arch: Architecture, private readonly params: Map<string, TF.Tensor>) {}

  static async load(name: string, url: string): Promise<StyleNet> {
    const res = await fetch(url, { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`cannot load the style '${name}' (${res.status})`);
    const { tensors, metadata } = parseSafetensors(await res.arrayBuffer());
    const arch = metadata.architecture as Architecture | undefined;
    if (!arch || (arch.variant !== 'johnson-ml5' && arch.variant !== 'johnson-upsample')) throw new Error(`style '${name}': unknown architecture`);
    const params = new Map<string, TF.Tensor>();
    for (const [key, t] of tensors) {
      if (key.startsWith('adam.')) continue;
      params.set(key, tf.tensor(t.values, t.shape, 'float32'));
    }
    for (const l of layers(arch)) {
      const need = [`${l.name}.weight`, ...(l.norm ? [`${l.name}.norm.scale`, `${l.name}.norm.shift`] : []), ...(l.bias ? [`${l.name}.bias`] : [])];
      for (const k of need) if (!params.has(k)) throw new Error(`style '${name}': missing ${k}`);
    }
    return new StyleNet(name, arch, params);
  }

  dispose(): void {
    for (const t of this.params.values()) t.dispose();
    this.params.clear();
  }

  /** RGB 0..255 [1,H,W,3] → RGB 0..255 [1,H,W,3] (clamped). */
  forward(x: TF.Tensor4D): TF.Tensor4D {
    return tf.tidy(() => {
      const [, height, width] = x.shape;
      const specs = layers(this.arch);
      const layer = (name: string, h: TF.Tensor4D, relu: boolean) => this.layer(specs.find((l) => l.name === name)!, h, relu);
      let h = layer('conv_in', x, true);
      h = layer('down1', h, true);
      h = layer('down2', h, true);
      for (let r = 1; r <= this.arch.residualBlocks; r++) h = tf.add(h, layer(`res${r}.conv2`, layer(`res${r}.conv1`, h, true), false));
      h = layer('up1', h, true);
      h = layer('up2', h, true);
      h = layer('conv_out', h, false);
      if (h.shape[1] !== height || h.shape[2] !== width) h = tf.slice(h, [0, 0, 0, 0], [1, height, width, 3]);
      if (this.arch.outputActivation !== 'linear') h = tf.tanh(h);
      return tf.clipByValue(tf.add(tf.mul(h, this.arch.outputScale), this.arch.outputOffset), 0, 255) as TF.Tensor4D;
    });
  }

  /** Draws `source` stylised into `canvas`, its longest side at most `maxSide`. Returns milliseconds. */
  stylizeTo(source: PaintSource, canvas: HTMLCanvasElement, maxSide: number, strength = 1): Promise<number> {
    return paintInto((x) => this.forward(x), source, canvas, maxSide, strength);
  }

  private layer(spec: Layer, x: TF.Tensor4D, relu: boolean): TF.Tensor4D {
    const w = this.params.get(`${spec.name}.weight`)!;
    const ml5 = this.arch.variant === 'johnson-ml5';
    let h: TF.Tensor4D;
    if (spec.kind === 'up' && ml5) {
      const [, hh, ww] = x.shape;
      const outC = w.shape[2]!;
      const full = tf.conv2dTranspose(x, w as TF.Tensor4D, [1, 2 * hh + 1, 2 * ww + 1, outC], 2, 'valid');
      h = tf.slice(full, [0, 0, 0, 0], [1, 2 * hh, 2 * ww, outC]);
    } else if (ml5) {
      if (spec.kind === 'down') {
        h = tf.conv2d(x, w as TF.Tensor4D, 2, 'same');
      } else {
        const p = Math.floor(spec.kernel / 2);
        h = tf.conv2d(tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]), w as TF.Tensor4D, 1, 'valid');
      }
    } else {
      let input = x;
      if (spec.kind === 'up') input = tf.image.resizeNearestNeighbor(x, [2 * x.shape[1], 2 * x.shape[2]]);
      const p = Math.floor(spec.kernel / 2);
      h = tf.conv2d(padEdges(input, p), w as TF.Tensor4D, spec.kind === 'down' ? 2 : 1, 'valid');
      if (spec.bias) h = tf.add(h, this.params.get(`${spec.name}.bias`)!);
    }
    if (spec.norm) {
      const { mean, variance } = tf.moments(h, [1, 2], true);
      const scale = this.params.get(`${spec.name}.norm.scale`)!;
      const shift = this.params.get(`${spec.name}.norm.shift`)!;
      h = tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, this.arch.normEps))), scale), shift);
    }
    return relu ? tf.relu(h) : h;
  }
}

/** A network that paints in the browser: Johnson networks (StyleNet) and the arbitrary-style transformer. */
export interface BrowserStyleNet {
  readonly name: string;
  stylizeTo(source: PaintSource, canvas: HTMLCanvasElement, maxSide: number, strength?: number): Promise<number>;
  dispose(): void;
}

export type PaintSource = HTMLImageElement | HTMLVideoElement | HTMLCanvasElement | ImageBitmap;

/**
 * Draws `source` painted by `forward` (RGB 0..255 [1,H,W,3] in and out) into `canvas`, its
 * longest side at most `maxSide`; `finish` (fitted styles' palette) then works on the painted
 * pixels in [0,1], planar as on the server; strength below 1 blends with the photo. Returns milliseconds.
 */
export async function paintInto(
  forward: (x: TF.Tensor4D) => TF.Tensor4D,
  source: PaintSource,
  canvas: HTMLCanvasElement,
  maxSide: number,
  strength = 1,
  finish?: (image: PlanarImage) => PlanarImage,
): Promise<number> {
  const t0 = performance.now();
  const sw = source instanceof HTMLVideoElement ? source.videoWidth : source instanceof HTMLImageElement ? source.naturalWidth : source.width;
  const sh = source instanceof HTMLVideoElement ? source.videoHeight : source instanceof HTMLImageElement ? source.naturalHeight : source.height;
  const scale = Math.min(1, maxSide / Math.max(sw, sh)) || 1;
  const w = Math.max(1, Math.round(sw * scale));
  const h = Math.max(1, Math.round(sh * scale));
  const scratch = document.createElement('canvas');
  scratch.width = w;
  scratch.height = h;
  scratch.getContext('2d')!.drawImage(source, 0, 0, w, h);
  const x = tf.tidy(() => tf.expandDims(tf.cast(tf.browser.fromPixels(scratch), 'float32'), 0) as TF.Tensor4D);
  let out: TF.Tensor3D;
  if (finish) {
    // The painted pixels go to JavaScript (as the server's finish runs on the CPU), and back.
    const planar = tf.tidy(() => tf.transpose(tf.div(tf.squeeze(forward(x), [0]), 255), [2, 0, 1]));
    const data = (await planar.data()) as Float32Array;
    planar.dispose();
    const finished = finish({ width: w, height: h, data });
    out = tf.tidy(() => {
      let y: TF.Tensor = tf.transpose(tf.tensor3d(finished.data, [3, h, w]), [1, 2, 0]);
      if (strength < 1) y = tf.add(tf.mul(y, strength), tf.mul(tf.div(tf.squeeze(x, [0]), 255), 1 - strength));
      return tf.clipByValue(y, 0, 1) as TF.Tensor3D; // toPixels refuses a float a rounding step above 1
    });
  } else {
    out = tf.tidy(() => {
      let y: TF.Tensor = forward(x);
      if (strength < 1) y = tf.add(tf.mul(y, strength), tf.mul(x, 1 - strength));
      return tf.div(tf.squeeze(y, [0]), 255) as TF.Tensor3D;
    });
  }
  x.dispose();
  canvas.width = w;
  canvas.height = h;
  await tf.browser.toPixels(out, canvas);
  out.dispose();
  return performance.now() - t0;
}

/** Reflection padding; replication where the image is too small to reflect (as the server does). */
function padEdges(x: TF.Tensor4D, p: number): TF.Tensor4D {
  const [, h, w] = x.shape;
  if (p < Math.min(h, w)) return tf.mirrorPad(x, [[0, 0], [p, p], [p, p], [0, 0]], 'reflect');
  const rows = tf.concat([tf.tile(tf.slice(x, [0, 0, 0, 0], [-1, 1, -1, -1]), [1, p, 1, 1]), x, tf.tile(tf.slice(x, [0, h - 1, 0, 0], [-1, 1, -1, -1]), [1, p, 1, 1])], 1);
  return tf.concat([tf.tile(tf.slice(rows, [0, 0, 0, 0], [-1, -1, 1, -1]), [1, 1, p, 1]), rows, tf.tile(tf.slice(rows, [0, 0, w - 1, 0], [-1, -1, 1, -1]), [1, 1, p, 1])], 2) as TF.Tensor4D;
}

/** Picks a TF.js backend: the one asked for, else WebGPU, WebGL, then the CPU. Returns its name. */
export async function chooseBackend(wanted: string): Promise<string> {
  const order = wanted && wanted !== 'auto' ? [wanted] : ['webgpu', 'webgl', 'cpu'];
  for (const name of order) {
    if (name === 'webgpu' && !(navigator as any).gpu) continue;
    if (name === 'webgpu' && !tf.findBackendFactory('webgpu')) await loadScript('vendor/tf-backend-webgpu.min.js').catch(() => undefined);
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return tf.getBackend();
      }
    } catch {
      // try the next one
    }
  }
  throw new Error(`no TensorFlow.js backend available (${order.join(', ')})`);
}

function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.appendChild(s);
  });
}
