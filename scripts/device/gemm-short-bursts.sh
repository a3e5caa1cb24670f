#!/usr/bin/env bash
# Device run (1 GPU), back as $OUT/gemm.csv and $OUT/ab.tar.gz: the GEMM table timed in
# short bursts after idle pauses (gemm.py's default since 2026-11-28), after a same-GPU A/B
# of the quick grid in the old 30 ms bursts and the new 5 ms ones.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv
python3 scripts/profile/gemm.py --out "$OUT/ab/long" --quick --burst-ms 30 --cooldown-ms 0 2>&1 | tail -1
python3 scripts/profile/gemm.py --out "$OUT/ab/short" --quick 2>&1 | tail -1
python3 scripts/profile/gemm.py --out "$OUT/full" --budget-s ${BUDGET:-170} \
  --command "python3 scripts/profile/gemm.py --out traces --budget-s ${BUDGET:-170}" 2>&1 | tail -2
cp "$OUT"/full/*/gemm.csv "$OUT/gemm.csv" && rm -rf "$OUT/full"; grep "^# trunc" "$OUT/gemm.csv"
tar -C "$OUT" -czf "$OUT/ab.tar.gz" ab && rm -rf "$OUT/ab"; ls -la "$OUT"
