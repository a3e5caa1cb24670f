#!/usr/bin/env bash
# Device run (1 H200), back as $OUT/h200.tar.gz: the GEMM, attention and memory-bound tables
# on an H200, the first measurements of a GPU Strata has no tables for, to test the
# transferred cost model (H100 efficiencies on the H200's datasheet roofline) against:
# scripts/validate/transfer_check.py. Kept under traces/h200-sxm/runs/, where Strata does
# not load them. Stops with exit status 3 if the GPU is not an H200.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv
nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | grep -q H200 || exit 3
for f in "gemm 170" "attention 200" "elementwise 60"; do
  set -- $f
  timeout $(( $2 + 60 )) python3 scripts/profile/$1.py --out "$OUT/t" --budget-s $2 \
    --command "python3 scripts/profile/$1.py --out traces --budget-s $2" 2>&1 | tail -2
done
ls "$OUT"/t/*/; grep -l truncated "$OUT"/t/*/*.csv
tar -C "$OUT/t" -czf "$OUT/h200.tar.gz" . && rm -rf "$OUT/t"; ls -la "$OUT"
