/**
 * scripts/libtorch-config.js, the build settings binding.gyp takes for the libtorch it compiles
 * against: Debian's by default; with LIBTORCH, an official libtorch or a PyTorch wheel's torch
 * package (here: temporary prefixes with that layout) — include paths, the C++ ABI torch was built
 * with, the C++ standard its version needs, CUDA, and a one-line error for a wrong prefix.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../src/models/model-dir';

const SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'libtorch-config.js');
let dir: string;

function config(env: Record<string, string | undefined>) {
  const r = spawnSync(process.execPath, [SCRIPT, 'summary'], { encoding: 'utf8', env: { ...process.env, LIBTORCH: '', NST_CXX11_ABI: '', ...env } });
  return { status: r.status, stderr: r.stderr, settings: r.status === 0 ? JSON.parse(r.stdout) : null };
}

/** A prefix laid out as a PyTorch wheel's torch package (version, ABI in TorchConfig.cmake, CUDA). */
function fakeTorch(name: string, o: { major: number; minor: number; abi?: 0 | 1; c10Symbols?: string; cuda?: boolean }): string {
  const root = path.join(dir, name);
  const api = path.join(root, 'include', 'torch', 'csrc', 'api', 'include', 'torch');
  fs.mkdirSync(api, { recursive: true });
  fs.writeFileSync(path.join(api, 'version.h'), `#define TORCH_VERSION_MAJOR ${o.major}\n#define TORCH_VERSION_MINOR ${o.minor}\n#define TORCH_VERSION_PATCH 0\n`);
  fs.mkdirSync(path.join(root, 'lib'));
  fs.writeFileSync(path.join(root, 'lib', 'libtorch.so'), '');
  fs.writeFileSync(path.join(root, 'lib', 'libc10.so'), o.c10Symbols ?? '');
  if (o.cuda) fs.writeFileSync(path.join(root, 'lib', 'libtorch_cuda.so'), '');
  if (o.abi !== undefined) {
    fs.mkdirSync(path.join(root, 'share', 'cmake', 'Torch'), { recursive: true });
    fs.writeFileSync(path.join(root, 'share', 'cmake', 'Torch', 'TorchConfig.cmake'), `  set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=${o.abi}")\n`);
  }
  return root;
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nst-libtorch-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('libtorch-config', () => {
  test("without LIBTORCH: Debian's libtorch 1.13, C++17, the new ABI, no CUDA", { skip: fs.existsSync('/usr/include/torch/csrc/api/include/torch/version.h') ? false : "Debian's libtorch-dev is not installed" }, () => {
    const { status, settings } = config({});
    assert.equal(status, 0);
    assert.deepEqual(settings, { prefix: '', torch: '1.13', include_dirs: ['/usr/include/torch/csrc/api/include'], library_dirs: [], cxx11_abi: 1, cxx_std: 'c++17', cuda: 0 });
  });

  test('a CUDA wheel of torch 2.11: both include paths, lib/, C++20, its ABI from TorchConfig.cmake, CUDA', () => {
    const root = fakeTorch('torch211', { major: 2, minor: 11, abi: 1, cuda: true });
    const { settings } = config({ LIBTORCH: root });
    assert.deepEqual(settings, {
      prefix: root,
      torch: '2.11',
      include_dirs: [path.join(root, 'include'), path.join(root, 'include', 'torch', 'csrc', 'api', 'include')],
      library_dirs: [path.join(root, 'lib')],
      cxx11_abi: 1,
      cxx_std: 'c++20',
      cuda: 1,
    });
    // torch.utils.cmake_prefix_path (<torch>/share/cmake) names the same prefix
    assert.equal(config({ LIBTORCH: path.join(root, 'share', 'cmake') }).settings.prefix, root);
  });

  test('an older wheel built with the old ABI gets _GLIBCXX_USE_CXX11_ABI=0 and C++17; NST_CXX11_ABI overrides', () => {
    const root = fakeTorch('torch21', { major: 2, minor: 1, abi: 0 });
    assert.deepEqual([config({ LIBTORCH: root }).settings.cxx11_abi, config({ LIBTORCH: root }).settings.cxx_std, config({ LIBTORCH: root }).settings.cuda], [0, 'c++17', 0]);
    assert.equal(config({ LIBTORCH: root, NST_CXX11_ABI: '1' }).settings.cxx11_abi, 1);
  });

  test("without TorchConfig.cmake the ABI is read from libc10.so's mangled names", () => {
    const newAbi = fakeTorch('c10new', { major: 2, minor: 5, c10Symbols: '_ZN3c106detail14torchCheckFailEPKcS2_jRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE' });
    const oldAbi = fakeTorch('c10old', { major: 2, minor: 5, c10Symbols: '_ZN3c106detail14torchCheckFailEPKcS2_jRKSs' });
    assert.equal(config({ LIBTORCH: newAbi }).settings.cxx11_abi, 1);
    assert.equal(config({ LIBTORCH: oldAbi }).settings.cxx11_abi, 0);
  });

  test('a folder that is not a libtorch is one line naming what is missing, exit 1', () => {
    const r = config({ LIBTORCH: dir });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^libtorch-config: LIBTORCH=.* is not a libtorch \(expected lib\/libtorch\.so and include\/torch under /);
  });
});
