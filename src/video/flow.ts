/**
 * Dense optical flow between two frames: OpenCV's Farnebäck method (coarse-to-fine polynomial
 * expansion) from @techstark/opencv-js, run on a greyscale copy of the frames at most
 * FLOW_MAX_SIDE pixels wide, then upsampled to the frame size. Chosen over a hand-written method
 * for its accuracy on synthetic shifts (see docs/video.md for the measurements).
 *
 * Convention: flow(from, to) gives, for each pixel p of `from`, the displacement d with
 * from(p) ≈ to(p + d). So the backward flow (frame t → frame t−1) says where each pixel of
 * frame t was in the previous frame, which is what warping the previous frame needs.
 */
import type { RgbImage } from '../image';

/** A dense flow field: per-pixel displacements in pixels, row-major. */
export interface Flow {
  width: number;
  height: number;
  u: Float32Array;
  v: Float32Array;
}

/** A greyscale image in [0,1], row-major. */
export interface Grey {
  width: number;
  height: number;
  data: Float32Array;
}

/** Flow is computed on frames downscaled to at most this side (speed; the flow is smooth anyway). */
export const FLOW_MAX_SIDE = 192;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OpenCv = any;
/** The loaded OpenCV module, wrapped (see loadOpenCv). */
export interface OpenCvModule {
  cv: OpenCv;
}
let openCv: Promise<OpenCvModule> | undefined;

/** Loads the OpenCV WebAssembly module once (≈3 s), in the calling thread. */
export function loadOpenCv(): Promise<OpenCvModule> {
  // The module is an Emscripten thenable: resolving a promise with it (or awaiting it) never
  // settles, so it travels wrapped in an object and readiness comes from the runtime callback.
  openCv ??= new Promise<OpenCvModule>((resolve, reject) => {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const cv = require('@techstark/opencv-js');
      if (cv.Mat) resolve({ cv });
      else cv.onRuntimeInitialized = () => resolve({ cv });
    } catch (err) {
      reject(err);
    }
  });
  return openCv;
}

/** Luma (Rec. 601) of a planar RGB image. */
export function toGrey(image: RgbImage): Grey {
  const n = image.width * image.height;
  const d = image.data;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = 0.299 * d[i] + 0.587 * d[n + i] + 0.114 * d[2 * n + i];
  return { width: image.width, height: image.height, data };
}

/** Box-filter downscale by an integer factor (the flow is computed on the result). */
function downscale(g: Grey, factor: number): Grey {
  if (factor === 1) return g;
  const width = Math.floor(g.width / factor);
  const height = Math.floor(g.height / factor);
  const data = new Float32Array(width * height);
  const inv = 1 / (factor * factor);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let dy = 0; dy < factor; dy++) {
        const row = (y * factor + dy) * g.width + x * factor;
        for (let dx = 0; dx < factor; dx++) s += g.data[row + dx];
      }
      data[y * width + x] = s * inv;
    }
  }
  return { width, height, data };
}

/** Bilinear upsampling of a small flow to width × height, displacements scaled to the new size. */
function upscaleFlow(f: Flow, width: number, height: number): Flow {
  if (f.width === width && f.height === height) return f;
  const sx = f.width / width;
  const sy = f.height / height;
  const u = new Float32Array(width * height);
  const v = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), f.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, f.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), f.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, f.width - 1);
      const wx = fx - x0;
      const i00 = y0 * f.width + x0, i01 = y0 * f.width + x1, i10 = y1 * f.width + x0, i11 = y1 * f.width + x1;
      const o = y * width + x;
      u[o] = ((1 - wy) * ((1 - wx) * f.u[i00] + wx * f.u[i01]) + wy * ((1 - wx) * f.u[i10] + wx * f.u[i11])) / sx;
      v[o] = ((1 - wy) * ((1 - wx) * f.v[i00] + wx * f.v[i01]) + wy * ((1 - wx) * f.v[i10] + wx * f.v[i11])) / sy;
    }
  }
  return { width, height, u, v };
}

export interface FlowOptions {
  /** Longest side the flow is computed at (default FLOW_MAX_SIDE); 0 = the frame's own size. */
  maxSide?: number;
}

/**
 * Farnebäck parameters: 4 levels reach ±30 px at the flow size; a 21-px window with 7-px
 * polynomial neighbourhoods was the most accurate and the fastest of the settings measured on
 * synthetic shifts (docs/video.md).
 */
const FARNEBACK = { pyrScale: 0.5, levels: 4, winSize: 21, iterations: 3, polyN: 7, polySigma: 1.5 };

/**
 * Dense flow from `from` to `to` (both the same size). Needs loadOpenCv() first.
 */
export function computeFlow({ cv }: OpenCvModule, from: Grey, to: Grey, options: FlowOptions = {}): Flow {
  const maxSide = options.maxSide ?? FLOW_MAX_SIDE;
  const side = Math.max(from.width, from.height);
  const factor = maxSide > 0 && side > maxSide ? Math.ceil(side / maxSide) : 1;
  const a = downscale(from, factor);
  const b = downscale(to, factor);
  const matA = toMat(cv, a);
  const matB = toMat(cv, b);
  const flow = new cv.Mat();
  try {
    const p = FARNEBACK;
    cv.calcOpticalFlowFarneback(matA, matB, flow, p.pyrScale, p.levels, p.winSize, p.iterations, p.polyN, p.polySigma, 0);
    const n = a.width * a.height;
    const d = flow.data32F as Float32Array;
    const u = new Float32Array(n);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      u[i] = d[2 * i];
      v[i] = d[2 * i + 1];
    }
    return upscaleFlow({ width: a.width, height: a.height, u, v }, from.width, from.height);
  } finally {
    matA.delete();
    matB.delete();
    flow.delete();
  }
}

function toMat(cv: OpenCv, g: Grey): OpenCv {
  const mat = new cv.Mat(g.height, g.width, cv.CV_8UC1);
  const out = mat.data as Uint8Array;
  for (let i = 0; i < g.data.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(g.data[i] * 255)));
  return mat;
}
