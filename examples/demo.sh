#!/usr/bin/env bash
# The bundled example end to end: scan, list, lint, sweep, run each point, show results.
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

echo
echo "== hpreg sweep examples/train/sweep.yaml --scan examples/train --out $out/points"
hpreg sweep examples/train/sweep.yaml --scan examples/train --out "$out/points"

echo
echo "== each point runs train.py with HPREG_CONFIG=<point file>"
mkdir -p "$out/results"
for point in "$out"/points/sweep_*.yaml; do
  name=$(basename "$point" .yaml)
  HPREG_CONFIG="$point" python examples/train/train.py > "$out/results/$name.json" &
done
wait
python - "$out" <<'PY'
import csv, json, os, sys
from prettytable import PrettyTable

out = sys.argv[1]
with open(os.path.join(out, "points", "index.csv")) as f:
    rows = list(csv.DictReader(f))
names = [k for k in rows[0] if k not in ("index", "file")]
table = PrettyTable(["#"] + names + ["valid_loss"])
table.align = "r"
for row in rows:
    stem = os.path.splitext(row["file"])[0]
    with open(os.path.join(out, "results", stem + ".json")) as f:
        result = json.load(f)
    table.add_row([row["index"]] + [row[n] for n in names] + ["%.4f" % result["valid_loss"]])
print(table)
PY
