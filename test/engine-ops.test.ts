/**
 * Unit tests of the engine's tensor ops (src/engine/tensor.ts) against values computed by hand or
 * by naive JavaScript references, plus the tidy/keep scope API and tensor bookkeeping.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  avgPool2d,
  cat,
  conv2d,
  convTranspose2d,
  dispose,
  full,
  gradients,
  keep,
  liveTensors,
  manualSeed,
  maxPool2d,
  mseLoss,
  pad,
  rand,
  randn,
  resize,
  stack,
  tensor,
  Tensor,
  tidy,
  zeros,
} from '../src/engine';
import { engineSuite, uniform } from './helpers/numeric';

// ---------------------------------------------------------------------------------------------
// helpers



function range(n: number, start = 0): number[] {
  return Array.from({ length: n }, (_, i) => start + i);
}

function prod(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Element-wise closeness: |a − e| ≤ atol + rtol·|e| for every element, same length. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-5, what = ''): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${what}[${i}]: ${a} vs NaN`);
      continue;
    }
    if (!Number.isFinite(e)) {
      assert.equal(a, e, `${what}[${i}]`);
      continue;
    }
    assert.ok(Math.abs(a - e) <= atol + rtol * Math.abs(e), `${what}[${i}]: ${a} vs ${e}`);
  }
}

/** Shape and values of a tensor. */
function assertTensor(t: Tensor, shape: number[], expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-5, what = ''): void {
  assert.deepEqual(t.shape, shape, `${what}: shape`);
  assertClose(t.data(), expected, atol, rtol, what);
}

function scalarOf(t: Tensor): number {
  assert.deepEqual(t.shape, [], 'expected a 0-d tensor');
  return t.item();
}

/** Naive NCHW conv2d (weight [Cout, Cin, kH, kW]). */
function naiveConv2d(
  x: Float32Array, xs: number[], w: Float32Array, ws: number[], b: Float32Array | null, stride: number, padding: number,
): { data: Float64Array; shape: number[] } {
  const [n, cin, h, wd] = xs;
  const [cout, cin2, kh, kw] = ws;
  assert.equal(cin, cin2);
  const oh = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const ow = Math.floor((wd + 2 * padding - kw) / stride) + 1;
  const out = new Float64Array(n * cout * oh * ow);
  for (let ni = 0; ni < n; ni++)
    for (let co = 0; co < cout; co++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          let acc = b ? b[co] : 0;
          for (let ci = 0; ci < cin; ci++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * stride - padding + ky;
                const ix = ox * stride - padding + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                acc += x[((ni * cin + ci) * h + iy) * wd + ix] * w[((co * cin + ci) * kh + ky) * kw + kx];
              }
          out[((ni * cout + co) * oh + oy) * ow + ox] = acc;
        }
  return { data: out, shape: [n, cout, oh, ow] };
}

/** Naive NCHW transposed conv2d (weight [Cin, Cout, kH, kW]), scattering each input pixel. */
function naiveConvTranspose2d(
  x: Float32Array, xs: number[], w: Float32Array, ws: number[], b: Float32Array | null,
  stride: number, padding: number, outputPadding: number,
): { data: Float64Array; shape: number[] } {
  const [n, cin, h, wd] = xs;
  const [cin2, cout, kh, kw] = ws;
  assert.equal(cin, cin2);
  const oh = (h - 1) * stride - 2 * padding + kh + outputPadding;
  const ow = (wd - 1) * stride - 2 * padding + kw + outputPadding;
  const out = new Float64Array(n * cout * oh * ow);
  for (let ni = 0; ni < n; ni++) {
    for (let co = 0; co < cout; co++) for (let i = 0; i < oh * ow; i++) out[(ni * cout + co) * oh * ow + i] = b ? b[co] : 0;
    for (let ci = 0; ci < cin; ci++)
      for (let iy = 0; iy < h; iy++)
        for (let ix = 0; ix < wd; ix++) {
          const v = x[((ni * cin + ci) * h + iy) * wd + ix];
          for (let co = 0; co < cout; co++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const oy = iy * stride - padding + ky;
                const ox = ix * stride - padding + kx;
                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                out[((ni * cout + co) * oh + oy) * ow + ox] += v * w[((ci * cout + co) * kh + ky) * kw + kx];
              }
        }
  }
  return { data: out, shape: [n, cout, oh, ow] };
}

/** Naive pooling (no padding, floor mode) over NCHW. */
function naivePool(x: Float32Array, xs: number[], k: number, s: number, kind: 'max' | 'avg'): { data: Float64Array; shape: number[] } {
  const [n, c, h, w] = xs;
  const oh = Math.floor((h - k) / s) + 1;
  const ow = Math.floor((w - k) / s) + 1;
  const out = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        let acc = kind === 'max' ? -Infinity : 0;
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const v = x[(p * h + oy * s + ky) * w + ox * s + kx];
            acc = kind === 'max' ? Math.max(acc, v) : acc + v;
          }
        out[(p * oh + oy) * ow + ox] = kind === 'max' ? acc : acc / (k * k);
      }
  return { data: out, shape: [n, c, oh, ow] };
}

