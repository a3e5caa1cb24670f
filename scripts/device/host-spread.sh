#!/usr/bin/env bash
# Device run (4 H200s, or 2 with MIN_GPUS=2), back as $OUT/s.tar.gz: the spread between
# one job's hosts, measured apart from the runs (scripts/profile/host_spread.py: one
# process per GPU timing the runner's layer at once, in rounds), then the data-parallel
# plans whose late rank it should explain, with their per-rank host times
# (docs/accuracy.md, "Each rank its own host"), the host-paced EP plans beside them, and the
# spread once more after the runs (does a process stay slow from one launch to the next?).
# Stops with exit status 3 unless the machine has MIN_GPUS (default 4) H200s.
. "$(dirname "$0")/common.sh"
require_h200s "${MIN_GPUS:-4}"
S="$OUT/s"; mkdir -p "$S"
for round in 1 2; do
  timeout 150 python3 scripts/profile/host_spread.py --out "$S/spread.r$round.json" --rounds 11 2>&1 | tail -6
done
host_tables "$S" 150
scripts/validate/run_all.sh traces/validation/h100-sxm/plans --out "$S/val" \
  --only gpt-350m-ddp2,gpt-350m-ddp4,gpt-350m-zero1-dp4,moe-ep4,moe-ep2,llama-1b-fsdp4,gpt-350m-mb1,gpt-350m-mb2 \
  --iterations 10 --warmup 3 --time-limit 220 --plan-timeout 60 2>&1 | grep -E "^\[run_all\]"
timeout 100 python3 scripts/profile/host_spread.py --out "$S/spread.r3.json" --rounds 11 2>&1 | tail -6
echo "done at ${SECONDS}s"
rm -rf "$S/val/logs"
tar -C "$OUT" -czf "$OUT/s.tar.gz" s && rm -rf "$S"; ls -la "$OUT"
