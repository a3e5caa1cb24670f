#!/usr/bin/env bash
# The host-bound check of docs/accuracy.md: the validation strategies at sequence 128 (where
# the GPU's work is small, so an iteration takes what the host needs to issue it), priced by
# Strata with the measured tables, once without host.csv (per-launch costs only) and once
# with it. Compare with the runner's measurements at the same sequence (run.py --seq 128).
#   scripts/validate/host_check.sh [gpt-350m-base llama-1b-base ...]
# On another GPU or host: MEASURED (the folder of *-seq128.json, default
# traces/validation/h100-sxm/seq128), TABLES (the folder holding the GPU's table folder,
# default traces), GPU (default h100-sxm), HOST (a host.csv to use instead of the tables'),
# TOPOLOGY (default: the strategies').
set -euo pipefail
cd "$(dirname "$0")/../.."
simulate=${SIMULATE:-.build/release/simulate}
measured=${MEASURED:-traces/validation/h100-sxm/seq128}
tables=${TABLES:-traces}
gpu=${GPU:-h100-sxm}
work=$(mktemp -d)
strategies="strategies/.seq128-$$"  # beside strategies/validation, so relative paths resolve
trap 'rm -rf "$work" "$strategies"' EXIT
cp -r strategies/validation "$strategies"
sed -i 's/seq = [0-9_]*/seq = 128/' "$strategies"/*.strata
mkdir -p "$work/launches" "$work/host"
cp -r "$tables/$gpu" "$work/launches/"
cp -r "$tables/$gpu" "$work/host/"
rm "$work/launches/$gpu/host.csv"
[ -z "${HOST:-}" ] || cp "$HOST" "$work/host/$gpu/host.csv"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(gpt-350m-base llama-1b-base moe-base llama-1b-tp2 llama-1b-tp4-sp)
iteration() { "$simulate" run "$@" ${TOPOLOGY:+--topology "$TOPOLOGY"} --db "$work/runs.sqlite" --json \
  | python3 -c 'import json, sys; print("%.1f" % (json.load(sys.stdin)["iteration_time_s"] * 1e3))'; }
printf "%-18s %12s %14s %14s\n" strategy measured_ms launches_ms host_csv_ms
found=0
for name in "${names[@]}"; do
  if [ ! -f "$measured/$name-seq128.json" ]; then
    echo "$measured/$name-seq128.json: not measured there; skipped" >&2
    continue
  fi
  found=$((found + 1))
  ms=$(python3 -c 'import json, sys; print("%.1f" % (json.load(open(sys.argv[1]))["median_s"] * 1e3))' \
    "$measured/$name-seq128.json")
  printf "%-18s %12s %14s %14s\n" "$name" "$ms" "$(iteration "$strategies/$name.strata" --traces "$work/launches")" \
    "$(iteration "$strategies/$name.strata" --traces "$work/host")"
done
[ "$found" -gt 0 ] || { echo "$measured: error: no *-seq128.json of these strategies; set MEASURED to a folder run.py --seq 128 wrote" >&2; exit 2; }