/** Naive bilinear resize with align_corners = false (PyTorch's source-index rule). */
function naiveBilinear(x: Float32Array, xs: number[], oh: number, ow: number): Float64Array {
  const [n, c, h, w] = xs;
  const src = (dst: number, inSize: number, outSize: number): [number, number, number] => {
    const s = Math.max(0, (dst + 0.5) * (inSize / outSize) - 0.5);
    const i0 = Math.min(Math.floor(s), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    return [i0, i1, s - i0];
  };
  const out = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++)
    for (let oy = 0; oy < oh; oy++) {
      const [y0, y1, ly] = src(oy, h, oh);
      for (let ox = 0; ox < ow; ox++) {
        const [x0, x1, lx] = src(ox, w, ow);
        const at = (yy: number, xx: number) => x[(p * h + yy) * w + xx];
        out[(p * oh + oy) * ow + ox] =
          (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
      }
    }
  return out;
}

/** Row-major strides of a shape. */
function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Reduces `data` (row-major, shape) over `dims` with fn (sum of values), returning kept-shape values. */
function reduceJs(data: ArrayLike<number>, shape: number[], dims: number[], op: 'sum' | 'mean' | 'var' | 'varu'): number[] {
  const ndim = shape.length;
  const ds = dims.map((d) => (d < 0 ? d + ndim : d));
  const outShape = shape.map((s, i) => (ds.includes(i) ? 1 : s));
  const st = strides(shape);
  const ost = strides(outShape);
  const groups: number[][] = Array.from({ length: prod(outShape) }, () => []);
  for (let i = 0; i < data.length; i++) {
    let o = 0;
    for (let d = 0; d < ndim; d++) {
      const idx = Math.floor(i / st[d]) % shape[d];
      if (!ds.includes(d)) o += idx * ost[d];
    }
    groups[o].push(data[i]);
  }
  return groups.map((g) => {
    const sum = g.reduce((a, b) => a + b, 0);
    if (op === 'sum') return sum;
    const mean = sum / g.length;
    if (op === 'mean') return mean;
    const ss = g.reduce((a, b) => a + (b - mean) ** 2, 0);
    return op === 'var' ? ss / g.length : ss / (g.length - 1);
  });
}

engineSuite('engine-ops');

// ---------------------------------------------------------------------------------------------

describe('creation and accessors', () => {
  test('tensor(): shape, size, dtype, device, data() round trip, item()', () => {
    tidy(() => {
      const t = tensor([1.5, -2, 3, 4, 5, 6], [2, 3]);
      assert.deepEqual(t.shape, [2, 3]);
      assert.equal(t.size, 6);
      assert.equal(t.dtype, 'float32');
      assert.equal(t.device, 'cpu');
      const d = t.data();
      assert.ok(d instanceof Float32Array);
      assert.deepEqual(Array.from(d), [1.5, -2, 3, 4, 5, 6]);
      // data() is a copy: writing to it does not change the tensor
      d[0] = 100;
      assert.equal(t.data()[0], 1.5);
      assert.equal(tensor([42.25], [1]).item(), 42.25);
      assert.equal(tensor([-7], []).item(), -7);
      assert.deepEqual(tensor([-7], []).shape, []);
      assert.equal(tensor(new Float32Array([0.1]), [1, 1, 1]).item(), Math.fround(0.1));
    });
  });

  test('tensor() copies its input array', () => {
    tidy(() => {
      const src = new Float32Array([1, 2, 3]);
      const t = tensor(src, [3]);
      src[0] = 99;
      assert.deepEqual(Array.from(t.data()), [1, 2, 3]);
    });
  });

  test('tensor() with a shape that does not match the values throws', () => {
    assert.throws(() => tensor([1, 2, 3], [2, 2]), /shape does not match/);
  });

  test('item() of a tensor with more than one element throws', () => {
    tidy(() => {
      assert.throws(() => tensor([1, 2], [2]).item(), /one element/);
    });
  });

  test('full(), zeros()', () => {
    tidy(() => {
      assertTensor(full([2, 2], 3.5), [2, 2], [3.5, 3.5, 3.5, 3.5]);
      assertTensor(zeros([3]), [3], [0, 0, 0]);
      assert.equal(zeros([2, 0]).size, 0);
    });
  });

  test('rand() in [0,1), randn() ~ N(0,1), reproducible with manualSeed', () => {
    tidy(() => {
      manualSeed(1234);
      const u = rand([20000]).data();
      const z = randn([20000]).data();
      for (const v of u) assert.ok(v >= 0 && v < 1, `rand value ${v}`);
      const um = u.reduce((a, b) => a + b, 0) / u.length;
      assert.ok(Math.abs(um - 0.5) < 0.01, `rand mean ${um}`);
      const zm = z.reduce((a, b) => a + b, 0) / z.length;
      const zv = z.reduce((a, b) => a + (b - zm) ** 2, 0) / z.length;
      assert.ok(Math.abs(zm) < 0.03, `randn mean ${zm}`);
      assert.ok(Math.abs(zv - 1) < 0.05, `randn var ${zv}`);
      manualSeed(1234);
      assert.deepEqual(Array.from(rand([20000]).data()), Array.from(u));
      assert.deepEqual(Array.from(randn([20000]).data()), Array.from(z));
    });
  });

  test('clone(), detach(), to("cpu"), contiguous() keep values and are independent copies', () => {
    tidy(() => {
      const x = tensor(range(24), [1, 2, 3, 4]);
      const c = x.clone();
      c.fillInPlace(0);
      assert.deepEqual(Array.from(x.data()), range(24));
      assertTensor(x.detach(), [1, 2, 3, 4], range(24));
      const moved = x.to('cpu');
      assert.equal(moved.device, 'cpu');
      assertTensor(moved, [1, 2, 3, 4], range(24));
      // channels-last memory format: same logical values and shape in data()
      assertTensor(x.contiguous(true), [1, 2, 3, 4], range(24));
      assertTensor(x.permute([0, 2, 3, 1]).contiguous(), [1, 3, 4, 2], (() => {
        const out: number[] = [];
        for (let h = 0; h < 3; h++) for (let w = 0; w < 4; w++) for (let c2 = 0; c2 < 2; c2++) out.push(c2 * 12 + h * 4 + w);
        return out;
      })());
    });
  });

  test('cast to bfloat16 and back keeps values within bf16 precision', () => {
    tidy(() => {
      const values = [1, 0.5, -2, 256, 3.14159265, -2.71828183, 1000.5, 1e-3, -123.456, 65504, 1e10, 0];
      const x = tensor(values, [values.length]);
      const b = x.cast('bfloat16');
      assert.equal(b.dtype, 'bfloat16');
      assert.deepEqual(b.shape, [values.length]);
      const back = b.cast('float32');
      assert.equal(back.dtype, 'float32');
      const d = back.data();
      // bf16 keeps 8 significant bits: round-to-nearest error ≤ 2^-9 relative
      values.forEach((v, i) => assert.ok(Math.abs(d[i] - v) <= Math.abs(v) * 2 ** -9, `bf16(${v}) = ${d[i]}`));
      // powers of two and small integers are exact
      assert.equal(d[0], 1);
      assert.equal(d[1], 0.5);
      assert.equal(d[2], -2);
      assert.equal(d[3], 256);
      assert.equal(d[11], 0);
      // not the float32 values: precision really was lost
      assert.notEqual(d[4], Math.fround(3.14159265));
      // data() of a bf16 tensor reads the same values directly
      assert.deepEqual(Array.from(b.data()), Array.from(d));
      const h = x.narrow(0, 0, 8).cast('float16');
      assert.equal(h.dtype, 'float16');
      assertClose(h.data(), values.slice(0, 8), 0, 2 ** -11, 'float16');
    });
  });
});

describe('elementwise ops', () => {
  const a = [1, -2, 3.5, 4, -0.5, 6];
  const b = [2, 4, -1, 0.5, 8, -3];

  test('add/sub/mul/div with same-shape tensors', () => {
    tidy(() => {
      const x = tensor(a, [2, 3]);
      const y = tensor(b, [2, 3]);
      assertTensor(x.add(y), [2, 3], a.map((v, i) => v + b[i]));
      assertTensor(x.sub(y), [2, 3], a.map((v, i) => v - b[i]));
      assertTensor(x.mul(y), [2, 3], a.map((v, i) => v * b[i]));
      assertTensor(x.div(y), [2, 3], a.map((v, i) => v / b[i]));
      // operands are not modified
      assert.deepEqual(Array.from(x.data()), a);
    });
  });

  test('add/sub/mul/div with scalars', () => {
    tidy(() => {
      const x = tensor(a, [2, 3]);
      assertTensor(x.add(2.5), [2, 3], a.map((v) => v + 2.5));
      assertTensor(x.sub(1.25), [2, 3], a.map((v) => v - 1.25));
      assertTensor(x.mul(-2), [2, 3], a.map((v) => v * -2));
      assertTensor(x.div(4), [2, 3], a.map((v) => v / 4), 0, 0);
      assertTensor(x.div(3), [2, 3], a.map((v) => v / 3), 1e-6, 1e-6);
      assertTensor(x.div(0), [2, 3], a.map((v) => v / 0));
      assertTensor(zeros([2]).div(0), [2], [NaN, NaN]);
      assertTensor(x.neg(), [2, 3], a.map((v) => -v));
    });
  });

  test('broadcasting: row vector, column vector, outer product, leading dims', () => {
    tidy(() => {
      const m = tensor(range(6), [2, 3]);
      const row = tensor([10, 20, 30], [3]);
      const col = tensor([100, 200], [2, 1]);
      assertTensor(m.add(row), [2, 3], [10, 21, 32, 13, 24, 35]);
      assertTensor(m.sub(col), [2, 3], [-100, -99, -98, -197, -196, -195]);
      assertTensor(col.mul(row), [2, 3], [1000, 2000, 3000, 2000, 4000, 6000]);
      assertTensor(row.div(col), [2, 3], [0.1, 0.2, 0.3, 0.05, 0.1, 0.15], 1e-7, 1e-6);
      // [2,1,3] with [4,1] → [2,4,3]
      const p = tensor(range(6), [2, 1, 3]);
      const q = tensor([1, 2, 3, 4], [4, 1]);
      const r = p.mul(q);
      assert.deepEqual(r.shape, [2, 4, 3]);
      const expected: number[] = [];
      for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 3; k++) expected.push((i * 3 + k) * (j + 1));
      assertClose(r.data(), expected);
      // a 0-d tensor broadcasts against anything
      assertTensor(m.mul(tensor([2], [])), [2, 3], [0, 2, 4, 6, 8, 10]);
    });
  });

  test('incompatible broadcast shapes throw a one-line libtorch error', () => {
    tidy(() => {
      assert.throws(
        () => tensor(range(6), [2, 3]).add(tensor([1, 2], [2])),
        (err: unknown) => err instanceof Error && err.message.startsWith('libtorch:') && !err.message.includes('\n'),
      );
    });
  });

  test('pow', () => {
    tidy(() => {
      const x = tensor([0.5, 1, 2, 3, 4], [5]);
      assertTensor(x.pow(2), [5], [0.25, 1, 4, 9, 16]);
      assertTensor(x.pow(0.5), [5], [0.5, 1, 2, 3, 4].map(Math.sqrt), 1e-7, 1e-6);
      assertTensor(x.pow(-1), [5], [2, 1, 0.5, 1 / 3, 0.25], 1e-7, 1e-6);
      assertTensor(x.pow(0), [5], [1, 1, 1, 1, 1]);
      assertTensor(tensor([-2, -1.5, 3], [3]).pow(3), [3], [-8, -3.375, 27]);
      assertTensor(tensor([-4], [1]).pow(0.5), [1], [NaN]);
    });
  });

  test('maximum/minimum', () => {
    tidy(() => {
      const x = tensor(a, [2, 3]);
      const y = tensor(b, [2, 3]);
      assertTensor(x.maximum(y), [2, 3], a.map((v, i) => Math.max(v, b[i])));
      assertTensor(x.minimum(y), [2, 3], a.map((v, i) => Math.min(v, b[i])));
      assertTensor(x.maximum(tensor([0], [1])), [2, 3], a.map((v) => Math.max(v, 0)));
    });
  });

  test('clamp with both bounds, only min, only max', () => {
    tidy(() => {
      const x = tensor([-3, -1, 0, 0.5, 2, 10], [6]);
      assertTensor(x.clamp(-1.5, 1), [6], [-1.5, -1, 0, 0.5, 1, 1]);
      assertTensor(x.clamp(0, null), [6], [0, 0, 0, 0.5, 2, 10]);
      assertTensor(x.clamp(null, 0.25), [6], [-3, -1, 0, 0.25, 0.25, 0.25]);
    });
  });

  test('relu, tanh, sigmoid, sqrt, abs, exp, log, square match Math.*', () => {
    tidy(() => {
      // float32-representable inputs, so the references see exactly what the engine sees
      const v = [-2.5, -1, -0.25, 0, 0.3, 1, 2.75].map(Math.fround);
      const pos = [0.01, 0.25, 1, 2, 9, 100].map(Math.fround);
      const x = tensor(v, [v.length]);
      const p = tensor(pos, [pos.length]);
      const tol = [1e-6, 1e-6] as const;
      assertTensor(x.relu(), [7], v.map((t) => Math.max(0, t)), 0, 0, 'relu');
      assertTensor(x.tanh(), [7], v.map(Math.tanh), ...tol, 'tanh');
      assertTensor(x.sigmoid(), [7], v.map((t) => 1 / (1 + Math.exp(-t))), ...tol, 'sigmoid');
      assertTensor(x.abs(), [7], v.map(Math.abs), 0, 0, 'abs');
      assertTensor(x.exp(), [7], v.map(Math.exp), ...tol, 'exp');
      assertTensor(x.square(), [7], v.map((t) => t * t), ...tol, 'square');
      assertTensor(p.sqrt(), [6], pos.map(Math.sqrt), ...tol, 'sqrt');
      assertTensor(p.log(), [6], pos.map(Math.log), ...tol, 'log');
      assertTensor(tensor([-1], [1]).sqrt(), [1], [NaN], 0, 0, 'sqrt(-1)');
      assertTensor(tensor([0, -1], [2]).log(), [2], [-Infinity, NaN], 0, 0, 'log(0), log(-1)');
    });
  });
});

