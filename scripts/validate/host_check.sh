#!/usr/bin/env bash
# The host-bound check of docs/accuracy.md: the validation strategies at sequence 128 (where
# the GPU's work is small, so an iteration takes what the host needs to issue it), priced by
# Strata with the measured tables, once without host.csv (per-launch costs only) and once
# with it. Compare with the runner's measurements at the same sequence in
# traces/validation/h100-sxm/seq128/ (run.py --seq 128).
#   scripts/validate/host_check.sh [gpt-350m-base llama-1b-base ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
simulate=${SIMULATE:-.build/release/simulate}
work=$(mktemp -d)
strategies="strategies/.seq128-$$"  # beside strategies/validation, so relative paths resolve
trap 'rm -rf "$work" "$strategies"' EXIT
cp -r strategies/validation "$strategies"
sed -i 's/seq = [0-9_]*/seq = 128/' "$strategies"/*.strata
mkdir -p "$work/traces"
cp -r traces/h100-sxm "$work/traces/"
rm "$work/traces/h100-sxm/host.csv"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(gpt-350m-base llama-1b-base moe-base llama-1b-tp2 llama-1b-tp4-sp)
iteration() { "$simulate" run "$@" --db "$work/runs.sqlite" --json | python3 -c 'import json, sys; print("%.1f" % (json.load(sys.stdin)["iteration_time_s"] * 1e3))'; }
printf "%-18s %12s %14s %14s\n" strategy measured_ms launches_ms host_csv_ms
for name in "${names[@]}"; do
  measured=$(python3 -c 'import json, sys; print("%.1f" % (json.load(open(sys.argv[1]))["median_s"] * 1e3))' \
    "traces/validation/h100-sxm/seq128/$name-seq128.json")
  printf "%-18s %12s %14s %14s\n" "$name" "$measured" "$(iteration "$strategies/$name.strata" --traces "$work/traces")" \
    "$(iteration "$strategies/$name.strata")"
done
