#!/usr/bin/env bash
# Device run (4 GPUs), back as $OUT/e.tar.gz: host.csv (with the MoE layer's permute and
# unpermute, collectives by size) and every validation plan again, on the same host, so
# that the host costs Strata charges and the runs they are compared with come from one
# machine (host costs moved by up to 2.6x between two hosts of the same kind).
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
lscpu | grep -E "Model name|^CPU\(s\)|MHz" | head -4
mkdir -p "$OUT/e"
timeout 150 python3 scripts/profile/host.py --out "$OUT/e/traces" --command "python3 scripts/profile/host.py --out traces" \
  > "$OUT/e/host.log" 2>&1; echo "host rc=$?"; grep -E "^\[host\]|Error" "$OUT/e/host.log" | grep -v "B (2"
left=$((480 - SECONDS)); echo "validation gets $left s"
scripts/validate/run_all.sh traces/validation/h100-sxm/plans --out "$OUT/e/val" --iterations 10 --warmup 3 \
  --time-limit $left --plan-timeout 90 2>&1 | grep -v "^#" | tail -17
rm -rf "$OUT/e/val/logs"
tar -C "$OUT" -czf "$OUT/e.tar.gz" e && rm -rf "$OUT/e"; ls -la "$OUT"
