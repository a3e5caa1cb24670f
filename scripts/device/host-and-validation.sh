#!/usr/bin/env bash
# Device run (4 GPUs), back as one archive ($OUT/c.tar.gz): host.csv (what eager PyTorch's
# host spends per op; scripts/profile/host.py), then every validation plan measured again
# with the current runner (torch._grouped_mm experts, host issue times per rank).
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
mkdir -p "$OUT/c"
timeout 150 python3 scripts/profile/host.py --out "$OUT/c/traces" --command "python3 scripts/profile/host.py --out traces" \
  > "$OUT/c/host.log" 2>&1; echo "host rc=$?"; grep -E "^\[host\]|Error" "$OUT/c/host.log"
left=$((570 - SECONDS)); echo "validation gets $left s"
scripts/validate/run_all.sh traces/validation/h100-sxm/plans --out "$OUT/c/val" --iterations 10 --warmup 3 \
  --time-limit $left --plan-timeout 100 2>&1 | tail -20
rm -rf "$OUT/c/val/logs"
tar -C "$OUT" -czf "$OUT/c.tar.gz" c && rm -rf "$OUT/c"; ls -la "$OUT"