describe('reductions', () => {
  const shape = [2, 3, 4];
  const vals = uniform(24, 7);

  test('sum/mean/variance over all elements', () => {
    tidy(() => {
      const x = tensor(range(24), shape);
      assert.equal(scalarOf(x.sum()), 276);
      assert.equal(scalarOf(x.mean()), 11.5);
      // biased: Σ(i − 11.5)²/24 = (24² − 1)/12
      assert.ok(Math.abs(scalarOf(x.variance()) - (24 * 24 - 1) / 12) < 1e-4);
      assert.ok(Math.abs(scalarOf(x.variance(undefined, false, true)) - (24 * 24 - 1) / 12 * (24 / 23)) < 1e-4);
    });
  });

  test('sum/mean/variance over dims, with and without keepdim, negative dims', () => {
    tidy(() => {
      const x = tensor(vals, shape);
      const cases: { dims: number[]; keep: boolean; shape: number[] }[] = [
        { dims: [0], keep: false, shape: [3, 4] },
        { dims: [1], keep: true, shape: [2, 1, 4] },
        { dims: [-1], keep: false, shape: [2, 3] },
        { dims: [0, 2], keep: true, shape: [1, 3, 1] },
        { dims: [1, 2], keep: false, shape: [2] },
      ];
      for (const c of cases) {
        const what = `dims ${c.dims} keepdim ${c.keep}`;
        assertTensor(x.sum(c.dims, c.keep), c.shape, reduceJs(vals, shape, c.dims, 'sum'), 1e-5, 1e-5, `sum ${what}`);
        assertTensor(x.mean(c.dims, c.keep), c.shape, reduceJs(vals, shape, c.dims, 'mean'), 1e-6, 1e-5, `mean ${what}`);
        assertTensor(x.variance(c.dims, c.keep), c.shape, reduceJs(vals, shape, c.dims, 'var'), 1e-6, 1e-5, `var ${what}`);
        assertTensor(x.variance(c.dims, c.keep, true), c.shape, reduceJs(vals, shape, c.dims, 'varu'), 1e-6, 1e-5, `var(unbiased) ${what}`);
      }
    });
  });

  test('max, min, norm, dot', () => {
    tidy(() => {
      const x = tensor(vals, shape);
      assert.equal(scalarOf(x.max()), Math.max(...vals));
      assert.equal(scalarOf(x.min()), Math.min(...vals));
      const l2 = Math.sqrt(vals.reduce((a, v) => a + v * v, 0));
      assert.ok(Math.abs(scalarOf(x.norm()) - l2) < 1e-5 * l2);
      assert.equal(scalarOf(tensor([3, 4], [2]).norm()), 5);
      // dot treats both tensors as flat vectors, whatever their shapes
      assert.equal(scalarOf(tensor([1, 2, 3, 4], [2, 2]).dot(tensor([5, 6, 7, 8], [4]))), 70);
      const other = uniform(24, 8);
      const expected = vals.reduce((acc, v, i) => acc + v * other[i], 0);
      assert.ok(Math.abs(scalarOf(x.dot(tensor(other, [4, 6]))) - expected) < 1e-5);
      assert.equal(scalarOf(tensor([-5, 2, -9, 1], [2, 2]).max()), 2);
      assert.equal(scalarOf(tensor([-5, 2, -9, 1], [2, 2]).min()), -9);
    });
  });

  test('mseLoss = mean((a − b)²)', () => {
    tidy(() => {
      assert.equal(scalarOf(mseLoss(tensor([1, 2, 3, 4], [2, 2]), tensor([0, 2, 5, 1], [2, 2]))), (1 + 0 + 4 + 9) / 4);
      const p = uniform(30, 11);
      const q = uniform(30, 12);
      const expected = p.reduce((acc, v, i) => acc + (v - q[i]) ** 2, 0) / 30;
      assert.ok(Math.abs(scalarOf(mseLoss(tensor(p, [1, 2, 3, 5]), tensor(q, [1, 2, 3, 5]))) - expected) < 1e-6);
      assert.equal(scalarOf(mseLoss(tensor(p, [30]), tensor(p, [30]))), 0);
    });
  });
});

