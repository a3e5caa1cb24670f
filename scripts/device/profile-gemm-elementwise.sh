#!/usr/bin/env bash
# Device run: re-measure gemm.csv and elementwise.csv with the grids widened to the small
# models the validation runs use and to language-model heads (shapes `simulate run` had
# flagged as outside the measured range).
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
nvidia-smi --query-gpu=name,driver_version --format=csv
python3 scripts/profile/elementwise.py --out "$OUT/traces" --budget-s 150 \
  --command "python3 scripts/profile/elementwise.py --out traces --budget-s 150" 2>&1 | tail -3
python3 scripts/profile/gemm.py --out "$OUT/traces" --budget-s 270 \
  --command "python3 scripts/profile/gemm.py --out traces --budget-s 270" 2>&1 | tail -3
grep -c . "$OUT"/traces/*/*.csv
grep -h "truncated" "$OUT"/traces/*/*.csv
