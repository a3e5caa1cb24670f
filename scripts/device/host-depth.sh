#!/usr/bin/env bash
# Device run (1 H200), back as $OUT/d.tar.gz: does a layer cost the host more in a deeper
# model? host_layer_slope.py on llama-1b-base and gpt-350m-base at sequence 128 (host-bound)
# between 2 and 8, 8 and 16, and 16 and 24 layers (docs/accuracy.md: llama-1b-base's
# backward took 1,054 us a layer between 2 and 8 layers and 1,269 between 8 and 16 at 15:00).
# Stops with exit status 3 unless the machine has an H200.
. "$(dirname "$0")/common.sh"
require_h200s 1
D="$OUT/d"; mkdir -p "$D"
P=traces/validation/h100-sxm/plans
for n in llama-1b-base gpt-350m-base; do
  for pair in 2,8 8,16 16,24; do
    timeout 80 python3 scripts/validate/host_layer_slope.py "$P/$n.json" --out "$D/$n-${pair/,/-}.json" --seq 128 \
      --layers $pair --iterations 5 --warmup 2 2>&1 | tail -2
  done
done
echo "done at ${SECONDS}s"
tar -C "$OUT" -czf "$OUT/d.tar.gz" d && rm -rf "$D"; ls -la "$OUT"
