#!/usr/bin/env bash
# The bundled example end to end: scan, list, lint, count the sweep, run it, show results.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${DEMO_OUT:-demo-out}"
rm -rf "$out"

echo "== hpreg list examples/train"
hpreg list examples/train

echo
echo "== hpreg lint examples/train"
hpreg lint examples/train && echo "clean"

echo
echo "== hpreg sweep examples/train/sweep.yaml --scan examples/train --count"
hpreg sweep examples/train/sweep.yaml --scan examples/train --count

store="$out/runs/sweep"
echo
echo "== hpreg run examples/train/sweep.yaml -j 2 --store $store -- python examples/train/train.py"
hpreg run examples/train/sweep.yaml -j 2 --store "$store" -- python examples/train/train.py

echo
echo "== hpreg results $store --sort valid_loss"
hpreg results "$store" --sort valid_loss

echo
echo "== the same command again: every job is done, nothing is re-run"
hpreg run examples/train/sweep.yaml -j 2 --store "$store" -- python examples/train/train.py
hpreg status "$store"
