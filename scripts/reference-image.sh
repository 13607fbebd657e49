#!/usr/bin/env bash
# Quality evidence: Tübingen × Starry Night at 512 px with every default (quality 'standard':
# 128 → 256 → 512 px stages), plus its run report and loss curve. Output goes to out/reference/
# (not committed). Takes about 1.5 minutes on 2 cores in bf16 (the default where the CPU has it);
# each iteration takes about 2.4× as long with --precision fp32.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${NST_SHARED_DIR:-../shared}"
mkdir -p out/reference
node bin/nst.js stylize \
  --content "$shared/images/content/tubingen.jpg" \
  --style "$shared/images/style/starry_night.jpg" \
  --output out/reference/tubingen_starry_night_512.png \
  --save-every 100 --seed 42 "$@"
