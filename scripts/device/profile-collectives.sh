#!/usr/bin/env bash
# Device run: re-measure collectives.csv and interference.csv on 4 GPUs (the 2-GPU rows of
# the first run had single disturbed sizes, e.g. a 2 MiB all-reduce at 2x its neighbours).
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
nvidia-smi --query-gpu=name,driver_version --format=csv
python3 scripts/profile/run.py --out "$OUT/traces" --gpus 4 --families collectives,interference --time-limit 300 2>&1 | tail -5
grep -c . "$OUT"/traces/*/*.csv
