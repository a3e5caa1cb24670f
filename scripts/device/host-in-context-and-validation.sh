#!/usr/bin/env bash
# Device run (4 GPUs), back as $OUT/g.tar.gz, everything on one host within minutes:
#  1. host.csv with each op's and collective's host cost scaled to what it costs in context
#     (the runner's own LLaMA layer, with and without tensor parallelism, in a chain of layers);
#  2. every validation plan, with the runner's multi-tensor optimizer step;
#  3. in the time left, the seq-128 (host-bound) runs that scripts/validate/host_check.sh
#     compares with.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
mkdir -p "$OUT/g/seq128"
timeout 200 python3 scripts/profile/host.py --out "$OUT/g/traces" --command "python3 scripts/profile/host.py --out traces" \
  > "$OUT/g/host.log" 2>&1; echo "host rc=$?"; grep -E "^\[host\]|Error" "$OUT/g/host.log" | grep -v "B (2"
P=traces/validation/h100-sxm/plans
left=$((500 - SECONDS)); echo "validation gets $left s"
scripts/validate/run_all.sh $P --out "$OUT/g/val" --iterations 10 --warmup 3 \
  --time-limit $left --plan-timeout 90 2>&1 | grep -v "^#" | tail -17
for n in gpt-350m-base llama-1b-base moe-base llama-1b-tp2 llama-1b-tp4-sp; do
  [ $SECONDS -lt 560 ] || break
  timeout 35 python3 scripts/validate/run.py "$P/$n.json" --out "$OUT/g/seq128/$n-seq128.json" --iterations 6 --warmup 2 \
    --seq 128 > "$OUT/g/seq128/$n.log" 2>&1; echo "$n seq128 rc=$?"; grep -E "^\[run\]|Error" "$OUT/g/seq128/$n.log" | tail -1
done
rm -rf "$OUT/g/val/logs"
tar -C "$OUT" -czf "$OUT/g.tar.gz" g && rm -rf "$OUT/g"; ls -la "$OUT"
