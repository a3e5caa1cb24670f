#!/usr/bin/env bash
# Device run (4 GPUs), everything back as one archive ($OUT/b.tar.gz; a call returns at
# most 8 files):
#  1. the MoE plans, timed, with the runner's torch._grouped_mm experts;
#  2. the host's cost of issuing an iteration: plans run at sequence 128 (run.py --seq),
#     where the GPU's work is small and the host's is unchanged, with forward/backward split;
#  3. grouped_gemm.csv with the validation MoE's shapes in the grid (1 GPU);
#  4. collectives.csv and interference.csv re-measured on 4 GPUs, in the time left.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
P=traces/validation/h100-sxm/plans
R="$OUT/b/runs"; mkdir -p "$R"
one() {  # NAME TAG [run.py options...]
  local name=$1 tag=$2; shift 2
  timeout 120 python3 scripts/validate/run.py "$P/$name.json" --out "$R/$name$tag.json" "$@" > "$R/$name$tag.log" 2>&1
  echo "$name$tag rc=$?"; grep -E "^\[run\]|Error" "$R/$name$tag.log" | tail -2
}
for n in moe-base moe-ep2 moe-ep4; do one $n "" --iterations 10 --warmup 3; done
for n in gpt-350m-base llama-1b-base moe-base llama-1b-tp2 llama-1b-tp4-sp; do one $n "-seq128" --iterations 6 --warmup 2 --seq 128; done
timeout 170 python3 scripts/profile/grouped_gemm.py --out "$OUT/b/traces" --budget-s 110 --device 0 \
  --command "python3 scripts/profile/grouped_gemm.py --out traces --budget-s 110" 2>&1 | tail -2
left=$((560 - SECONDS)); echo "collectives get $left s"
if [ $left -gt 120 ]; then
  python3 scripts/profile/run.py --out "$OUT/b/traces" --gpus 4 --families collectives,interference \
    --time-limit $((left - 20)) 2>&1 | tail -4
fi
grep -c . "$OUT"/b/traces/*/*.csv
tar -C "$OUT" -czf "$OUT/b.tar.gz" b && rm -rf "$OUT/b"; ls -la "$OUT"
