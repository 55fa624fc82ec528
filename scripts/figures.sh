#!/usr/bin/env bash
# Regenerates the figures under docs/figures/ that the README shows: pyqg's eddy model (10 years)
# and `medida demo` (the MEDIDA jet, case 1002), drawn by `medida plot` through --plots, and the
# analysis error spectrum of the demo's truth observed at 75% of the points (spectral-oi).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
M=target/release/medida
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$M" simulate --quiet --out "$tmp/eddy.h5" --plots "$tmp/eddy"
"$M" demo --quiet --dir "$tmp/demo" --plots "$tmp/jet" > /dev/null
"$M" increments --quiet --truth "$tmp/demo/truth.h5" --model-error case1002 \
    --observe fraction=0.75,seed=1 --out "$tmp/observed.h5"
"$M" plot "$tmp/observed.h5" --out "$tmp/observed" > /dev/null
mkdir -p docs/figures
cp "$tmp/observed/interpolation.png" docs/figures/jet_interpolation.png
for f in q spectrum diagnostics; do cp "$tmp/eddy/$f.png" "docs/figures/eddy_$f.png"; done
for f in q increments_dqdt coefficients sweep; do cp "$tmp/jet/$f.png" "docs/figures/jet_$f.png"; done
ls -l docs/figures
