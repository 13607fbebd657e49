/**
 * Compute devices: names ('cpu', 'cuda', 'cuda:N') accepted and checked the same way by the CLI,
 * the options and the engine, with one-line errors; and, on a CUDA build with a GPU, every op the
 * project uses computed on the GPU against the CPU (fp32, TF32 off): forward values and gradients
 * within 1e-4 relative, results living on the requested device. NST_TEST_DEVICE picks the device
 * of the second half (default: cuda when this build has one, else those tests skip with a note);
 * scripts/device-check.sh runs this file on the GPU machine.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import {
  checkDeviceName,
  conv2d,
  convTranspose2d,
  cudaIndex,
  gradients,
  instanceNorm,
  isDeviceName,
  maxPool2d,
  avgPool2d,
  mseLoss,
  pad,
  resize,
  resolveDevice,
  setCudaMath,
  tensor,
  Tensor,
  tidy,
  engineInfo,
} from '../src/engine';
import { gramMatrix, totalVariation } from '../src/losses';
import { resolveStylizeOptions } from '../src/transfer/gatys/options';
import { PROJECT_ROOT } from '../src/models/model-dir';
import { engineSuite, uniform } from './helpers/numeric';

engineSuite('device');

describe('device names', () => {
  test('cpu, cuda and cuda:N are names; anything else is refused with the accepted forms', () => {
    for (const ok of ['cpu', 'cuda', 'cuda:0', 'cuda:1', 'cuda:15']) assert.ok(isDeviceName(ok), ok);
    for (const bad of ['gpu', 'CUDA', 'cuda:', 'cuda:-1', 'cuda:01', 'cuda:1.5', 'cpu:0', ' cuda', 'mps', '', 3]) assert.ok(!isDeviceName(bad), String(bad));
    assert.throws(() => checkDeviceName('gpu'), /^NstError: unknown device 'gpu' \(expected cpu, cuda or cuda:N, e\.g\. cuda:1\)$/);
    assert.deepEqual(['cpu', 'cuda', 'cuda:0', 'cuda:3'].map((d) => cudaIndex(checkDeviceName(d))), [null, 0, 0, 3]);
  });

  test('the stylize options accept cuda:1 and refuse a misspelt device before any work', () => {
    const base = { content: __filename, style: __filename, output: '/tmp/x.png' };
    assert.equal(resolveStylizeOptions({ ...base, device: 'cuda:1' }).device, 'cuda:1');
    assert.throws(() => resolveStylizeOptions({ ...base, device: 'cuda1' as never }), /unknown device 'cuda1'/);
  });

  test('the engine checks that the device exists: a CPU-only build says how to get CUDA; a missing index names the devices', () => {
    assert.equal(resolveDevice('cpu'), 'cpu');
    const count = engineInfo().cuda ? engineInfo().cudaDevices : 0;
    if (count === 0) {
      assert.throws(() => resolveDevice('cuda:1'), /^NstError: --device cuda:1: this libtorch build has no CUDA device available \(build against a CUDA libtorch with LIBTORCH=/);
    } else {
      assert.equal(resolveDevice(`cuda:${count - 1}`), `cuda:${count - 1}`);
      assert.throws(() => resolveDevice(`cuda:${count}`), new RegExp(`--device cuda:${count}: there (is 1 CUDA device|are ${count} CUDA devices)`));
    }
  });

  // The GPU machine of scripts/device-check.sh carries only the engine's build tools, not the CLI's packages.
  const cliMissing = ['commander', 'sharp'].find((m) => { try { require.resolve(m); return false; } catch { return true; } });
  test('the CLI accepts --device cuda:N and refuses other names with exit 2 and one line', { skip: cliMissing ? `npm package ${cliMissing} is not installed here` : false }, () => {
    const nst = (args: string[]) => spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'nst.js'), ...args], { encoding: 'utf8' });
    const bad = nst(['stylize', '-c', 'a.jpg', '-s', 'b.jpg', '-o', 'out.png', '--device', 'gpu']);
    assert.equal(bad.status, 2, bad.stderr);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /--device 'gpu'/);
    // A well-formed name passes the parser: the run then stops at the missing input file instead.
    const good = nst(['stylize', '-c', 'missing-content.jpg', '-s', 'b.jpg', '-o', 'out.png', '--device', 'cuda:1']);
    assert.equal(good.status, 2, good.stderr);
    assert.doesNotMatch(good.stderr, /unknown --device/);
  });
});

const wanted = process.env.NST_TEST_DEVICE ?? (engineInfo().cuda ? 'cuda' : '');
const skip = wanted ? false : 'no CUDA device in this build (set NST_TEST_DEVICE, or run scripts/device-check.sh on a GPU machine)';

/** A seeded input on `device`, requiring gradients. */
function input(shape: number[], seed: number, device: string): Tensor {
  return tensor(uniform(shape.reduce((a, b) => a * b, 1), seed), shape, device).variable();
}

