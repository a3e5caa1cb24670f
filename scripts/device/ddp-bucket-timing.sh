#!/usr/bin/env bash
# Device run (2 H200s): how gpt-350m-ddp2's gradient buckets meet across its two replicas
# (docs/accuracy.md, "Data parallelism's buckets, timed"). Alternately, twice: the plan as
# is, the plan with every bucket timed (run.py --bucket-timing: a Python comm hook, which
# divides a bucket at a time instead of each gradient as it lands), the plan without its
# all-reduces (--skip-grad-sync), and gpt-350m-mb2 (the same work per GPU on one GPU);
# median of 10 iterations after 3 warm-up. Back as $OUT/buckets.tar.gz (one file: the
# device tool returns few). Stops with exit status 3 unless the machine has two H200s.
. "$(dirname "$0")/common.sh"
require_h200s 2 name,driver_version
P=traces/validation/h100-sxm/plans
O="$OUT/buckets"
mkdir -p "$O"
for r in 1 2; do
  for mode in plan timed skip mb2; do
    case $mode in
      plan) args=("$P/gpt-350m-ddp2.json") ;;
      timed) args=("$P/gpt-350m-ddp2.json" --bucket-timing) ;;
      skip) args=("$P/gpt-350m-ddp2.json" --skip-grad-sync) ;;
      mb2) args=("$P/gpt-350m-mb2.json") ;;
    esac
    timeout 120 python3 scripts/validate/run.py "${args[@]}" --out "$O/$mode.r$r.json" --iterations 10 --warmup 3 \
      > "$O/$mode.r$r.log" 2>&1
    echo "$mode r$r rc=$?"; grep -E "^\[run\]|Error" "$O/$mode.r$r.log" | tail -1
  done
  python3 scripts/validate/bucket_timing.py "$O/timed.r$r.json" --buckets
done
tar -C "$OUT" -czf "$OUT/buckets.tar.gz" buckets && rm -rf "$O"; ls -la "$OUT"
