#!/usr/bin/env bash
# Device run (1 GPU), back as $OUT/w.tar.gz: the GEMM table with the activation operand in
# L2 as a model leaves it (gemm.py --activations warm, the new default), after a same-GPU
# A/B of the quick grid cold and warm. Why: in the validation runner's profiles the products
# ran 5-20 us faster than gemm.csv (A and B both cold) at the same shapes.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv
mkdir -p "$OUT/w"
for a in cold warm; do
  python3 scripts/profile/gemm.py --out "$OUT/w/quick-$a" --quick --activations $a 2>&1 | tail -1
done
python3 scripts/profile/gemm.py --out "$OUT/w/full" --budget-s ${BUDGET:-290} \
  --command "python3 scripts/profile/gemm.py --out traces --budget-s ${BUDGET:-290}" 2>&1 | tail -2
tar -C "$OUT" -czf "$OUT/w.tar.gz" w && rm -rf "$OUT/w"; ls -la "$OUT"