/** The op's output and the gradients of Σ output·w (w seeded) with respect to its inputs. */
function valueAndGrads(device: string, shapes: number[][], op: (xs: Tensor[]) => Tensor): { out: Float32Array; grads: Float32Array[]; where: string } {
  return tidy(() => {
    const xs = shapes.map((s, i) => input(s, 100 + i, device));
    const y = op(xs);
    const w = tensor(uniform(y.shape.reduce((a, b) => a * b, 1), 99), y.shape, device);
    const grads = gradients([y.mul(w).sum()], xs).map((g) => g!.data());
    return { out: y.data(), grads, where: y.device };
  });
}

function relErr(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe(`ops on ${wanted || 'a CUDA device'} against the CPU`, { skip }, () => {
  const cases: [string, number[][], (xs: Tensor[]) => Tensor][] = [
    ['conv2d 3x3 with bias, padding 1', [[1, 4, 17, 19], [8, 4, 3, 3], [8]], ([x, w, b]) => conv2d(x, w, b, 1, 1)],
    ['conv2d 9x9 stride 2', [[2, 3, 21, 21], [5, 3, 9, 9]], ([x, w]) => conv2d(x, w, null, 2, 0)],
    ['convTranspose2d stride 2', [[1, 6, 9, 9], [6, 4, 3, 3]], ([x, w]) => convTranspose2d(x, w, null, 2, 1, 1)],
    ['maxPool2d', [[1, 3, 16, 18]], ([x]) => maxPool2d(x, 2)],
    ['avgPool2d', [[1, 3, 16, 18]], ([x]) => avgPool2d(x, 2)],
    ['reflect pad', [[1, 3, 8, 9]], ([x]) => pad(x, [4, 4, 4, 4], 'reflect')],
    ['bilinear resize', [[1, 3, 10, 12]], ([x]) => resize(x, 17, 23, 'bilinear')],
    ['nearest resize ×2', [[1, 3, 10, 12]], ([x]) => resize(x, 20, 24, 'nearest')],
    ['instance norm', [[2, 6, 12, 11], [6], [6]], ([x, s, b]) => instanceNorm(x, s, b, 1e-5)],
    ['gram matrix', [[1, 16, 24, 20]], ([x]) => gramMatrix(x)],
    ['mse loss', [[1, 8, 10, 10], [1, 8, 10, 10]], ([a, b]) => mseLoss(a, b)],
    ['total variation', [[1, 3, 20, 22]], ([x]) => totalVariation(x)],
    ['relu, tanh, clamp', [[1, 3, 9, 9]], ([x]) => x.relu().add(x.tanh()).clamp(-0.5, 0.5)],
  ];
  for (const [name, shapes, op] of cases) {
    test(name, () => {
      const before = setCudaMath({ tf32Conv: false, tf32Matmul: false });
      try {
        const cpu = valueAndGrads('cpu', shapes, op);
        const dev = valueAndGrads(wanted, shapes, op);
        assert.equal(dev.where, wanted === 'cuda' ? 'cuda:0' : wanted, 'the result lives on the device');
        assert.ok(relErr(dev.out, cpu.out) <= 1e-4, `${name}: forward rel. error ${relErr(dev.out, cpu.out)}`);
        dev.grads.forEach((g, i) => assert.ok(relErr(g, cpu.grads[i]) <= 1e-4, `${name}: gradient ${i} rel. error ${relErr(g, cpu.grads[i])}`));
      } finally {
        setCudaMath(before);
      }
    });
  }
});
