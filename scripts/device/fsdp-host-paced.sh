#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/fp.tar.gz: FSDP where its hooks on the host set the
# pace. This machine's host.csv (with the fsdp_unit rows) and launch.csv, then
# gpt-350m-fsdp4-mb1 and gpt-350m-fsdp4 back to back and synchronised, in turn, twice
# (each rank's host speed timed after the back-to-back runs: run.py --host-speed), then
# llama-1b-fsdp4, moe-ep2 and moe-ep4 back to back while time is left. Strata prices the
# first two at 239 and 72 ms with the rows of the 19:42 UTC machine and at 93 and 62 ms
# without them (docs/accuracy.md, "FSDP's hooks on the host"). Stops with exit status 3
# unless the machine has 4 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4
results_dir fp
host_tables "$H" "${HOST_S:-200}"
grep -E "fsdp|layer_llama/" "$H/host.log"
RUN_TIMEOUT=90
for round in 1 2; do
  for name in gpt-350m-fsdp4-mb1 gpt-350m-fsdp4; do
    run_plan "$H" "$name.r$round.b2b" "$P/$name.json" --iterations 10 --warmup 3 --back-to-back --host-speed 5
    run_plan "$H" "$name.r$round.sync" "$P/$name.json" --iterations 10 --warmup 3
  done
done
for name in llama-1b-fsdp4 moe-ep2 moe-ep4; do
  [ "$SECONDS" -lt "${BUDGET:-520}" ] || { echo "out of time before $name"; continue; }
  run_plan "$H" "$name.b2b" "$P/$name.json" --iterations 10 --warmup 3 --back-to-back --host-speed 5
done
echo "done at ${SECONDS}s"
pack_results
