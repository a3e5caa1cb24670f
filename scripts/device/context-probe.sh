#!/usr/bin/env bash
# Device run (1 GPU), back as $OUT/context-probe.json: scripts/validate/context_probe.py.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv
timeout 240 python3 scripts/validate/context_probe.py --out "$OUT/context-probe${ONLY:+-$ONLY}.json" ${ONLY:+--only $ONLY}
