#!/usr/bin/env bash
# Device run (2 H200s): whether two GPUs of one machine run the same work at the same speed
# (docs/accuracy.md, "Data parallelism's buckets, timed": the replicas of gpt-350m-ddp2 drift
# 0.4-0.8 ms apart before their last backward). gpt-350m-mb2, the per-GPU work of ddp2, on
# each GPU alone, alternately, three times; median of 10 iterations after 3 warm-up, with
# each run's median SM clock and power. Back as $OUT/speed.tar.gz. Stops with exit status 3
# unless the machine has two H200s.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=index,name,driver_version,pci.bus_id --format=csv
[ "$(nvidia-smi --query-gpu=name --format=csv,noheader | grep -c H200)" -ge 2 ] || exit 3
O="$OUT/speed"
mkdir -p "$O"
for r in 1 2 3; do
  for g in 0 1; do
    CUDA_VISIBLE_DEVICES=$g timeout 90 python3 scripts/validate/run.py traces/validation/h100-sxm/plans/gpt-350m-mb2.json \
      --out "$O/mb2.gpu$g.r$r.json" --iterations 10 --warmup 3 > "$O/mb2.gpu$g.r$r.log" 2>&1
    echo "gpu$g r$r rc=$?"; grep -E "^\[run\]|Error" "$O/mb2.gpu$g.r$r.log" | tail -1
  done
done
tar -C "$OUT" -czf "$OUT/speed.tar.gz" speed && rm -rf "$O"; ls -la "$OUT"
