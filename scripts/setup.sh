#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine: system packages (libtorch,
# OpenBLAS, a C++ toolchain, Chromium for the browser tests), npm packages, the native engine
# (node-gyp, ~40 s; better-sqlite3 compiles its bundled SQLite too) and the TypeScript build
# (library, CLI, server and the web page in dist/web). Safe to run again. With
# LIBTORCH=/path/to/libtorch, Debian's libtorch is not installed and the engine is built against
# that one instead (e.g. a CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."

# ffmpeg: video decoding and encoding for `nst video` (spawned directly). time: GNU time, whose
# peak-memory figure the memory-budget bench reports.
packages=(libopenblas0-pthread libtcmalloc-minimal4 g++ make python3 ffmpeg time)
[ -n "${LIBTORCH:-}" ] || packages+=(libtorch-dev)
# chromium: the headless browser of the web tests (NST_WITH_BROWSER=0 skips it; those tests then skip).
[ "${NST_WITH_BROWSER:-1}" = 0 ] || packages+=(chromium)
# redis-server: the scale-out queue (nst serve --queue, nst worker; NST_WITH_REDIS=0 skips it; those tests
# then skip). The tests start their own redis-server on a free port, so Debian's service on 6379, if it
# runs, is not in their way.
[ "${NST_WITH_REDIS:-1}" = 0 ] || packages+=(redis-server)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

# npm ci also builds the native engine (the package's install script runs node-gyp).
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run build:ts
node -e "const e=require('./build/Release/nst_native.node'); e.setNumThreads(1); console.error('setup: engine ready, libtorch ' + e.info().torchVersion)"
