#!/usr/bin/env bash
# Device run (1 GPU), back as $OUT/<FAMILY>.csv: one profiler family's table, its command
# line recorded as the repository would run it, to merge with or replace
# traces/<gpu>/<FAMILY>.csv. FAMILY names the profiler (scripts/profile/<FAMILY>.py:
# elementwise, grouped_gemm, gemm, attention), BUDGET its seconds (default 270), ARGS more
# of its arguments (such as --ops for elementwise), SHOW an extended regular expression of
# the rows to print afterwards.
set -x
: "${FAMILY:?name the profiler family, e.g. FAMILY=elementwise}"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv
budget=${BUDGET:-270}
timeout $((budget + 60)) python3 "scripts/profile/$FAMILY.py" --out "$OUT/t" --budget-s "$budget" ${ARGS:-} \
  --command "python3 scripts/profile/$FAMILY.py --out traces --budget-s $budget${ARGS:+ $ARGS}" 2>&1 | tail -3
cp "$OUT"/t/*/"$FAMILY.csv" "$OUT/" && rm -rf "$OUT/t"; grep -c "" "$OUT/$FAMILY.csv"
grep -E "${SHOW:-truncated|skip}" "$OUT/$FAMILY.csv" | head -60
