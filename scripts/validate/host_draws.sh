#!/usr/bin/env bash
# The host's draw, run by run: for every H200 validation folder that measured its own host
# table (DIR/traces/h200-sxm/host.csv), that table's LLaMA layer forward row (median / p10,
# us), and for each tensor-, sequence-, expert-parallel and GPT FSDP plan it ran, the
# runner's host time to issue the forward and the backward (the median rank's and the
# slowest rank's, `host_forward_s` and `host_backward_s` of its result) over Strata's, priced
# with that folder's host table (`simulate run`'s "host for GPU 0" line). A ratio of 1 is a
# host table that priced the run's host; docs/accuracy.md ("The host's two speeds") reads it.
#   scripts/validate/host_draws.sh [FOLDER...]   (default: every folder under traces/validation/h200-sxm)
set -euo pipefail
cd "$(dirname "$0")/../.."
simulate=${SIMULATE:-.build/release/simulate}
[ $# -gt 0 ] || set -- traces/validation/h200-sxm/*/
for top in "$@"; do
  [ -d "$top" ] || { echo "host_draws.sh: error: $top: no such folder; name validation run folders (traces/validation/h200-sxm/*)" >&2; exit 2; }
done
printf '%-62s %-11s %-20s %s\n' "results" "layer fwd" "plan" "forward: median rank, slowest | backward: median rank, slowest"
for top in "$@"; do
  top=${top%/}
  host=$top/traces/h200-sxm/host.csv launch=$top/traces/h200-sxm/launch.csv
  [ -f "$host" ] && [ -f "$launch" ] || continue
  work=$(mktemp -d)
  mkdir "$work/h200-sxm"
  cp traces/h200-sxm/*.csv "$work/h200-sxm/"
  cp "$host" "$launch" "$work/h200-sxm/"
  grep -q '^gpu_kernel_gap_training,' "$work/h200-sxm/launch.csv" \
    || grep '^gpu_kernel_gap_training,' traces/h200-sxm/launch.csv >> "$work/h200-sxm/launch.csv"
  layer=$(awk -F, '$1 == "layer_llama" && $2 == "fwd" { printf "%.0f/%.0f", $4, $5 }' "$host")
  for results in "$top"/*/results "$top"/*/*/results; do
    [ -d "$results" ] || continue
    for f in "$results"/*.json; do
      plan=$(basename "$f" .json)
      case $plan in llama-1b-tp*|moe-*|gpt-350m-fsdp4*) ;; *) continue ;; esac
      line=$("$simulate" run "strategies/validation/$plan.strata" --topology topologies/h200-sxm-4gpu.xml \
        --traces "$work" --db "$work/runs.sqlite" | grep "host for GPU 0")
      python3 - "$f" "$line" "${results#traces/validation/h200-sxm/}" "$layer" "$plan" <<'PY'
import json, re, statistics, sys
path, line, name, layer, plan = sys.argv[1:]
forward, backward = (float(x) for x in re.search(r"forward ([0-9.]+) ms, backward ([0-9.]+) ms", line).groups())
r = json.load(open(path))
f, b = [x * 1e3 for x in r["host_forward_s"]], [x * 1e3 for x in r["host_backward_s"]]
print(f"{name:<62} {layer:<11} {plan:<20} x{statistics.median(f) / forward:.2f} x{max(f) / forward:.2f} | "
      f"x{statistics.median(b) / backward:.2f} x{max(b) / backward:.2f}")
PY
    done
  done
  rm -rf "$work"
done
