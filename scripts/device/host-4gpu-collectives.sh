#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/c.tar.gz: does a collective cost the host more over 4
# GPUs than over the 2 host.py times it on? (docs/accuracy.md: llama-1b-tp4-sp's host came
# out 13-18% short on both passes.) On one machine, minutes apart:
#  1. host.py with its collectives and their layers on 2 GPUs, then on 4 (--collective-gpus 4),
#     and launch.py;
#  2. the plans of 4 GPUs whose groups span 4 or 2 (tp4-sp, moe-ep4, tp2-dp2) and llama-1b-tp2;
#  3. llama-1b-tp4-sp at sequence 128, host-bound.
# Stops with exit status 3 unless the machine has 4 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4
nproc
C="$OUT/c"; mkdir -p "$C/t2" "$C/t4" "$C/seq128"
profile_table host "$C/t2" "$C/host2.log" 150
grep -E "^\[host\] layer_(llama_tp|llama_sp|moe_ep)" "$C/host2.log"
profile_table host "$C/t4" "$C/host4.log" 200 --collective-gpus 4
grep -E "^\[host\] layer_(llama_tp|llama_sp|moe_ep)" "$C/host4.log"
profile_table launch "$C/t2" "$C/launch.log" 60
P=traces/validation/h100-sxm/plans
scripts/validate/run_all.sh $P --out "$C/val" --only llama-1b-tp4-sp,moe-ep4,llama-1b-tp2-dp2,llama-1b-tp2 \
  --iterations 10 --warmup 3 --time-limit 200 --plan-timeout 70 2>&1 | grep -E "^\[run_all\]"
timeout 40 python3 scripts/validate/run.py "$P/llama-1b-tp4-sp.json" --out "$C/seq128/llama-1b-tp4-sp-seq128.json" \
  --iterations 6 --warmup 2 --seq 128 2>&1 | grep -E "^\[run\]|Error"
echo "done at ${SECONDS}s"
rm -rf "$C/val/logs"
tar -C "$OUT" -czf "$OUT/c.tar.gz" c && rm -rf "$C"; ls -la "$OUT"
