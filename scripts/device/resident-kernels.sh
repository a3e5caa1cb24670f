#!/usr/bin/env bash
# Device run (2 H200s), back as $OUT/r.tar.gz (docs/accuracy.md, "Resident kernels"):
#  1. resident_kernels.py: the validation models' products alone and beside 1, 4, 16 and 32
#     SMs held by spinning one-block kernels;
#  2. the same beside an all-reduce waiting for its peer, with NCCL's default channels and
#     with NCCL_MAX_NCHANNELS=4;
#  3. do two runners' hosts slow each other? llama-1b-base at sequence 128 (host-bound) on
#     GPU 0 alone, then on GPUs 0 and 1 at once, twice.
# Stops with exit status 3 unless the machine has 2 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 2
R="$OUT/r"; mkdir -p "$R"
timeout 120 python3 scripts/validate/resident_kernels.py --out "$R/sleepers.json" 2>&1 | tail -40
timeout 120 python3 scripts/validate/resident_kernels.py --out "$R/nccl.json" --nccl 2>&1 | tail -14
NCCL_MAX_NCHANNELS=4 timeout 120 python3 scripts/validate/resident_kernels.py --out "$R/nccl-4ch.json" --nccl 2>&1 | tail -14
P=traces/validation/h100-sxm/plans/llama-1b-base.json
for round in 1 2; do
  CUDA_VISIBLE_DEVICES=0 timeout 60 python3 scripts/validate/run.py $P --out "$R/alone.r$round.json" --seq 128 \
    --iterations 6 --warmup 2 2>&1 | grep "^\[run\]"
  CUDA_VISIBLE_DEVICES=0 timeout 60 python3 scripts/validate/run.py $P --out "$R/pair0.r$round.json" --seq 128 \
    --iterations 6 --warmup 2 > "$R/pair0.log" 2>&1 &
  CUDA_VISIBLE_DEVICES=1 timeout 60 python3 scripts/validate/run.py $P --out "$R/pair1.r$round.json" --seq 128 \
    --iterations 6 --warmup 2 > "$R/pair1.log" 2>&1
  wait; grep -h "^\[run\]" "$R"/pair0.log "$R"/pair1.log
done
rm -f "$R"/*.log
echo "done at ${SECONDS}s"
tar -C "$OUT" -czf "$OUT/r.tar.gz" r && rm -rf "$R"; ls -la "$OUT"
