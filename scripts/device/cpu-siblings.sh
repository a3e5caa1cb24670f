#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/sb.tar.gz: do this machine's CPUs come in pairs that
# share a core? scripts/profile/cpu_speed.py --siblings keeps one CPU busy at a time and
# lists the CPUs slow in every sweep beside it; then host_spread.py times the runner's layer
# in four processes at once, pinned one CPU each to 0-3, then to 0, 16, 32 and 48, then
# unpinned, twice round (docs/accuracy.md, "The host's two speeds"). Stops with exit status 3
# unless the machine has 4 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4
results_dir sb
python3 scripts/profile/cpu_speed.py --out "$H/siblings.json" --rounds 1 --repeats 5 \
  --siblings "${ANCHORS:-0,1,2,3,16,31,32,48}" > "$H/siblings.log" 2>&1
echo "siblings rc=$? at ${SECONDS}s"; grep '^\[cpus\]' "$H/siblings.log"
for round in 1 2; do
  for layout in "0;1;2;3" "0;16;32;48" ""; do
    tag=${layout//;/-}; tag=${tag:-free}
    timeout 120 python3 scripts/profile/host_spread.py --out "$H/spread.$tag.r$round.json" --rounds 11 \
      ${layout:+--cpus "$layout"} > "$H/spread.$tag.r$round.log" 2>&1
    echo "spread $tag r$round rc=$? at ${SECONDS}s"; grep '^\[spread\]' "$H/spread.$tag.r$round.log"
  done
done
pack_results
