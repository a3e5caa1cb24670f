#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/e.tar.gz: does an all-to-all cost the host more over
# 4 GPUs than over 2? The EP plans' forward issued 6.8-7.7 ms a micro-batch more than
# moe-base's with EP 2 and 10.1 with EP 4, on the H100 table and on 4xH200 at 16:32, where
# Strata charges one figure for both (docs/accuracy.md, "The host's spread between
# processes"). scripts/validate/host_probe.py times each all-to-all where the runner makes
# it, and the forward without them, for moe-ep2 and moe-ep4 at the plans' own sequence
# (2048), in two alternating rounds, beside moe-base. Stops with exit status 3 unless the
# machine has 4 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4
P=traces/validation/h100-sxm/plans
E="$OUT/e"; mkdir -p "$E"
probe() {  # NAME ROUND VARIANTS
  timeout 90 python3 scripts/validate/host_probe.py "$P/$1.json" --out "$E/probe-$1.r$2.json" --seq 2048 \
    --variants "$3" --iterations 4 > "$E/probe-$1.r$2.log" 2>&1
  echo "$1 r$2 rc=$? at ${SECONDS}s"; grep -E "^\[probe\]" "$E/probe-$1.r$2.log" | tail -4
}
for round in 1 2; do
  probe moe-base "$round" base
  probe moe-ep2 "$round" base,no-collectives
  probe moe-ep4 "$round" base,no-collectives
done
tar -C "$OUT" -czf "$OUT/e.tar.gz" e && rm -rf "$E"; ls -la "$OUT"
