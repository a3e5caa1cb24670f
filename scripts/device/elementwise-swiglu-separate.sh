#!/usr/bin/env bash
# Device run (1 GPU), back as $OUT/elementwise.csv: the memory-bound ops again, now with
# SwiGLU on separate contiguous gate and up tensors (as Strata lowers LLaMA's MLP and the
# validation runner runs it; the 2026-11-27 table read the halves of one fused tensor) and
# norms at width 1536.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv
timeout 330 python3 scripts/profile/elementwise.py --out "$OUT/e" --budget-s ${BUDGET:-270} \
  --command "python3 scripts/profile/elementwise.py --out traces --budget-s ${BUDGET:-270}" 2>&1 | tail -3
cp "$OUT"/e/*/elementwise.csv "$OUT/" && rm -rf "$OUT/e"; grep -c "" "$OUT/elementwise.csv"; grep -E "^swiglu|truncated" "$OUT/elementwise.csv"
