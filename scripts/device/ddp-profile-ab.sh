#!/usr/bin/env bash
# Device run (2 H200s), back as $OUT/d.tar.gz: gpt-350m-ddp2 as planned and without its
# gradient all-reduces (run.py --skip-grad-sync), each timed and then one iteration
# profiled on both ranks with the lean profiler, twice alternately: where the 4.3 ms the
# all-reduces cost an iteration go (docs/accuracy.md, "Data parallelism: the all-reduces
# cost 4.3 ms"). Stops with exit status 3 unless the machine has 2 or more H200s.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv
[ "$(nvidia-smi --query-gpu=name --format=csv,noheader | grep -c H200)" -ge 2 ] || exit 3
mkdir -p "$OUT/d"
P=traces/validation/h100-sxm/plans
for round in 1 2; do
  for variant in plan skip; do
    [ $SECONDS -lt ${BUDGET:-200} ] || break 2
    flag=""; [ $variant = skip ] && flag=--skip-grad-sync
    tag=gpt-350m-ddp2.r$round.$variant
    timeout 60 python3 scripts/validate/run.py "$P/gpt-350m-ddp2.json" --out "$OUT/d/$tag.json" --iterations 8 --warmup 3 \
      $flag --profile "$OUT/d/$tag" --profile-lean > "$OUT/d/$tag.log" 2>&1; echo "$tag rc=$?"
    grep -E "^\[run\]|^\[profile\]|Error" "$OUT/d/$tag.log" | tail -3
  done
done
tar -C "$OUT" -czf "$OUT/d.tar.gz" d && rm -rf "$OUT/d"; ls -la "$OUT"
