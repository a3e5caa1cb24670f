#!/usr/bin/env bash
# Device run: re-measure the memory-bound op table (elementwise.csv), after cross-entropy
# moved to the fp32 implementation training runs and rope/accumulate were added.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
nvidia-smi --query-gpu=name,driver_version --format=csv
python3 scripts/profile/elementwise.py --out "$OUT/traces" --budget-s 150 \
  --command "python3 scripts/profile/elementwise.py --out traces --budget-s 150" 2>&1 | tail -15
grep -c . "$OUT"/traces/*/elementwise.csv
