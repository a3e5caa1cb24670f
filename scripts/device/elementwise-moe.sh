#!/usr/bin/env bash
# Device run (1 H100), back as $OUT/elementwise.csv: the memory-bound ops again, now with
# MoE's permute and unpermute measured as the validation runner runs them (elementwise.py's
# moe_permute, moe_unpermute); replaces traces/h100-sxm/elementwise.csv, the earlier run
# going to runs/.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
timeout 330 python3 scripts/profile/elementwise.py --out "$OUT/e" --budget-s ${BUDGET:-270} \
  --command "python3 scripts/profile/elementwise.py --out traces --budget-s ${BUDGET:-270}" 2>&1 | tail -3
cp "$OUT"/e/*/elementwise.csv "$OUT/" && rm -rf "$OUT/e"; grep -c "" "$OUT/elementwise.csv"; grep -E "^moe_|truncated|skip" "$OUT/elementwise.csv" | head -60
