#!/usr/bin/env bash
# Device run (4 H200s, or 2 with MIN_GPUS=2 and 2-GPU plans in ONLY), back as $OUT/l.tar.gz:
# the host-paced plans measured in three launches each, in rounds (run_all.py --launches 3),
# beside three launches of host.py (two before the runs, one after) and one of launch.py, so
# that a plan's launch-to-launch spread and the host table's can be set side by side, and the
# middle host table (merge_tables.py --keep middle) tried on the middle launch
# (docs/accuracy.md, "The host's spread between processes"). Stops with exit status 3
# unless the machine has MIN_GPUS (default 4) H200s.
. "$(dirname "$0")/common.sh"
require_h200s "${MIN_GPUS:-4}"
L="$OUT/l"; mkdir -p "$L/traces"
ONLY=${ONLY:-moe-base,moe-ep2,moe-ep4,llama-1b-tp2,llama-1b-tp4-sp}
host_table() { profile_table host "$L/host.r$1" "$L/host.r$1.log" 120; }
host_table 1
host_table 2
profile_table launch "$L/traces" "$L/launch.log" 60
scripts/validate/run_all.sh traces/validation/h100-sxm/plans --out "$L/val" --only "$ONLY" --launches 3 \
  --iterations 10 --warmup 3 --time-limit "${RUN_LIMIT:-330}" --plan-timeout 60 2>&1 | grep -E "^\[run_all\]"
echo "runs done at ${SECONDS}s"
host_table 3
python3 scripts/profile/merge_tables.py --keep middle --out "$L/traces/h200-sxm/host.csv" \
  "$L"/host.r*/h200-sxm/host.csv
rm -rf "$L/val/logs"
tar -C "$OUT" -czf "$OUT/l.tar.gz" l && rm -rf "$L"; ls -la "$OUT"
