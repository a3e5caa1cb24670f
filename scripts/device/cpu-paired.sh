#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/cp.tar.gz: does an interpreter loop timed beside
# host.py's LLaMA layer tell the host's speed of that moment? scripts/profile/cpu_speed.py
# --paired: one process alone, then one on each GPU at once (as a job's ranks run), each
# timing the layer with the loop just before and after every sample (docs/accuracy.md,
# "The host's two speeds"). Stops with exit status 3 unless the machine has 4 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4
results_dir cp
python3 scripts/profile/cpu_speed.py --out "$H/alone.json" --rounds 2 --repeats 11 --paired "${PAIRED:-40}" > "$H/alone.log" 2>&1
echo "alone rc=$? at ${SECONDS}s"; grep '^\[cpus\]' "$H/alone.log"
for i in 0 1 2 3; do
  CUDA_VISIBLE_DEVICES=$i python3 scripts/profile/cpu_speed.py --out "$H/four.$i.json" --rounds 1 --repeats 5 \
    --paired "${PAIRED:-40}" > "$H/four.$i.log" 2>&1 &
done
wait
echo "four at ${SECONDS}s"; grep -H '^\[cpus\] paired' "$H"/four.*.log
pack_results
