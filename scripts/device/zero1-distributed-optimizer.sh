#!/usr/bin/env bash
# Device run (4 H200s): gpt-350m-zero1-dp4 with the runner's distributed optimizer
# (Megatron-LM's: bucketed reduce-scatters in the backward, the step on each replica's
# slice, bucketed all-gathers; run.py's DistributedOptimizer), which replaced an all-reduce
# and per-owner broadcasts that Strata's `zero = 1` does not lower to; beside it, alternately,
# gpt-350m-ddp4, twice each. Median of 10 iterations after 3 warm-up. Back as
# $OUT/zero1.tar.gz. Stops with exit status 3 unless the machine has four H200s.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
[ "$(nvidia-smi --query-gpu=name --format=csv,noheader | grep -c H200)" -ge 4 ] || exit 3
P=traces/validation/h100-sxm/plans
O="$OUT/zero1"
mkdir -p "$O"
for r in 1 2; do
  for n in gpt-350m-zero1-dp4 gpt-350m-ddp4; do
    timeout 120 python3 scripts/validate/run.py "$P/$n.json" --out "$O/$n.r$r.json" --iterations 10 --warmup 3 \
      > "$O/$n.r$r.log" 2>&1
    echo "$n r$r rc=$?"; grep -E "^\[run\]|Error" "$O/$n.r$r.log" | tail -1
  done
done
tar -C "$OUT" -czf "$OUT/zero1.tar.gz" zero1 && rm -rf "$O"; ls -la "$OUT"