describe('shape ops', () => {
  test('matmul: 2-d, batched, matrix-vector', () => {
    tidy(() => {
      const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      const b = tensor([7, 8, 9, 10, 11, 12], [3, 2]);
      assertTensor(a.matmul(b), [2, 2], [58, 64, 139, 154]);
      assertTensor(b.matmul(a), [3, 3], [39, 54, 69, 49, 68, 87, 59, 82, 105]);
      assertTensor(a.matmul(tensor([1, 0, -1], [3])), [2], [-2, -2]);
      // batched [2,2,3] × [3,2] broadcast over the batch
      const batch = tensor([1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6], [2, 2, 3]);
      assertTensor(batch.matmul(b), [2, 2, 2], [58, 64, 139, 154, -58, -64, -139, -154]);
      // random 4×5 · 5×3 against a JS triple loop
      const p = uniform(20, 21);
      const q = uniform(15, 22);
      const expected: number[] = [];
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 3; j++) {
          let s = 0;
          for (let k = 0; k < 5; k++) s += p[i * 5 + k] * q[k * 3 + j];
          expected.push(s);
        }
      assertTensor(tensor(p, [4, 5]).matmul(tensor(q, [5, 3])), [4, 3], expected, 1e-5, 1e-5);
    });
  });

  test('matmul shape mismatch throws an Error with a one-line message starting with "libtorch:"', () => {
    tidy(() => {
      const a = tensor(range(6), [2, 3]);
      let caught: unknown;
      try {
        a.matmul(tensor(range(6), [2, 3]));
      } catch (err) {
        caught = err;
      }
      assert.ok(caught instanceof Error, 'matmul of [2,3] × [2,3] should throw');
      assert.ok(caught.message.startsWith('libtorch:'), caught.message);
      assert.ok(!caught.message.includes('\n'), `multi-line message: ${JSON.stringify(caught.message)}`);
      assert.ok(caught.message.length > 'libtorch: '.length, 'empty message');
      // and the engine stays usable afterwards
      assertTensor(a.matmul(a.transpose(0, 1)), [2, 2], [5, 14, 14, 50]);
    });
  });

  test('transpose, reshape (with -1), permute', () => {
    tidy(() => {
      const x = tensor(range(6), [2, 3]);
      assertTensor(x.transpose(0, 1), [3, 2], [0, 3, 1, 4, 2, 5]);
      assertTensor(x.transpose(1, 0), [3, 2], [0, 3, 1, 4, 2, 5]);
      assertTensor(x.reshape([3, 2]), [3, 2], range(6));
      assertTensor(x.reshape([-1]), [6], range(6));
      assertTensor(x.reshape([1, -1, 2]), [1, 3, 2], range(6));
      // libtorch 1.13 raises std::runtime_error here (ATen/InferSize.h), which the addon prefixes 'native:'
      assert.throws(() => x.reshape([4, 2]), (err: unknown) => err instanceof Error && /^(libtorch|native): shape '\[4, 2\]' is invalid/.test(err.message));
      const y = tensor(range(24), [2, 3, 4]);
      const p = y.permute([2, 0, 1]);
      assert.deepEqual(p.shape, [4, 2, 3]);
      const expected: number[] = [];
      for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expected.push(i * 12 + j * 4 + k);
      assertClose(p.data(), expected);
      assertTensor(y.transpose(0, 2), [4, 3, 2], (() => {
        const out: number[] = [];
        for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) out.push(i * 12 + j * 4 + k);
        return out;
      })());
      // reshape of a non-contiguous view still reads in logical order
      assertTensor(x.transpose(0, 1).reshape([6]), [6], [0, 3, 1, 4, 2, 5]);
    });
  });

  test('narrow, flip, indexSelect', () => {
    tidy(() => {
      const x = tensor(range(12), [3, 4]);
      assertTensor(x.narrow(0, 1, 2), [2, 4], [4, 5, 6, 7, 8, 9, 10, 11]);
      assertTensor(x.narrow(1, 1, 2), [3, 2], [1, 2, 5, 6, 9, 10]);
      assertTensor(x.narrow(-1, 3, 1), [3, 1], [3, 7, 11]);
      assert.throws(() => x.narrow(0, 2, 2), /libtorch:/);
      assertTensor(x.flip([0]), [3, 4], [8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3]);
      assertTensor(x.flip([1]), [3, 4], [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8]);
      assertTensor(x.flip([0, 1]), [3, 4], range(12).reverse());
      assertTensor(x.indexSelect(0, [2, 0, 2]), [3, 4], [8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11]);
      assertTensor(x.indexSelect(1, [3, 1]), [3, 2], [3, 1, 7, 5, 11, 9]);
      assert.throws(() => x.indexSelect(0, [3]), /libtorch:/);
    });
  });

  test('cat and stack', () => {
    tidy(() => {
      const a = tensor([1, 2, 3, 4], [2, 2]);
      const b = tensor([5, 6], [1, 2]);
      const c = tensor([7, 8, 9, 10], [2, 2]);
      assertTensor(cat([a, b], 0), [3, 2], [1, 2, 3, 4, 5, 6]);
      assertTensor(cat([a, c], 1), [2, 4], [1, 2, 7, 8, 3, 4, 9, 10]);
      assertTensor(cat([a, c, a], -1), [2, 6], [1, 2, 7, 8, 1, 2, 3, 4, 9, 10, 3, 4]);
      assertTensor(stack([a, c], 0), [2, 2, 2], [1, 2, 3, 4, 7, 8, 9, 10]);
      assertTensor(stack([a, c], 1), [2, 2, 2], [1, 2, 7, 8, 3, 4, 9, 10]);
      assertTensor(stack([a, c], 2), [2, 2, 2], [1, 7, 2, 8, 3, 9, 4, 10]);
      assert.throws(() => stack([a, b], 0), /libtorch:/);
      assert.throws(() => cat([a, b], 1), /libtorch:/);
    });
  });
});

