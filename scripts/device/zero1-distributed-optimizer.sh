#!/usr/bin/env bash
# Device run (4 H200s): gpt-350m-zero1-dp4 with the runner's distributed optimizer
# (Megatron-LM's: bucketed reduce-scatters in the backward, the step on each replica's
# slice, bucketed all-gathers; run.py's DistributedOptimizer), which replaced an all-reduce
# and per-owner broadcasts that Strata's `zero = 1` does not lower to; beside it, alternately,
# gpt-350m-ddp4, twice each. Median of 10 iterations after 3 warm-up. Back as
# $OUT/zero1.tar.gz. Stops with exit status 3 unless the machine has four H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4 name,driver_version
P=traces/validation/h100-sxm/plans
O="$OUT/zero1"
mkdir -p "$O"
for r in 1 2; do
  for n in gpt-350m-zero1-dp4 gpt-350m-ddp4; do
    run_plan "$O" "$n.r$r" "$P/$n.json" --iterations 10 --warmup 3
  done
done
tar -C "$OUT" -czf "$OUT/zero1.tar.gz" zero1 && rm -rf "$O"; ls -la "$OUT"
