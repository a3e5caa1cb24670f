#!/usr/bin/env bash
# Device run (2 GPUs or more), back under $OUT/ab: gpt-350m-gpipe2 at sequence 2048 and 128,
# twice in turn on one machine, each with a lean profile of one more iteration, and how
# often its first stage's host issued a micro-batch's forward (kernel_gaps.py --spacing
# gather): whether the host's cost per op grows with the sequence (docs/accuracy.md). Run
# 2026-11-28 07:05 UTC on 4 H200s (the H100s were not to be had); the second round's files
# are in traces/validation/h200-sxm/gpipe2-seq-ab-2026-11-28T07-06/.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader | head -1
mkdir -p "$OUT/ab"
for seq in 2048 128 2048 128; do
  CUDA_VISIBLE_DEVICES=0,1 timeout 120 python3 scripts/validate/run.py traces/validation/h100-sxm/plans/gpt-350m-gpipe2.json \
    --seq $seq --out "$OUT/ab/gpipe2-seq$seq.json" --iterations 6 --warmup 3 --profile "$OUT/ab/gpipe2-seq$seq" --profile-lean 2>&1 | grep "^\[run\]"
  python3 scripts/validate/kernel_gaps.py "$OUT/ab/gpipe2-seq$seq.rank0.timeline.json.gz" --spacing gather 2>/dev/null | head -1 | sed 's/.*every/every/'
done
