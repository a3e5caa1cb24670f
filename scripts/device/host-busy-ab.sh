#!/usr/bin/env bash
# Device run (1 H200 or more), back as $OUT/a.tar.gz: host.py's layer chains timed behind a
# busy GPU (the default) and from an idle one (--layers-from-idle-gpu), alternately, twice,
# on one machine, with the single-GPU plans at sequence 2048 (validation) and 128 (host
# only) between the two rounds: which table prices the host-paced runs better, and how far
# each moves between rounds (docs/accuracy.md, "The host behind a busy GPU").
# Stops with exit status 3 unless the machine has an H200.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv
[ "$(nvidia-smi --query-gpu=name --format=csv,noheader | grep -c H200)" -ge 1 ] || exit 3
mkdir -p "$OUT/a/seq128"
P=traces/validation/h100-sxm/plans
host_round() {
  for mode in busy idle; do
    flag=""; [ $mode = idle ] && flag=--layers-from-idle-gpu
    timeout 120 python3 scripts/profile/host.py --out "$OUT/a/host-$mode-r$1" --repeats 11 $flag \
      --command "python3 scripts/profile/host.py --out traces --repeats 11 $flag" > "$OUT/a/host-$mode-r$1.log" 2>&1
    echo "host $mode r$1 rc=$? at ${SECONDS}s"; grep -E "^\[host\] layer_|Error" "$OUT/a/host-$mode-r$1.log"
  done
}
host_round 1
scripts/validate/run_all.sh $P --out "$OUT/a/val" --iterations 10 --warmup 3 --time-limit 170 --plan-timeout 60 2>&1 \
  | grep -v "^#" | tail -7
for n in gpt-350m-base llama-1b-base moe-base; do
  timeout 40 python3 scripts/validate/run.py "$P/$n.json" --out "$OUT/a/seq128/$n-seq128.json" --iterations 6 --warmup 2 \
    --seq 128 > "$OUT/a/seq128/$n.log" 2>&1; echo "$n seq128 rc=$?"; grep -E "^\[run\]|Error" "$OUT/a/seq128/$n.log" | tail -1
done
host_round 2
rm -rf "$OUT/a/val/logs"
tar -C "$OUT" -czf "$OUT/a.tar.gz" a && rm -rf "$OUT/a"; ls -la "$OUT"
