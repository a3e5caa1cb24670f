#!/usr/bin/env bash
# Device run (2 H200s), back as $OUT/i.tar.gz (docs/accuracy.md, "Data parallelism's
# buckets, timed"):
#  1. interference at the sizes a data-parallel GPT-350M backward runs: its products at
#     8,192 tokens (input and weight gradients) beside all-reduces of a 25 MiB DDP bucket
#     and of its 100 MiB embedding bucket, and the table's 4096-cube product beside both
#     for reference (collectives.py --families interference --intf-shapes --intf-bytes);
#  2. gpt-350m-ddp2 with every bucket timed (run.py --bucket-timing), twice, beside the
#     plan as is, so the timings come back whole.
# Stops with exit status 3 unless the machine has two H200s.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
[ "$(nvidia-smi --query-gpu=name --format=csv,noheader | grep -c H200)" -ge 2 ] || exit 3
O="$OUT/i"
mkdir -p "$O/buckets"
SHAPES=8192x3072x1024,8192x1024x1024,8192x4096x1024,8192x1024x4096,1024x4096x8192,4096x1024x8192,4096x4096x4096
timeout 200 python3 scripts/profile/collectives.py --out "$O/traces" --gpus 2 --families interference --budget-s 150 \
  --intf-shapes $SHAPES --intf-bytes 26214400,104857600 \
  --command "python3 scripts/profile/collectives.py --out traces --gpus 2 --families interference --budget-s 150 --intf-shapes $SHAPES --intf-bytes 26214400,104857600" \
  > "$O/interference.log" 2>&1
echo "interference rc=$? at ${SECONDS}s"; grep -E "^\[interference\]|Error" "$O/interference.log"
P=traces/validation/h100-sxm/plans
for r in 1 2; do
  for mode in plan timed; do
    extra=(); [ $mode = timed ] && extra=(--bucket-timing)
    timeout 120 python3 scripts/validate/run.py "$P/gpt-350m-ddp2.json" "${extra[@]}" --out "$O/buckets/$mode.r$r.json" \
      --iterations 10 --warmup 3 > "$O/buckets/$mode.r$r.log" 2>&1
    echo "$mode r$r rc=$?"; grep -E "^\[run\]|Error" "$O/buckets/$mode.r$r.log" | tail -1
  done
  python3 scripts/validate/bucket_timing.py "$O/buckets/timed.r$r.json"
done
tar -C "$OUT" -czf "$OUT/i.tar.gz" i && rm -rf "$O"; ls -la "$OUT"
