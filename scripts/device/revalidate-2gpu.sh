#!/usr/bin/env bash
# Device run: measure the validation plans of 1 and 2 GPUs again on another machine, to see
# how much the runner's own measurements move from host to host (the committed table is
# from one 4-GPU host, 2026-11-27 17:xx UTC).
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
nvidia-smi --query-gpu=name,driver_version --format=csv
scripts/validate/run_all.sh traces/validation/h100-sxm/plans --out "$OUT/val" \
  --only gpt-350m-base,gpt-350m-ddp2,gpt-350m-gpipe2,llama-1b-base,llama-1b-tp2,llama-1b-recompute,moe-base,moe-ep2 \
  --time-limit 500 --plan-timeout 120 2>&1 | tail -15
rm -rf "$OUT/val/logs"
cat "$OUT/val/measurements.csv" | grep -v "^#"
