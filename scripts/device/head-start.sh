#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/hs.tar.gz: how much of each GPU-paced plan's time is
# its hosts' start? Each plan run plainly and with run.py --gpu-head-start 60 (60 ms of GPU
# sleep queued before every iteration, the iteration timed on the GPU from the sleep's
# end), in turn, so both see the same machine: the difference is what the ranks' hosts cost
# the iteration by starting behind their GPUs, which the runner pays every iteration
# because it syncs to time each one (docs/accuracy.md, "A head start for the host").
# Stops with exit status 3 unless the machine has 4 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4
P=traces/validation/h100-sxm/plans
H="$OUT/hs"; mkdir -p "$H"
RUN_TIMEOUT=80
for round in 1 2; do
  for name in ${PLANS:-gpt-350m-ddp2 gpt-350m-mb2 gpt-350m-ddp4 gpt-350m-zero1-dp4 gpt-350m-mb1 gpt-350m-base gpt-350m-gpipe2 gpt-350m-1f1b4 llama-1b-fsdp4 llama-1b-base}; do
    [ "$SECONDS" -lt "${BUDGET:-540}" ] || { echo "out of time before $name.r$round"; continue; }
    run_plan "$H" "$name.r$round" "$P/$name.json" --iterations 10 --warmup 3
    run_plan "$H" "$name.r$round.head" "$P/$name.json" --iterations 10 --warmup 3 --gpu-head-start 60
    grep -q '^\[run\]' "$H/$name.r$round.head.log" || tail -5 "$H/$name.r$round.head.log"
  done
done
echo "done at ${SECONDS}s"
tar -C "$OUT" -czf "$OUT/hs.tar.gz" hs && rm -rf "$H"; ls -la "$OUT"
