#!/usr/bin/env bash
# Device run (1 GPU), back as $OUT/attention.csv: the attention table with its small-batch
# cases (4096 tokens up to sequence 4096) and GPT's 16 full heads of 64, which the
# validation runner's attention needed: there, few blocks per kernel ran ~10 % slower per
# unit of work than the 16384-token cases (traces/validation/h100-sxm/profiles/context-probe.json).
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
python3 scripts/profile/attention.py --out "$OUT/a" --budget-s ${BUDGET:-250} \
  --command "python3 scripts/profile/attention.py --out traces --budget-s ${BUDGET:-250}" 2>&1 | tail -3
cp "$OUT"/a/*/attention.csv "$OUT/attention.csv" && rm -rf "$OUT/a"; grep -c "" "$OUT/attention.csv"; grep "^# trunc" "$OUT/attention.csv"
