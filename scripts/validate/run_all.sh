#!/usr/bin/env bash
# Run every plan in a folder on this machine's GPUs (see run_all.py --help):
#   scripts/validate/run_all.sh traces/validation/h100-sxm/plans --out /tmp/validation --smoke-first
# NVLink multicast stays off here and in every child (run_all.py and run.py set it too).
set -euo pipefail
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
exec python3 "$(dirname "$0")/run_all.py" "$@"
