#!/usr/bin/env bash
# Device run (4 GPUs): (1) the MoE plans with the runner's torch._grouped_mm experts;
# (2) why tensor-parallel runs are host-bound — llama-1b-tp2 timed with each rank's host
# issue time, then again with NCCL's flight recorder and timing off, then with one CUDA
# connection, then profiled on both ranks (traces kept); (3) grouped_gemm.csv re-measured
# with the validation MoE's shapes added to the grid.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
nvidia-smi --query-gpu=name,driver_version --format=csv
nproc
P=traces/validation/h100-sxm/plans
R="$OUT/runs"; mkdir -p "$R"
one() {  # one plan, timed: NAME TAG [ENV=VALUE ...]
  local name=$1 tag=$2; shift 2
  env "$@" timeout 120 python3 scripts/validate/run.py "$P/$name.json" --out "$R/$name$tag.json" \
    --iterations 10 --warmup 3 > "$R/$name$tag.log" 2>&1
  echo "$name$tag rc=$?"; grep -E "^\[run\]|Error|error" "$R/$name$tag.log" | tail -3
}
one moe-base ""
one llama-1b-tp2 ""
one llama-1b-tp2 "-nofr" TORCH_NCCL_TRACE_BUFFER_SIZE=0 TORCH_NCCL_ENABLE_TIMING=0
one llama-1b-tp2 "-conn1" CUDA_DEVICE_MAX_CONNECTIONS=1
one llama-1b-tp4-sp ""
one moe-ep2 ""
one moe-ep4 ""
timeout 120 python3 scripts/validate/run.py "$P/llama-1b-tp2.json" --out "$R/tp2-prof.json" --iterations 2 --warmup 2 \
  --profile "$R/llama-1b-tp2" > "$R/tp2-prof.log" 2>&1; echo "profile rc=$?"; grep -E "^\[run\]|\[profile\]" "$R/tp2-prof.log"
timeout 200 python3 scripts/profile/grouped_gemm.py --out "$OUT/traces" --budget-s 110 --device 0 \
  --command "python3 scripts/profile/grouped_gemm.py --out traces --budget-s 110" 2>&1 | tail -3
ls -la "$R" "$OUT"/traces/*
