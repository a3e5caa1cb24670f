#!/usr/bin/env bash
# Device run (2 H200s), back as $OUT/b.tar.gz: the two questions the H200 validation left
# (docs/accuracy.md, "Validation on H200s"), on one machine:
#  1. does the host issue the runner's layers more slowly while its GPU is busy?
#     (scripts/validate/host_busy.py: idle against busy, paired rounds);
#  2. what do gpt-350m-ddp2's gradient all-reduces cost its iteration? The plan as it is,
#     without them (run.py --skip-grad-sync), and with NCCL held to 4 channels (fewer SMs
#     for a waiting all-reduce to hold), alternately, twice; then moe-base's host issue at
#     sequence 128, 512 and 2048 (how a host-paced run's host time moves with the
#     GPU's load).
# Stops with exit status 3 unless the machine has 2 or more H200s.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv
[ "$(nvidia-smi --query-gpu=name --format=csv,noheader | grep -c H200)" -ge 2 ] || exit 3
mkdir -p "$OUT/b"
nproc; python3 -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.nccl.version())'
timeout 200 python3 scripts/validate/host_busy.py --out "$OUT/b/host-busy.json" --repeats 15 > "$OUT/b/host-busy.log" 2>&1
echo "host_busy rc=$? at ${SECONDS}s"; grep -E "^\[busy\]|Error" "$OUT/b/host-busy.log"
P=traces/validation/h100-sxm/plans
for round in 1 2; do
  for variant in plan skip nch4; do
    [ $SECONDS -lt 470 ] || break 2
    case $variant in
      plan) flag=""; envs="";;
      skip) flag="--skip-grad-sync"; envs="";;
      nch4) flag=""; envs="NCCL_MAX_NCHANNELS=4";;
    esac
    tag=gpt-350m-ddp2.r$round.$variant
    env $envs timeout 60 python3 scripts/validate/run.py "$P/gpt-350m-ddp2.json" --out "$OUT/b/$tag.json" \
      --iterations 10 --warmup 3 $flag > "$OUT/b/$tag.log" 2>&1; echo "$tag rc=$?"; grep -E "^\[run\]|Error" "$OUT/b/$tag.log" | tail -2
  done
done
for seq in 128 512 2048; do
  [ $SECONDS -lt 540 ] || break
  timeout 40 python3 scripts/validate/run.py "$P/moe-base.json" --out "$OUT/b/moe-base-seq$seq.json" --iterations 8 --warmup 3 \
    --seq $seq > "$OUT/b/moe-base-seq$seq.log" 2>&1; echo "moe-base seq $seq rc=$?"; grep -E "^\[run\]|Error" "$OUT/b/moe-base-seq$seq.log" | tail -1
done
tar -C "$OUT" -czf "$OUT/b.tar.gz" b && rm -rf "$OUT/b"; ls -la "$OUT"
