#!/usr/bin/env bash
# Device run (2 H200s): whether two GPUs of one machine run the same work at the same speed
# (docs/accuracy.md, "Data parallelism's buckets, timed": the replicas of gpt-350m-ddp2 drift
# 0.4-0.8 ms apart before their last backward). gpt-350m-mb2, the per-GPU work of ddp2, on
# each GPU alone, alternately, three times; median of 10 iterations after 3 warm-up, with
# each run's median SM clock and power. Back as $OUT/speed.tar.gz. Stops with exit status 3
# unless the machine has two H200s.
. "$(dirname "$0")/common.sh"
require_h200s 2 index,name,driver_version,pci.bus_id
O="$OUT/speed"
mkdir -p "$O"
for r in 1 2 3; do
  for g in 0 1; do
    CUDA_VISIBLE_DEVICES=$g RUN_TIMEOUT=90 run_plan "$O" "mb2.gpu$g.r$r" traces/validation/h100-sxm/plans/gpt-350m-mb2.json \
      --iterations 10 --warmup 3
  done
done
tar -C "$OUT" -czf "$OUT/speed.tar.gz" speed && rm -rf "$O"; ls -la "$OUT"
