#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/h.tar.gz: is a host-paced plan's launch-to-launch
# spread its processes' host speed? The host-paced plans in three rounds of launches, each
# rank then timing its own host on host.py's LLaMA layer chain (run.py --host-speed 11,
# host_layer_us), beside one host.py and launch.py table: the launches' host times over
# their own processes' layer time should hold still where the raw times move up to 39%
# (docs/accuracy.md, "The host's spread between processes"). Stops with exit status 3
# unless the machine has 4 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4
P=traces/validation/h100-sxm/plans
H="$OUT/h"
host_tables "$H"
RUN_TIMEOUT=70
for round in 1 2 3; do
  for name in ${PLANS:-moe-base moe-ep2 moe-ep4 llama-1b-tp2 llama-1b-tp4-sp}; do
    [ "$SECONDS" -lt "${BUDGET:-470}" ] || { echo "out of time before $name.r$round"; continue; }
    run_plan "$H" "$name.r$round" "$P/$name.json" --iterations 10 --warmup 3 --host-speed 11
  done
done
echo "done at ${SECONDS}s"
tar -C "$OUT" -czf "$OUT/h.tar.gz" h && rm -rf "$H"; ls -la "$OUT"
