#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/b.tar.gz: the host-paced plans timed both ways on one
# machine, each started behind an idle GPU after a sync (run.py's default) and back to
# back as a training loop runs them (--back-to-back), in turn, beside this machine's
# host.py and launch.py tables to price them (docs/accuracy.md, "A head start for the
# host"). Stops with exit status 3 unless the machine has 4 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4
P=traces/validation/h100-sxm/plans
H="$OUT/b"
host_tables "$H"
RUN_TIMEOUT=70
for name in ${PLANS:-moe-base moe-ep2 moe-ep4 llama-1b-tp4-sp llama-1b-tp2}; do
  [ "$SECONDS" -lt "${BUDGET:-500}" ] || { echo "out of time before $name"; continue; }
  run_plan "$H" "$name.synchronised" "$P/$name.json" --iterations 10 --warmup 3
  run_plan "$H" "$name.back-to-back" "$P/$name.json" --iterations 10 --warmup 3 --back-to-back
done
echo "done at ${SECONDS}s"
tar -C "$OUT" -czf "$OUT/b.tar.gz" b && rm -rf "$H"; ls -la "$OUT"
