#!/usr/bin/env bash
# Device run (2 H200s), back as $OUT/s.tar.gz: is host.py's layer row what a layer costs
# the host inside the runner's whole step? On one machine, minutes apart:
#  1. host.py (its layer rows: the runner's layer in a chain of layers);
#  2. the runner's seq-128 iterations of llama-1b-base, llama-1b-tp2 and moe-base (host-bound:
#     their host time per layer and micro-batch is the reference);
#  3. host_layer_slope.py: the same plans with 2 and 8 layers, at seq 128 and the plans'
#     widths, and llama-1b-base at host.py's own sizes (hidden 256, seq 32).
# Stops with exit status 3 unless the machine has 2 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 2
nproc
S="$OUT/s"; mkdir -p "$S/seq128" "$S/slope"
P=traces/validation/h100-sxm/plans
profile_table host "$S/traces" "$S/host.log" 150
grep -E "^\[host\] layer_(llama|moe)/" "$S/host.log"
for n in llama-1b-base llama-1b-tp2 moe-base; do
  timeout 40 python3 scripts/validate/run.py "$P/$n.json" --out "$S/seq128/$n-seq128.json" --iterations 6 --warmup 2 \
    --seq 128 > "$S/seq128/$n.log" 2>&1; echo "$n seq128 rc=$?"; grep -E "^\[run\]|Error" "$S/seq128/$n.log" | tail -1
  timeout 60 python3 scripts/validate/host_layer_slope.py "$P/$n.json" --out "$S/slope/$n.json" --seq 128 \
    2>&1 | tail -3
done
timeout 60 python3 scripts/validate/host_layer_slope.py "$P/llama-1b-base.json" --out "$S/slope/llama-1b-base-tiny.json" \
  --seq 32 --set hidden=256 --set heads=4 --set kv_heads=2 --set ffn=1024 --set vocab=1024 2>&1 | tail -3
echo "done at ${SECONDS}s"
rm -f "$S"/seq128/*.log
tar -C "$OUT" -czf "$OUT/s.tar.gz" s && rm -rf "$S"; ls -la "$OUT"
