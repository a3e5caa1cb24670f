#!/usr/bin/env bash
# Device run (1 GPU), back as $OUT/grouped_gemm.csv: a third grouped-GEMM run, to merge with
# the two in traces/h100-sxm/runs/ (merge_tables.py keeps each case's fastest run): the fp8
# grouped product's leave-one-out p90 was 8.0 %, at the target's edge.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
timeout 200 python3 scripts/profile/grouped_gemm.py --out "$OUT/g" --budget-s ${BUDGET:-140} \
  --command "python3 scripts/profile/grouped_gemm.py --out traces --budget-s ${BUDGET:-140}" 2>&1 | tail -3
cp "$OUT"/g/*/grouped_gemm.csv "$OUT/" && rm -rf "$OUT/g"; grep -c "" "$OUT/grouped_gemm.csv"; grep -E "truncated|skip" "$OUT/grouped_gemm.csv" | head -5
