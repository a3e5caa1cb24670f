#!/usr/bin/env bash
# Device run: host.csv again, with collectives timed from 2 KiB to 64 MiB, and one profiled
# iteration of gpt-350m-base at sequence 128 (host-bound) to see where its host time goes.
# Everything back as $OUT/d.tar.gz.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
mkdir -p "$OUT/d"
timeout 300 python3 scripts/profile/host.py --out "$OUT/d/traces" --command "python3 scripts/profile/host.py --out traces" \
  > "$OUT/d/host.log" 2>&1; echo "host rc=$?"; grep -E "^\[host\]|Error" "$OUT/d/host.log"
timeout 100 python3 scripts/validate/run.py traces/validation/h100-sxm/plans/gpt-350m-base.json --seq 128 \
  --out "$OUT/d/gpt-seq128.json" --iterations 3 --warmup 2 --profile "$OUT/d/gpt-350m-base-seq128" > "$OUT/d/gpt.log" 2>&1
grep -E "^\[run\]|\[profile\]|Error" "$OUT/d/gpt.log"
tar -C "$OUT" -czf "$OUT/d.tar.gz" d && rm -rf "$OUT/d"; ls -la "$OUT"
