#!/usr/bin/env bash
# Device run (4 GPUs), back as $OUT/g.tar.gz: does Python's garbage collector make ranks
# late? The lean profile of gpt-350m-base (profiles/lean-2026-11-28T01-52/) has one 16.7 ms
# gap in which the GPU waited for its host mid-iteration, and the data-parallel runs have
# one late rank whose lateness the others pay for (docs/accuracy.md). Megatron-LM offers
# --manual-gc for this reason. Each plan alternately with automatic collection and with
# run.py --manual-gc (one collection between iterations, untimed), twice.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
mkdir -p "$OUT/g"
P=traces/validation/h100-sxm/plans
for round in 1 2; do
  for n in ${PLANS:-gpt-350m-base gpt-350m-ddp4 gpt-350m-zero1-dp4 gpt-350m-gpipe2 moe-ep4 llama-1b-tp2}; do
    for gcflag in "" "--manual-gc"; do
      [ $SECONDS -lt ${BUDGET:-480} ] || break 3
      tag=$n.r$round${gcflag:+.manual-gc}
      timeout 60 python3 scripts/validate/run.py "$P/$n.json" --out "$OUT/g/$tag.json" --iterations 8 --warmup 3 $gcflag \
        > "$OUT/g/$tag.log" 2>&1; echo "$tag rc=$?"; grep -E "^\[run\]|Error" "$OUT/g/$tag.log" | tail -2
    done
  done
done
tar -C "$OUT" -czf "$OUT/g.tar.gz" g && rm -rf "$OUT/g"; ls -la "$OUT"
