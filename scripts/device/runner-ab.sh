#!/usr/bin/env bash
# Device run (4 GPUs, or 2 with 2-GPU PLANS), back as $OUT/ab.tar.gz: the validation runner with and without one
# of its switches, each plan alternately, twice, on one machine, after the machine's CPU
# and GPU layout (host.txt). FLAG names the switch (required), PLANS the plans, BUDGET the
# seconds to stop starting runs at.
#   FLAG=--bind-cpus: pin each rank to its GPU's NUMA node (run 2026-11-28, 01:58 UTC:
#     traces/validation/h100-sxm/bind-cpus-2026-11-28T01-58/, by this script's first form, which
#     named the pinned runs *.bound.json)
#   FLAG=--manual-gc: collect garbage only between iterations (run 2026-11-28, 03:39 UTC, on
#     2 H200s through gc-and-collectives-2gpu.sh: traces/validation/h200-sxm/manual-gc-2026-11-28T03-39/)
set -x
: "${FLAG:?name the run.py switch to compare, e.g. FLAG=--manual-gc}"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
mkdir -p "$OUT/ab"
{ nvidia-smi --query-gpu=name,driver_version,pci.bus_id --format=csv; nvidia-smi topo -m; lscpu; } > "$OUT/ab/host.txt" 2>&1
grep -E "NUMA|Socket|Model name|^GPU" "$OUT/ab/host.txt" | head -12
P=traces/validation/h100-sxm/plans
tag_of_flag=${FLAG#--}
for round in 1 2; do
  for n in ${PLANS:-gpt-350m-base gpt-350m-ddp4 gpt-350m-zero1-dp4 gpt-350m-gpipe2 moe-ep4 llama-1b-tp2}; do
    for flag in "" "$FLAG"; do
      [ $SECONDS -lt ${BUDGET:-480} ] || break 3
      tag=$n.r$round${flag:+.$tag_of_flag}
      timeout 60 python3 scripts/validate/run.py "$P/$n.json" --out "$OUT/ab/$tag.json" --iterations 8 --warmup 3 $flag \
        > "$OUT/ab/$tag.log" 2>&1; echo "$tag rc=$?"; grep -E "^\[run\]|Error" "$OUT/ab/$tag.log" | tail -2
    done
  done
done
tar -C "$OUT" -czf "$OUT/ab.tar.gz" ab && rm -rf "$OUT/ab"; ls -la "$OUT"
