#!/usr/bin/env bash
# Device run (4 GPUs), back as $OUT/collectives.csv, $OUT/nccl_choices.csv and
# $OUT/gc.tar.gz: the collectives table once more (to merge with the runs in
# traces/h100-sxm/runs/), with the algorithm, protocol and channel count NCCL chose for
# each row (--nccl-choices); then the 4-GPU validation plans once each, whose results now
# record the garbage collector's pauses inside the timed iterations.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
timeout 300 python3 scripts/profile/collectives.py --out "$OUT/c" --gpus 4 --families collectives --nccl-choices \
  --budget-s ${BUDGET:-220} \
  --command "python3 scripts/profile/collectives.py --out traces --gpus 4 --families collectives --nccl-choices --budget-s ${BUDGET:-220}" 2>&1 | tail -4
cp "$OUT"/c/*/collectives.csv "$OUT"/c/*/nccl_choices.csv "$OUT/" && rm -rf "$OUT/c"; grep -c "" "$OUT"/*.csv
grep -E '^all_reduce,(2|4),contiguous,(524288|1048576|2097152|4194304),' "$OUT/nccl_choices.csv"
mkdir -p "$OUT/gc"
for n in gpt-350m-ddp4 gpt-350m-zero1-dp4 llama-1b-fsdp4 moe-ep4; do
  [ $SECONDS -lt ${GC_BUDGET:-500} ] || break
  timeout 60 python3 scripts/validate/run.py traces/validation/h100-sxm/plans/$n.json --out "$OUT/gc/$n.json" \
    --iterations 8 --warmup 3 > "$OUT/gc/$n.log" 2>&1; echo "$n rc=$?"; grep -E "^\[run\]|Error" "$OUT/gc/$n.log" | tail -1
done
tar -C "$OUT" -czf "$OUT/gc.tar.gz" gc && rm -rf "$OUT/gc"; ls -la "$OUT"
