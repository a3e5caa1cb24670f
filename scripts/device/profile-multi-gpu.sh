#!/usr/bin/env bash
# Device run (4 GPUs), back as $OUT/p.tar.gz (summaries, results, logs) and $OUT/t.tar.gz
# (rank traces): why multi-GPU data- and pipeline-parallel runs take longer than Strata
# predicts (docs/accuracy.md). Each plan is timed as in validation (the results now carry
# every rank's SM clock and power), then one more iteration is profiled on every rank;
# its summary splits the GPU's time into compute, NCCL, both, and idle.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv
mkdir -p "$OUT/p" "$OUT/t"
P=traces/validation/h100-sxm/plans
for n in gpt-350m-base gpt-350m-ddp4 gpt-350m-ddp2 gpt-350m-gpipe2 gpt-350m-1f1b4 gpt-350m-zero1-dp4 \
         llama-1b-fsdp4 moe-ep4 llama-1b-tp2 moe-base; do
  [ $SECONDS -lt 500 ] || break
  timeout 75 python3 scripts/validate/run.py "$P/$n.json" --out "$OUT/p/$n.json" --iterations 8 --warmup 3 \
    --profile "$OUT/t/$n" > "$OUT/p/$n.log" 2>&1; echo "$n rc=$?"
  grep -E "^\[run\]|^\[profile\]|Error" "$OUT/p/$n.log" | tail -5
  mv "$OUT"/t/$n.rank*.json "$OUT/p/" 2>/dev/null
done
tar -C "$OUT" -czf "$OUT/p.tar.gz" p && rm -rf "$OUT/p"
tar -C "$OUT" -cf "$OUT/t.tar" t && rm -rf "$OUT/t"; ls -la "$OUT"
