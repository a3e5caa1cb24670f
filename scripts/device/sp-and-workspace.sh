#!/usr/bin/env bash
# Device run (2 or 4 H200s), back as $OUT/sw.tar.gz: what PyTorch allocates besides a step's
# tensors (scripts/profile/workspace.py: cuBLAS's and cuBLASLt's workspaces), then this
# machine's host tables and the sequence-parallel plans, lowered as the runner runs them
# since 2026-11-28 20:30 UTC (sequence_parallel_inputs = gathered), with llama-1b-tp2 beside
# them, back to back (docs/accuracy.md, "Memory: what autograd keeps"); tp4-sp only where
# there are 4. Stops with exit status 3 unless the machine has 2 H200s or more.
. "$(dirname "$0")/common.sh"
require_h200s 2
gpus=$(nvidia-smi --query-gpu=name --format=csv,noheader | grep -c H200)
plans=llama-1b-tp2-sp,llama-1b-tp2; [ "$gpus" -ge 4 ] && plans=llama-1b-tp4-sp,$plans
results_dir sw
python3 scripts/profile/workspace.py --json "$H/workspace.json" 2>&1 | tee "$H/workspace.log"
host_tables "$H" "${HOST_S:-200}"
left=$(( ${BUDGET:-330} - SECONDS ))
[ "$left" -gt 60 ] && timeout "$left" python3 scripts/validate/run_all.py "$P" --out "$H/b2b" --back-to-back \
  --iterations 10 --warmup 3 --time-limit $(( left - 10 )) --plan-timeout 90 \
  --only "${PLANS:-$plans}" > "$H/b2b.log" 2>&1
echo "run_all rc=$? at ${SECONDS}s"; tail -4 "$H/b2b.log"
pack_results
