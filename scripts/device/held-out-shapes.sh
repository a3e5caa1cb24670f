#!/usr/bin/env bash
# Device run (1, 2 or 4 H100s), back under $OUT: the shapes `simulate calibrate` scores its
# fits on without having fitted them, each part picked by PARTS (default
# collectives,gemm,attention,grouped,grid; collectives and grid need 2 GPUs or more and use them all):
# - collectives: every collective but send/recv on the contiguous groups of 2 and 4 GPUs at
#   the sizes between the grid's powers of two (collectives.py --held-out), twice, as
#   collectives_held_out-1.csv and -2.csv, to merge;
# - gemm: bf16 and fp8 products of models the grid lacks (gemm.py --held-out), twice, as
#   gemm_held_out-1.csv and -2.csv, to merge;
# - attention: sequence lengths and head shapes the grid lacks (attention.py --held-out),
#   twice, as attention_held_out-1.csv and -2.csv, to merge;
# - grouped: the two grouped kernels at 5,792 and 11,584 tokens, between the grid's 4,096,
#   8,192 and 16,384 (grouped_gemm.py --held-out), as grouped_gemm_held_out.csv; its first
#   run, at 8,192, is traces/h100-sxm/runs/grouped_gemm-2026-11-28T05-40-8192-tokens.csv;
# - grid: if time is left, the collectives grid once more (collectives.csv), to merge with
#   the runs in traces/h100-sxm/runs/.
# Stops with status 3 on any GPU but an H100: the tables are the H100's.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv
nvidia-smi --query-gpu=name --format=csv,noheader | grep -qv "H100" && { echo "not all H100s: stopping"; exit 3; }
parts=${PARTS:-collectives,gemm,attention,grouped,grid}
gpus=$(nvidia-smi --query-gpu=name --format=csv,noheader | wc -l)
mkdir -p "$OUT/t"
# FAMILY's held-out table twice, to merge (merge_tables.py keeps each shape's smaller median):
# a single run holds a disturbed shape or two (median several times its p10), as the grid's
# runs do. Then BUDGET seconds each, and the family's own arguments.
held_out_twice() {
  local family=$1 budget=$2; shift 2
  for round in 1 2; do
    timeout 200 python3 scripts/profile/$family.py --out "$OUT/p$round" "$@" --held-out --budget-s $budget \
      --command "python3 scripts/profile/$family.py --out traces${*:+ $*} --held-out --budget-s $budget" 2>&1 | tail -2
    cp "$OUT"/p$round/*/${family}_held_out.csv "$OUT/${family}_held_out-$round.csv"; rm -rf "$OUT/p$round"
  done
}
[[ $parts == *collectives* ]] && held_out_twice collectives 100 --gpus $gpus --families collectives
[[ $parts == *gemm* ]] && held_out_twice gemm 150
[[ $parts == *attention* ]] && held_out_twice attention 150
if [[ $parts == *grouped* ]]; then
  timeout 160 python3 scripts/profile/grouped_gemm.py --out "$OUT/t" --held-out --budget-s 110 \
    --command "python3 scripts/profile/grouped_gemm.py --out traces --held-out --budget-s 110" 2>&1 | tail -3
fi
cp "$OUT"/t/*/*.csv "$OUT/" 2>/dev/null; rm -rf "$OUT/t"; grep -c "" "$OUT"/*.csv
grep -E "truncated|skip" "$OUT"/*.csv | head
left=$((560 - SECONDS))
if [[ $parts == *grid* ]] && [ $left -gt 150 ]; then
  budget=$((left - 60))
  timeout $((left - 10)) python3 scripts/profile/collectives.py --out "$OUT/g" --gpus $gpus --families collectives --budget-s $budget \
    --command "python3 scripts/profile/collectives.py --out traces --gpus $gpus --families collectives --budget-s $budget" 2>&1 | tail -3
  cp "$OUT"/g/*/collectives.csv "$OUT/" && rm -rf "$OUT/g"; grep -c "" "$OUT/collectives.csv"; grep truncated "$OUT/collectives.csv"
fi
ls -la "$OUT"
