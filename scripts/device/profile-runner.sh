#!/usr/bin/env bash
# Device run: launch costs, and a kernel-level profile of the validation runner on 1-2 GPUs.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
nvidia-smi --query-gpu=name,driver_version --format=csv
mkdir -p $OUT/prof
python3 scripts/profile/launch.py --out $OUT/traces 2>&1 | tail -8
for p in gpt-350m-base llama-1b-base moe-base llama-1b-tp2; do
  timeout 120 python3 scripts/validate/run.py traces/validation/h100-sxm/plans/$p.json --out $OUT/prof/$p.result.json --iterations 3 --warmup 2 --profile $OUT/prof/$p 2>&1 | grep -v Warning | tail -4
done
ls -la $OUT/prof
