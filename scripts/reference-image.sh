#!/usr/bin/env bash
# Quality evidence: Tübingen × Starry Night at 512 px with every default (500 L-BFGS iterations),
# plus its run report and loss curve. Output goes to out/reference/ (not committed).
# Takes about 10–25 minutes on 2 cores (bf16 where the CPU has it; add --precision fp32 to compare).
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${NST_SHARED_DIR:-../shared}"
mkdir -p out/reference
node bin/nst.js stylize \
  --content "$shared/images/content/tubingen.jpg" \
  --style "$shared/images/style/starry_night.jpg" \
  --output out/reference/tubingen_starry_night_512.png \
  --save-every 100 --seed 42 "$@"
