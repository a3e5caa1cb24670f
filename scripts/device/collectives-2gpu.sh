#!/usr/bin/env bash
# Device run (2 GPUs), back as $OUT/collectives.csv: a third 2-GPU collectives run, to merge
# with the two in traces/h100-sxm/runs/ (merge_tables.py keeps each size's fastest run):
# the 2-GPU all-reduce and all-to-all at 2 MiB were disturbed in one run and missing a
# neighbour's protocol change in the other.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
timeout 140 python3 scripts/profile/collectives.py --out "$OUT/c" --gpus 2 --families collectives --budget-s ${BUDGET:-90} \
  --command "python3 scripts/profile/collectives.py --out traces --gpus 2 --families collectives --budget-s ${BUDGET:-90}" 2>&1 | tail -3
cp "$OUT"/c/*/collectives.csv "$OUT/collectives.csv" && rm -rf "$OUT/c"; grep -c "" "$OUT/collectives.csv"
