#!/usr/bin/env bash
# Device run (2 or 4 H200s), back as $OUT/t.tar.gz: the H200 tables the validation plans
# need beyond the GEMM, attention and memory-bound runs of 2026-11-28T04-11
# (traces/h200-sxm/runs/): the memory-bound ops measured since (the layout copy, MoE's
# permute and unpermute), the grouped expert products, and compute/communication
# interference on all the machine's GPUs. Stops with exit status 3 unless the machine has
# 2 or more H200s.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv
gpus=$(nvidia-smi --query-gpu=name --format=csv,noheader | grep -c H200)
[ "$gpus" -ge 2 ] || exit 3
timeout 150 python3 scripts/profile/elementwise.py --out "$OUT/t" --budget-s 90 --ops layout_copy,moe_permute,moe_unpermute \
  --command "python3 scripts/profile/elementwise.py --out traces --budget-s 90 --ops layout_copy,moe_permute,moe_unpermute" 2>&1 | tail -2
echo "elementwise at ${SECONDS}s"
timeout 260 python3 scripts/profile/grouped_gemm.py --out "$OUT/t" --budget-s 200 \
  --command "python3 scripts/profile/grouped_gemm.py --out traces --budget-s 200" 2>&1 | tail -2
echo "grouped_gemm at ${SECONDS}s"
python3 scripts/profile/run.py --out "$OUT/m" --gpus "$gpus" --families interference --time-limit $((560 - SECONDS)) 2>&1 | tail -3
echo "interference at ${SECONDS}s"
mkdir -p "$OUT/t/h200-sxm" && cp "$OUT"/m/*/interference.csv "$OUT/t/h200-sxm/"
grep -c "" "$OUT"/t/*/*.csv; grep -h "truncated\|skipped" "$OUT"/t/*/*.csv | cut -c1-200
tar -C "$OUT" -czf "$OUT/t.tar.gz" t && rm -rf "$OUT/t" "$OUT/m"; ls -la "$OUT"
