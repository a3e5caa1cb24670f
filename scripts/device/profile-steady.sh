#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/st.tar.gz: data parallelism in a training loop's steady
# state. Each plan timed back to back, then 4 more iterations profiled back to back on every
# rank with the lean profiler, read per iteration over the last 3 (run.py --profile-iterations):
# GPT-350M's single GPU at the per-GPU work of ddp2 and ddp4 (mb2, mb1), ddp2 with and
# without its all-reduces (--skip-grad-sync), ddp4 and zero1-dp4, in two rounds
# (docs/accuracy.md, "The host's two speeds"). Stops with exit status 3
# unless the machine has 4 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4
results_dir st
for round in 1 2; do
  for spec in gpt-350m-mb2 gpt-350m-ddp2 gpt-350m-ddp2:skip gpt-350m-mb1 gpt-350m-ddp4 gpt-350m-zero1-dp4; do
    [ $SECONDS -lt ${BUDGET:-430} ] || break 2
    name=${spec%%:*}; extra=; tag=$name
    [ "$spec" != "$name" ] && { extra=--skip-grad-sync; tag=$name.skip; }
    RUN_TIMEOUT=80 run_plan "$H" "$tag.r$round" "$P/$name.json" --iterations 10 --warmup 3 --back-to-back $extra \
      --profile "$H/$tag.r$round" --profile-lean --profile-iterations 4
    grep -E "^\[profile\]" "$H/$tag.r$round.log"
  done
done
rm -f "$H"/*.trace.json
pack_results
