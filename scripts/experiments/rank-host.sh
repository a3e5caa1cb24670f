#!/usr/bin/env bash
# The rank-host-scale experiment (docs/accuracy.md, "Each rank's own host"): each plan of a
# validation run priced with every rank's host costs scaled by that rank's measured forward
# host time over the ranks' median (`host_forward_s` of RUN/results/PLAN.json), against the
# same plan with one host for all. The scales come from the run itself, so this tests a
# mechanism, not a prediction. Builds rank-host-scale.patch in a scratch copy.
#   scripts/experiments/rank-host.sh RUN HOST_CSV LAUNCH_CSV PLAN...   (an H200 run, with_host.sh)
#   scripts/experiments/rank-host.sh RUN - - PLAN...                    (the H100 table)
set -euo pipefail
cd "$(dirname "$0")/../.."
run=${1:?name a validation run folder}; host=${2:?}; launch=${3:?}; shift 3
[ $# -gt 0 ] || { echo "$0: error: name at least one plan of $run" >&2; exit 2; }
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git archive HEAD | tar -x -C "$work/"
(cd "$work" && git apply "$root/scripts/experiments/rank-host-scale.patch" && swift build -c release > build.log 2>&1) \
  || { tail -20 "$work/build.log" >&2; exit 1; }
for plan in "$@"; do
  dir="$work/runs/$plan"; mkdir -p "$dir"
  { grep '^#' "$run/measurements.csv"; grep -E "^(strategy,|$plan,)" "$run/measurements.csv"; } > "$dir/measurements.csv"
  scales=$(python3 -c 'import json, statistics, sys
f = json.load(open(sys.argv[1]))["host_forward_s"]; m = statistics.median(f)
print(",".join("%.3f" % (x / m) for x in f))' "$run/results/$plan.json")
  error() {
    if [ "$host" = - ]; then "$work/.build/release/simulate" validate "$dir"
    else SIMULATE="$work/.build/release/simulate" scripts/validate/with_host.sh "$dir" "$host" "$launch"; fi \
      | awk -v p="$plan" '/^host-paced:/ { exit } $1 == p { print $9 "%" }'
  }
  one=$(unset STRATA_RANK_HOST_SCALE; error)
  own=$(export STRATA_RANK_HOST_SCALE=$scales; error)
  echo "$plan: ranks' forward host over their median $scales: one host $one, each rank its own $own"
done
