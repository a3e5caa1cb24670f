#!/usr/bin/env bash
# Device run (1 H200 or more), back as $OUT/m.tar.gz: gpt-350m at 4, 2 and 1 micro-batches an
# iteration on one GPU (gpt-350m-base, -mb2, -mb1: the per-GPU work of the base, ddp2 and
# ddp4 plans without their data parallelism), alternately, ROUNDS times (default 3), so a
# straight line through the three separates what an iteration costs per micro-batch from
# what it costs once (docs/accuracy.md). Stops with exit status 3 unless the machine has
# an H200.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv
[ "$(nvidia-smi --query-gpu=name --format=csv,noheader | grep -c H200)" -ge 1 ] || exit 3
mkdir -p "$OUT/m"
P=traces/validation/h100-sxm/plans
for round in $(seq 1 "${ROUNDS:-3}"); do
  for n in gpt-350m-base gpt-350m-mb2 gpt-350m-mb1; do
    [ $SECONDS -lt ${BUDGET:-300} ] || break 2
    timeout 60 python3 scripts/validate/run.py "$P/$n.json" --out "$OUT/m/$n.r$round.json" --iterations 10 --warmup 3 \
      > "$OUT/m/$n.r$round.log" 2>&1; echo "$n r$round rc=$?"; grep -E "^\[run\]|Error" "$OUT/m/$n.r$round.log" | tail -1
  done
done
tar -C "$OUT" -czf "$OUT/m.tar.gz" m && rm -rf "$OUT/m"; ls -la "$OUT"
