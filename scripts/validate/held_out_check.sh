#!/usr/bin/env bash
# Scores the collective curve on sizes between the grid's from a GPU's kept runs, before
# they are a table Strata loads: merges runs/collectives-*.csv into a grid and
# runs/collectives_held_out-*.csv into the held-out sizes (merge_tables.py: each size's
# smaller median), in a scratch folder named for the GPU, and prints `simulate calibrate`'s
# two collective tables for it.
#   scripts/validate/held_out_check.sh traces/h200-sxm
set -euo pipefail
cd "$(dirname "$0")/../.."
folder=${1:?name a GPU folder of traces, such as traces/h200-sxm}
simulate=${SIMULATE:-.build/release/simulate}
gpu=$(basename "$folder")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/$gpu"
shopt -s nullglob
grid=("$folder"/runs/collectives-*.csv)
held=("$folder"/runs/collectives_held_out-*.csv)
if [ ${#grid[@]} -eq 0 ] || [ ${#held[@]} -eq 0 ]; then
  echo "$folder/runs: error: needs collectives-*.csv and collectives_held_out-*.csv runs; measure them with scripts/device/held-out-shapes.sh" >&2
  exit 2
fi
python3 scripts/profile/merge_tables.py --out "$work/$gpu/collectives.csv" "${grid[@]}" > /dev/null
python3 scripts/profile/merge_tables.py --out "$work/$gpu/collectives_held_out.csv" "${held[@]}" > /dev/null
"$simulate" calibrate --traces "$work" | sed -n '/^Collective fit/,$p'
