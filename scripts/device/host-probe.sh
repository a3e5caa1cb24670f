#!/usr/bin/env bash
# Device run (4 GPUs), back as $OUT/f.tar.gz: where tensor- and expert-parallel runs spend
# their host time around collectives (scripts/validate/host_probe.py: each collective the
# runner calls timed in place, under switches of PyTorch's and NCCL's environment); the
# results are kept as traces/validation/h100-sxm/profiles/probe-*.json.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
nproc; lscpu | grep -E "Model name|MHz" | head -3
P=traces/validation/h100-sxm/plans
R="$OUT/f"; mkdir -p "$R"
probe() {  # NAME SECONDS VARIANTS
  timeout "$2" python3 scripts/validate/host_probe.py "$P/$1.json" --out "$R/probe-$1.json" --variants "$3" --iterations 3 \
    > "$R/probe-$1.log" 2>&1; echo "$1 rc=$?"; grep -E "^\[probe\]|Error|error" "$R/probe-$1.log" | tail -8
}
probe llama-1b-tp2 200 base,no-collectives,avoid-record,no-recorder,no-monitor,one-connection
probe llama-1b-tp4-sp 90 base,avoid-record
probe moe-ep4 80 base,no-collectives
tar -C "$OUT" -czf "$OUT/f.tar.gz" f && rm -rf "$R"; ls -la "$OUT"
