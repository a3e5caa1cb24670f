#!/usr/bin/env bash
# Device run (4 GPUs), back as $OUT/b.tar.gz: does pinning each rank to its GPU's NUMA node
# (run.py --bind-cpus) remove the ranks' differing host speeds seen in the lean profiles?
# The host's CPU layout first, then each plan alternately unbound and bound, twice.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
mkdir -p "$OUT/b"
{ nvidia-smi --query-gpu=name,driver_version,pci.bus_id --format=csv; nvidia-smi topo -m; lscpu;
  for d in /sys/bus/pci/devices/*; do [ -f $d/local_cpulist ] && grep -q 0x10de $d/vendor 2>/dev/null && echo "$d $(cat $d/class) node $(cat $d/numa_node) cpus $(cat $d/local_cpulist)"; done; } > "$OUT/b/host.txt" 2>&1
grep -E "NUMA|Socket|Model name|^GPU|10de" "$OUT/b/host.txt" | head -20
P=traces/validation/h100-sxm/plans
for round in 1 2; do
  for n in ${PLANS:-gpt-350m-ddp4 gpt-350m-gpipe2 moe-ep4 llama-1b-tp2 gpt-350m-base}; do
    for bind in "" "--bind-cpus"; do
      [ $SECONDS -lt ${BUDGET:-400} ] || break 3
      tag=$n.r$round${bind:+.bound}
      timeout 60 python3 scripts/validate/run.py "$P/$n.json" --out "$OUT/b/$tag.json" --iterations 8 --warmup 3 $bind \
        > "$OUT/b/$tag.log" 2>&1; echo "$tag rc=$?"; grep -E "^\[run\]|Error" "$OUT/b/$tag.log" | tail -5
    done
  done
done
tar -C "$OUT" -czf "$OUT/b.tar.gz" b && rm -rf "$OUT/b"; ls -la "$OUT"
