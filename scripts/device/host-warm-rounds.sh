#!/usr/bin/env bash
# Device run (2+ GPUs), back as $OUT/i.tar.gz: host.csv again, each sample of the rounds
# after an untimed short chain of its own op (host.py), nothing else.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader | head -1
mkdir -p "$OUT/i"
timeout 100 python3 scripts/profile/host.py --out "$OUT/i/traces" --command "python3 scripts/profile/host.py --out traces" \
  > "$OUT/i/host.log" 2>&1; echo "host rc=$? after $SECONDS s"; grep -E "^\[host\] (layer|gemm)|Error" "$OUT/i/host.log"
tar -C "$OUT" -czf "$OUT/i.tar.gz" i && rm -rf "$OUT/i"
