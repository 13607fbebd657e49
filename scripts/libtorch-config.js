#!/usr/bin/env node
/**
 * Build settings of the native engine for the libtorch it is compiled against; binding.gyp calls
 * it as `node scripts/libtorch-config.js <key>`. Keys: prefix, include_dirs, library_dirs, cxx11_abi,
 * cxx_std, cuda (0|1), summary (a JSON line, for people).
 *
 * Without LIBTORCH: Debian's libtorch-dev (1.13; headers in /usr/include, libraries on the
 * default path). With LIBTORCH=<prefix>: an official libtorch, either the unpacked zip
 * (libtorch/) or the torch package of a PyTorch wheel (`python3 -c 'import torch, os;
 * print(os.path.dirname(torch.__file__))'`), or that package's cmake prefix
 * (torch.utils.cmake_prefix_path, i.e. <torch>/share/cmake). All three hold lib/ and include/.
 *
 * The C++ ABI must match the one torch was built with (std::string and friends cross the
 * boundary): _GLIBCXX_USE_CXX11_ABI comes from TorchConfig.cmake, else from libc10.so's symbols;
 * NST_CXX11_ABI=0|1 overrides both. libtorch 2.10 and later get C++20 (2.12+ requires it).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function fail(message) {
  process.stderr.write(`libtorch-config: ${message}\n`);
  process.exit(1);
}

/** The libtorch prefix from LIBTORCH (normalised), or '' for Debian's libtorch. */
function prefix() {
  const raw = process.env.LIBTORCH;
  if (!raw) return '';
  let dir = path.resolve(raw);
  // torch.utils.cmake_prefix_path points at <torch>/share/cmake
  if (path.basename(dir) === 'cmake' && path.basename(path.dirname(dir)) === 'share') dir = path.dirname(path.dirname(dir));
  if (!fs.existsSync(path.join(dir, 'lib', 'libtorch.so')) || !fs.existsSync(path.join(dir, 'include', 'torch'))) {
    fail(`LIBTORCH=${raw} is not a libtorch (expected lib/libtorch.so and include/torch under ${dir})`);
  }
  return dir;
}

function includeDirs(dir) {
  if (!dir) return ['/usr/include/torch/csrc/api/include'];
  return [path.join(dir, 'include'), path.join(dir, 'include', 'torch', 'csrc', 'api', 'include')];
}

/** [major, minor] from torch/version.h. */
function version(dir) {
  const candidates = includeDirs(dir).map((d) => path.join(d, 'torch', 'version.h'));
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    const major = /TORCH_VERSION_MAJOR\s+(\d+)/.exec(text);
    const minor = /TORCH_VERSION_MINOR\s+(\d+)/.exec(text);
    if (major && minor) return [Number(major[1]), Number(minor[1])];
  }
  fail(`cannot find torch/version.h in ${candidates.join(', ')}`);
}

/** 0 or 1: the _GLIBCXX_USE_CXX11_ABI that torch was built with. */
function cxx11Abi(dir) {
  const forced = process.env.NST_CXX11_ABI;
  if (forced === '0' || forced === '1') return Number(forced);
  if (!dir) return 1; // Debian builds everything with the default (new) ABI
  const config = path.join(dir, 'share', 'cmake', 'Torch', 'TorchConfig.cmake');
  if (fs.existsSync(config)) {
    const m = /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(fs.readFileSync(config, 'utf8'));
    if (m) return Number(m[1]);
  }
  // Mangled names of the new ABI's std::string live in the std::__cxx11 namespace.
  const c10 = path.join(dir, 'lib', 'libc10.so');
  if (fs.existsSync(c10)) return fs.readFileSync(c10).includes('NSt7__cxx11') ? 1 : 0;
  fail(`cannot tell the C++ ABI of ${dir} (set NST_CXX11_ABI=0 or 1)`);
}

function settings() {
  const dir = prefix();
  const [major, minor] = version(dir);
  const abi = cxx11Abi(dir);
  const cuda = dir && fs.existsSync(path.join(dir, 'lib', 'libtorch_cuda.so')) ? 1 : 0;
  return {
    prefix: dir,
    torch: `${major}.${minor}`,
    include_dirs: includeDirs(dir),
    library_dirs: dir ? [path.join(dir, 'lib')] : [],
    cxx11_abi: abi,
    cxx_std: major > 2 || (major === 2 && minor >= 10) ? 'c++20' : 'c++17',
    cuda,
  };
}

if (require.main === module) {
  const key = process.argv[2];
  const s = settings();
  if (key === 'summary') process.stdout.write(JSON.stringify(s) + '\n');
  else if (!(key in s)) fail(`unknown key '${key}'`);
  else {
    const v = s[key];
    const text = Array.isArray(v) ? v.join('\n') : String(v);
    if (text) process.stdout.write(text + '\n');
  }
}

module.exports = { settings };
