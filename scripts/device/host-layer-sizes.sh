#!/usr/bin/env bash
# Device run (1 H200), back under $OUT: does a layer's host cost depend on its size? On one
# machine, minutes apart: scripts/validate/host_layer_sizes.py (the runner's layer in a
# chain at host.py's sizes and at the validation models' own), host.py's table (ops and
# the layer at its sizes; one GPU, so no collectives), and the runner's single-GPU plans at
# sequence 128, whose iterations are the host's. Stops with exit status 3 unless the GPU
# is an H200.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | grep -q H200 || exit 3
nproc
timeout 200 python3 scripts/validate/host_layer_sizes.py --out "$OUT/layers.json" --repeats 7 2>&1 | grep -E "^\[layers\]|Error"
echo "layers at ${SECONDS}s"
timeout 120 python3 scripts/profile/host.py --out "$OUT/t" --repeats 11 \
  --command "python3 scripts/profile/host.py --out traces --repeats 11" 2>&1 | grep -E "^\[host\] layer|Error"
echo "host at ${SECONDS}s"
mkdir -p "$OUT/seq128"
P=traces/validation/h100-sxm/plans
for n in gpt-350m-base llama-1b-base moe-base; do
  timeout 60 python3 scripts/validate/run.py "$P/$n.json" --out "$OUT/seq128/$n-seq128.json" --iterations 6 --warmup 2 \
    --seq 128 > "$OUT/seq128/$n.log" 2>&1; echo "$n seq128 rc=$?"; grep -E "^\[run\]|Error" "$OUT/seq128/$n.log" | tail -1
done
cp "$OUT"/t/*/host.csv "$OUT/host.csv" && rm -rf "$OUT/t"; ls -la "$OUT"