describe('layers (NCHW)', () => {
  test('conv2d with a hand-computed 3×3 example', () => {
    tidy(() => {
      // x = 0..15 on a 4×4 grid, kernel of ones: each output is the 3×3 window sum
      const x = tensor(range(16), [1, 1, 4, 4]);
      const w = full([1, 1, 3, 3], 1);
      assertTensor(conv2d(x, w, null), [1, 1, 2, 2], [45, 54, 81, 90]);
      assertTensor(conv2d(x, w, tensor([0.5], [1])), [1, 1, 2, 2], [45.5, 54.5, 81.5, 90.5]);
      // padding 1: corner (0,0) sums 0+1+4+5
      const padded = conv2d(x, w, null, 1, 1);
      assert.deepEqual(padded.shape, [1, 1, 4, 4]);
      assertClose(padded.data(), [10, 18, 24, 18, 27, 45, 54, 39, 51, 81, 90, 63, 42, 66, 72, 50]);
      // stride 2 with padding 1
      assertTensor(conv2d(x, w, null, 2, 1), [1, 1, 2, 2], [10, 24, 51, 90]);
    });
  });

  test('conv2d matches a naive convolution on random inputs (stride, padding, bias)', () => {
    const configs = [
      { xs: [2, 3, 7, 6], ws: [4, 3, 3, 3], stride: 1, padding: 0, bias: false },
      { xs: [2, 3, 7, 6], ws: [4, 3, 3, 3], stride: 2, padding: 1, bias: true },
      { xs: [1, 2, 8, 9], ws: [5, 2, 5, 3], stride: 3, padding: 2, bias: true },
      { xs: [1, 4, 5, 5], ws: [2, 4, 1, 1], stride: 1, padding: 0, bias: true },
    ];
    configs.forEach((c, i) => {
      tidy(() => {
        const xd = uniform(prod(c.xs), 100 + i);
        const wd = uniform(prod(c.ws), 200 + i);
        const bd = c.bias ? uniform(c.ws[0], 300 + i) : null;
        const ref = naiveConv2d(xd, c.xs, wd, c.ws, bd, c.stride, c.padding);
        const out = conv2d(tensor(xd, c.xs), tensor(wd, c.ws), bd ? tensor(bd, [c.ws[0]]) : null, c.stride, c.padding);
        assertTensor(out, ref.shape, ref.data, 1e-5, 1e-4, `conv2d config ${i}`);
      });
    });
  });

  test('conv2d with mismatched channels throws a libtorch error', () => {
    tidy(() => {
      assert.throws(() => conv2d(zeros([1, 3, 5, 5]), zeros([2, 4, 3, 3]), null), /libtorch:/);
    });
  });

  test('convTranspose2d: hand-computed stride-2 example', () => {
    tidy(() => {
      // each input pixel stamps v·ones(2×2) at (2i, 2j): nearest-neighbour upsampling
      const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
      const w = full([1, 1, 2, 2], 1);
      assertTensor(convTranspose2d(x, w, null, 2), [1, 1, 4, 4], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
      // stride 1: overlapping 2×2 stamps add up
      assertTensor(convTranspose2d(x, w, tensor([10], [1]), 1), [1, 1, 3, 3], [11, 13, 12, 14, 20, 16, 13, 17, 14]);
    });
  });

  test('convTranspose2d matches a naive reference (stride, padding, outputPadding, bias)', () => {
    const configs = [
      { xs: [1, 2, 3, 4], ws: [2, 3, 3, 3], stride: 1, padding: 0, outPad: 0, bias: false },
      { xs: [2, 3, 4, 3], ws: [3, 2, 3, 3], stride: 2, padding: 1, outPad: 1, bias: true },
      { xs: [1, 2, 3, 3], ws: [2, 4, 4, 4], stride: 2, padding: 1, outPad: 0, bias: true },
      { xs: [1, 1, 2, 3], ws: [1, 2, 3, 2], stride: 3, padding: 0, outPad: 2, bias: true },
    ];
    configs.forEach((c, i) => {
      tidy(() => {
        const xd = uniform(prod(c.xs), 400 + i);
        const wd = uniform(prod(c.ws), 500 + i);
        const bd = c.bias ? uniform(c.ws[1], 600 + i) : null;
        const ref = naiveConvTranspose2d(xd, c.xs, wd, c.ws, bd, c.stride, c.padding, c.outPad);
        const out = convTranspose2d(tensor(xd, c.xs), tensor(wd, c.ws), bd ? tensor(bd, [c.ws[1]]) : null, c.stride, c.padding, c.outPad);
        assertTensor(out, ref.shape, ref.data, 1e-5, 1e-4, `convTranspose2d config ${i}`);
      });
    });
  });

  test('maxPool2d and avgPool2d: known values', () => {
    tidy(() => {
      const x = tensor([1, 5, 2, 0, -1, 3, 8, 4, 7, 6, -2, -3, 0, 2, 9, 1], [1, 1, 4, 4]);
      assertTensor(maxPool2d(x, 2), [1, 1, 2, 2], [5, 8, 7, 9]);
      assertTensor(avgPool2d(x, 2), [1, 1, 2, 2], [2, 3.5, 3.75, 1.25]);
      assertTensor(maxPool2d(x, 3, 1), [1, 1, 2, 2], [8, 8, 9, 9]);
      assertTensor(avgPool2d(x, 3, 1), [1, 1, 2, 2], [29 / 9, 23 / 9, 32 / 9, 28 / 9], 1e-6, 1e-6);
      // floor mode: 5×5 with kernel 2 gives 2×2
      assert.deepEqual(maxPool2d(zeros([1, 2, 5, 5]), 2).shape, [1, 2, 2, 2]);
      // all-negative windows: max is not clipped at 0
      assertTensor(maxPool2d(tensor([-4, -3, -2, -1], [1, 1, 2, 2]), 2), [1, 1, 1, 1], [-1]);
    });
  });

  test('maxPool2d and avgPool2d match naive pooling on random inputs', () => {
    const xs = [2, 3, 7, 8];
    const xd = uniform(prod(xs), 700);
    for (const [k, s] of [[2, 2], [3, 2], [3, 1], [2, 3]]) {
      tidy(() => {
        const x = tensor(xd, xs);
        const mx = naivePool(xd, xs, k, s, 'max');
        const av = naivePool(xd, xs, k, s, 'avg');
        assertTensor(maxPool2d(x, k, s), mx.shape, mx.data, 0, 0, `maxPool k${k} s${s}`);
        assertTensor(avgPool2d(x, k, s), av.shape, av.data, 1e-6, 1e-5, `avgPool k${k} s${s}`);
      });
    }
  });

  test('pad: constant (default 0 and a value), reflect, replicate', () => {
    tidy(() => {
      // [[1,2,3],[4,5,6]]
      const x = tensor([1, 2, 3, 4, 5, 6], [1, 1, 2, 3]);
      assertTensor(pad(x, [1, 0, 0, 1]), [1, 1, 3, 4], [0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0]);
      assertTensor(pad(x, [0, 2, 1, 0], 'constant', 9), [1, 1, 3, 5], [9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 4, 5, 6, 9, 9]);
      assertTensor(pad(x, [2, 1, 1, 1], 'reflect'), [1, 1, 4, 6], [
        6, 5, 4, 5, 6, 5,
        3, 2, 1, 2, 3, 2,
        6, 5, 4, 5, 6, 5,
        3, 2, 1, 2, 3, 2,
      ]);
      assertTensor(pad(x, [2, 1, 1, 2], 'replicate'), [1, 1, 5, 6], [
        1, 1, 1, 2, 3, 3,
        1, 1, 1, 2, 3, 3,
        4, 4, 4, 5, 6, 6,
        4, 4, 4, 5, 6, 6,
        4, 4, 4, 5, 6, 6,
      ]);
      // reflect needs pads smaller than the dimension
      assert.throws(() => pad(x, [0, 0, 2, 0], 'reflect'), /libtorch:/);
    });
  });

  test('pad reflect/replicate on random multi-channel input match index maps', () => {
    tidy(() => {
      const xs = [2, 3, 5, 4];
      const [n, c, h, w] = xs;
      const xd = uniform(prod(xs), 800);
      const pads: [number, number, number, number] = [3, 2, 1, 4];
      const [l, r, t, b] = pads;
      const reflect = (i: number, size: number) => (i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i);
      const replicate = (i: number, size: number) => Math.min(Math.max(i, 0), size - 1);
      for (const [mode, map] of [['reflect', reflect], ['replicate', replicate]] as const) {
        const oh = h + t + b;
        const ow = w + l + r;
        const expected: number[] = [];
        for (let p = 0; p < n * c; p++)
          for (let y = 0; y < oh; y++)
            for (let xx = 0; xx < ow; xx++) expected.push(xd[(p * h + map(y - t, h)) * w + map(xx - l, w)]);
        assertTensor(pad(tensor(xd, xs), pads, mode), [n, c, oh, ow], expected, 0, 0, mode);
      }
    });
  });

  test('resize nearest: 2×2 → 4×4 and 2×2 → 3×3', () => {
    tidy(() => {
      const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
      assertTensor(resize(x, 4, 4, 'nearest'), [1, 1, 4, 4], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
      // source index floor(dst · in/out): rows/cols [0, 0, 1]
      assertTensor(resize(x, 3, 3, 'nearest'), [1, 1, 3, 3], [1, 1, 2, 1, 1, 2, 3, 3, 4]);
      // downsampling 4×4 → 2×2 picks the even indices
      assertTensor(resize(tensor(range(16), [1, 1, 4, 4]), 2, 2, 'nearest'), [1, 1, 2, 2], [0, 2, 8, 10]);
    });
  });

  test('resize bilinear: 2×2 → 4×4 (align_corners false) and 2×2 → 3×3 (align_corners true)', () => {
    tidy(() => {
      const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
      // source coordinate (d + 0.5)/2 − 0.5 → weights [1,0], [.75,.25], [.25,.75], [0,1]
      assertTensor(resize(x, 4, 4), [1, 1, 4, 4], [
        1, 1.25, 1.75, 2,
        1.5, 1.75, 2.25, 2.5,
        2.5, 2.75, 3.25, 3.5,
        3, 3.25, 3.75, 4,
      ], 1e-6, 1e-6);
      assertTensor(resize(x, 4, 4, 'bilinear', false), [1, 1, 4, 4], resize(x, 4, 4).data());
      assertTensor(resize(x, 3, 3, 'bilinear', true), [1, 1, 3, 3], [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4], 1e-6, 1e-6);
      // same size is the identity
      assertTensor(resize(x, 2, 2), [1, 1, 2, 2], [1, 2, 3, 4]);
    });
  });

  test('resize area equals average pooling for integer factors; bicubic at the same size is the identity', () => {
    tidy(() => {
      const xs = [1, 2, 6, 8];
      const xd = uniform(prod(xs), 950);
      const x = tensor(xd, xs);
      assertTensor(resize(x, 3, 4, 'area'), [1, 2, 3, 4], naivePool(xd, xs, 2, 2, 'avg').data, 1e-6, 1e-5, 'area');
      assertTensor(resize(x, 6, 8, 'bicubic'), xs, xd, 1e-6, 1e-5, 'bicubic identity');
      assert.deepEqual(resize(x, 11, 5, 'bicubic').shape, [1, 2, 11, 5]);
    });
  });

  test('resize bilinear matches a naive reference for up- and downsampling', () => {
    const xs = [1, 2, 5, 7];
    const xd = uniform(prod(xs), 900);
    for (const [oh, ow] of [[9, 11], [3, 4], [5, 13], [2, 2]]) {
      tidy(() => {
        assertTensor(resize(tensor(xd, xs), oh, ow), [1, 2, oh, ow], naiveBilinear(xd, xs, oh, ow), 1e-5, 1e-5, `${oh}×${ow}`);
      });
    }
  });
});

describe('in-place ops', () => {
  test('addInPlace with and without alpha, with broadcasting', () => {
    tidy(() => {
      const x = tensor([1, 2, 3, 4], [2, 2]);
      const ret = x.addInPlace(tensor([10, 20, 30, 40], [2, 2]));
      assert.equal(ret, x, 'returns this');
      assert.deepEqual(Array.from(x.data()), [11, 22, 33, 44]);
      x.addInPlace(tensor([1, 2, 3, 4], [2, 2]), -0.5);
      assert.deepEqual(Array.from(x.data()), [10.5, 21, 31.5, 42]);
      x.addInPlace(tensor([1, -1], [2]), 2);
      assert.deepEqual(Array.from(x.data()), [12.5, 19, 33.5, 40]);
    });
  });

  test('mulInPlace, fillInPlace, copyInPlace', () => {
    tidy(() => {
      const x = tensor([1, -2, 3], [3]);
      assert.equal(x.mulInPlace(-1.5), x);
      assert.deepEqual(Array.from(x.data()), [-1.5, 3, -4.5]);
      assert.equal(x.fillInPlace(7), x);
      assert.deepEqual(Array.from(x.data()), [7, 7, 7]);
      const src = tensor([4, 5, 6], [3]);
      assert.equal(x.copyInPlace(src), x);
      assert.deepEqual(Array.from(x.data()), [4, 5, 6]);
      // a copy, not an alias
      src.fillInPlace(0);
      assert.deepEqual(Array.from(x.data()), [4, 5, 6]);
      // copy broadcasts the source
      x.copyInPlace(tensor([9], [1]));
      assert.deepEqual(Array.from(x.data()), [9, 9, 9]);
    });
  });

  test('addcmulInPlace and addcdivInPlace', () => {
    tidy(() => {
      const x = tensor([1, 2, 3], [3]);
      const a = tensor([2, 3, 4], [3]);
      const b = tensor([0.5, -1, 2], [3]);
      assert.equal(x.addcmulInPlace(a, b, 2), x);
      assert.deepEqual(Array.from(x.data()), [1 + 2 * 2 * 0.5, 2 + 2 * 3 * -1, 3 + 2 * 4 * 2]); // [3, -4, 19]
      assert.equal(x.addcdivInPlace(a, b, -0.25), x);
      assertClose(x.data(), [3 - 0.25 * (2 / 0.5), -4 - 0.25 * (3 / -1), 19 - 0.25 * (4 / 2)]); // [2, -3.25, 18.5]
      // the operands are untouched
      assert.deepEqual(Array.from(a.data()), [2, 3, 4]);
      assert.deepEqual(Array.from(b.data()), [0.5, -1, 2]);
    });
  });

  test('clampInPlace with both bounds and one bound', () => {
    tidy(() => {
      const x = tensor([-3, -0.5, 0.25, 2, 10], [5]);
      assert.equal(x.clampInPlace(-1, 1), x);
      assert.deepEqual(Array.from(x.data()), [-1, -0.5, 0.25, 1, 1]);
      x.clampInPlace(0, null);
      assert.deepEqual(Array.from(x.data()), [0, 0, 0.25, 1, 1]);
      x.clampInPlace(null, 0.5);
      assert.deepEqual(Array.from(x.data()), [0, 0, 0.25, 0.5, 0.5]);
    });
  });

  test('in-place ops on a variable are not recorded by autograd', () => {
    tidy(() => {
      const x = tensor([1, 2, 3], [3]).variable();
      x.addInPlace(tensor([1, 1, 1], [3]), 2);
      x.mulInPlace(2);
      x.clampInPlace(null, 9);
      assert.deepEqual(Array.from(x.data()), [6, 8, 9]);
      assert.equal(x.requiresGrad, true);
      // x is still a leaf: d(sum(x²))/dx = 2x
      const [g] = gradients([x.square().sum()], [x]);
      assert.deepEqual(Array.from(g!.data()), [12, 16, 18]);
    });
  });
});

describe('disposal', () => {
  test('using a tensor after dispose() throws, dispose is idempotent', () => {
    const before = liveTensors();
    const t = tensor([1, 2, 3], [3]);
    assert.equal(liveTensors(), before + 1);
    assert.equal(t.isDisposed, false);
    t.dispose();
    assert.equal(t.isDisposed, true);
    assert.equal(liveTensors(), before);
    t.dispose();
    assert.equal(liveTensors(), before);
    assert.throws(() => t.data(), /after dispose/);
    assert.throws(() => t.shape, /after dispose/);
    assert.throws(() => t.add(1), /after dispose/);
    assert.throws(() => t.item(), /after dispose/);
    tidy(() => {
      const other = tensor([1, 2, 3], [3]);
      assert.throws(() => other.add(t), /after dispose/, 'a disposed operand');
      assert.throws(() => cat([other, t], 0), /after dispose/);
    });
  });

  test('a disposed native handle is rejected by the addon with a clear error', () => {
    tidy(() => {
      const t = tensor([1, 2, 3], [3]);
      const raw = t.raw;
      raw.dispose();
      assert.equal(raw.isDisposed(), true);
      assert.throws(() => t.add(1), /already disposed/);
      assert.throws(() => t.data(), /already disposed/);
    });
  });
});

describe('tidy / keep / dispose scopes', () => {
  test('tidy disposes intermediates and keeps the returned tensor', () => {
    const before = liveTensors();
    let a!: Tensor;
    let b!: Tensor;
    const r = tidy(() => {
      a = tensor([1, 2], [2]);
      b = a.mul(3);
      return b.add(1);
    });
    assert.equal(a.isDisposed, true);
    assert.equal(b.isDisposed, true);
    assert.equal(r.isDisposed, false);
    assert.deepEqual(Array.from(r.data()), [4, 7]);
    assert.equal(liveTensors(), before + 1);
    r.dispose();
    assert.equal(liveTensors(), before);
  });

  test('tidy does not dispose tensors created outside it, even when used or returned', () => {
    const outside = tensor([5], [1]);
    try {
      const same = tidy(() => {
        outside.add(1);
        return outside;
      });
      assert.equal(same, outside);
      assert.equal(outside.isDisposed, false);
      assert.equal(outside.item(), 5);
    } finally {
      outside.dispose();
    }
  });

  test('nested tidy: the inner result moves to the outer scope', () => {
    const before = liveTensors();
    let inner!: Tensor;
    let innerTmp!: Tensor;
    const out = tidy(() => {
      inner = tidy(() => {
        innerTmp = tensor([1], [1]);
        return innerTmp.add(1);
      });
      assert.equal(innerTmp.isDisposed, true);
      assert.equal(inner.isDisposed, false);
      return inner.mul(10);
    });
    // the outer tidy did not return `inner`, so it was disposed there
    assert.equal(inner.isDisposed, true);
    assert.equal(out.item(), 20);
    out.dispose();
    assert.equal(liveTensors(), before);

    // returning the inner result through both scopes keeps it
    const kept = tidy(() => tidy(() => tensor([3], [1])));
    assert.equal(kept.isDisposed, false);
    assert.equal(liveTensors(), before + 1);
    kept.dispose();
    assert.equal(liveTensors(), before);
  });

  test('tidy keeps tensors inside returned arrays, objects and Maps', () => {
    const before = liveTensors();
    const temps: Tensor[] = [];
    const result = tidy(() => {
      const mk = (v: number) => {
        const t = tensor([v], [1]);
        temps.push(t.mul(1));
        return t;
      };
      return {
        list: [mk(1), mk(2)],
        nested: { deep: [{ t: mk(3) }] },
        map: new Map([['m', mk(4)]]),
        n: 42,
        s: 'text',
      };
    });
    for (const t of temps) assert.equal(t.isDisposed, true, 'intermediate disposed');
    assert.equal(result.list[0].item(), 1);
    assert.equal(result.list[1].item(), 2);
    assert.equal(result.nested.deep[0].t.item(), 3);
    assert.equal(result.map.get('m')!.item(), 4);
    assert.equal(result.n, 42);
    assert.equal(liveTensors(), before + 4);
    dispose(result);
    assert.equal(result.list[0].isDisposed, true);
    assert.equal(result.map.get('m')!.isDisposed, true);
    assert.equal(liveTensors(), before);
  });

  test('keep() survives tidy (also nested) and must be disposed by the caller', () => {
    const before = liveTensors();
    let kept!: Tensor;
    let other!: Tensor;
    tidy(() => {
      tidy(() => {
        kept = keep(tensor([7, 8], [2]));
        other = tensor([0], [1]);
      });
    });
    assert.equal(other.isDisposed, true);
    assert.equal(kept.isDisposed, false);
    assert.deepEqual(Array.from(kept.data()), [7, 8]);
    assert.equal(liveTensors(), before + 1);
    kept.dispose();
    assert.equal(liveTensors(), before);
  });

  test('tidy disposes everything when its function throws, and rethrows', () => {
    const before = liveTensors();
    let made!: Tensor;
    assert.throws(
      () =>
        tidy(() => {
          made = tensor([1], [1]);
          made.add(1).matmul(tensor([1, 2], [2])); // size mismatch
          return made;
        }),
      /libtorch:/,
    );
    assert.equal(made.isDisposed, true);
    assert.equal(liveTensors(), before);
    // the scope stack is intact: a following tidy still works
    const r = tidy(() => tensor([1], [1]).add(1));
    assert.equal(r.item(), 2);
    r.dispose();
    assert.equal(liveTensors(), before);
  });

  test('tidy returns non-tensor values unchanged and disposes all tensors then', () => {
    const before = liveTensors();
    const v = tidy(() => tensor([1, 2, 3], [3]).sum().item());
    assert.equal(v, 6);
    assert.equal(liveTensors(), before);
  });

  test('grad() wrappers created in a tidy are released by it', () => {
    const x = keep(tensor([1, 2], [2]).variable());
    try {
      const before = liveTensors();
      tidy(() => {
        x.square().sum().backward();
        assert.deepEqual(Array.from(x.grad()!.data()), [2, 4]);
      });
      assert.equal(liveTensors(), before);
    } finally {
      x.dispose();
    }
  });

  test('liveTensors() returns to its start after 100 tidy iterations of conv + backward', () => {
    const start = liveTensors();
    const x = keep(tensor(uniform(2 * 6 * 6, 1000), [1, 2, 6, 6]).variable());
    const w = keep(tensor(uniform(3 * 2 * 3 * 3, 1001), [3, 2, 3, 3]).variable());
    const b = keep(tensor(uniform(3, 1002), [3]).variable());
    const afterSetup = liveTensors();
    assert.equal(afterSetup, start + 3);
    const losses: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < 100; i++) {
      tidy(() => {
        w.zeroGrad();
        b.zeroGrad();
        const y = maxPool2d(conv2d(x, w, b, 1, 1).relu(), 2);
        const loss = y.square().mean();
        loss.backward();
        losses.push(loss.item());
        // gradient step in place on the weights
        w.addInPlace(w.grad()!, -0.5);
        b.addInPlace(b.grad()!, -0.5);
      });
      counts.push(liveTensors());
    }
    // no growth per iteration
    assert.ok(counts.every((c) => c === afterSetup), `live tensors per iteration: ${[...new Set(counts)]}`);
    // the loop really computed something: gradient descent on mean(y²) decreases it
    assert.ok(losses.every(Number.isFinite));
    assert.ok(losses[99] < losses[0] * 0.5, `loss ${losses[0]} → ${losses[99]}`);
    for (let i = 1; i < 100; i++) assert.ok(losses[i] <= losses[i - 1] + 1e-6, `loss increased at ${i}`);
    x.dispose();
    w.dispose();
    b.dispose();
    assert.equal(liveTensors(), start);
  });
});
