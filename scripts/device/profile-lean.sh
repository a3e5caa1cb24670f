#!/usr/bin/env bash
# Device run (4 GPUs), back as $OUT/l.tar.gz: the validation plans timed as in validation,
# then one iteration profiled on every rank with the lean profiler (GPU activity and launch
# calls only: run.py --profile-lean), whose summary splits the GPU's idle time into waiting
# for the host and waiting for something else, and whose compact timeline comes back.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv
mkdir -p "$OUT/l"
P=traces/validation/h100-sxm/plans
for n in ${PLANS:-gpt-350m-base gpt-350m-ddp4 gpt-350m-gpipe2 gpt-350m-1f1b4 gpt-350m-zero1-dp4 llama-1b-base \
         llama-1b-fsdp4 llama-1b-tp2 moe-base moe-ep4}; do
  [ $SECONDS -lt ${BUDGET:-420} ] || break
  timeout 75 python3 scripts/validate/run.py "$P/$n.json" --out "$OUT/l/$n.json" --iterations 8 --warmup 3 \
    --profile "$OUT/l/$n" --profile-lean > "$OUT/l/$n.log" 2>&1; echo "$n rc=$?"
  grep -E "^\[run\]|^\[profile\]|Error" "$OUT/l/$n.log" | tail -5
done
tar -C "$OUT" -czf "$OUT/l.tar.gz" l && rm -rf "$OUT/l"; ls -la "$OUT"
