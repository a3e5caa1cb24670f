#!/usr/bin/env bash
# How does GPT-3 175B (global batch 1,536) scale from 512 to 4,096 H100s, and which layout
# is fastest at each size? Sweeps tensor × pipeline × data parallelism of the Megatron-LM
# strategy on a 16,384-GPU SuperPOD and lists the best fitting layout per GPU count, with
# throughput per GPU. Answer and timing: docs/sweeps.md.
#   scripts/sweep/gpt3-175b-scaling.sh [DB]     (default: a fresh temporary database)
set -euo pipefail
cd "$(dirname "$0")/../.."
simulate=${SIMULATE:-.build/release/simulate}
db=${1:-$(mktemp -d)/gpt3-175b.sqlite}
strategy=strategies/gpt3/gpt3-175b-megatron-3d.strata

# TP 8 × PP 8 or 16 × DP 4…64 covers 256…8,192 GPUs; the query keeps 512…4,096.
"$simulate" sweep "$strategy" --topology topologies/dgx-h100-superpod-16k.xml \
    --grid pp=8,16 --grid dp=4,8,16,32,64 --db "$db"
sweep="(SELECT id FROM sweep WHERE strategy_path = '$strategy' ORDER BY id DESC LIMIT 1)"
echo
echo "Best fitting layout per GPU count (TP 8, interleaved 1F1B with 2 virtual stages):"
"$simulate" query --db "$db" --sql "
  SELECT gpus, pp, dp, tokens_per_s, tokens_per_s_per_gpu, mfu, iteration_s, peak_gib FROM (
    SELECT r.gpus AS gpus, json_extract(p.overrides, '$.pp') AS pp, json_extract(p.overrides, '$.dp') AS dp,
           printf('%.0f', r.tokens_per_s) AS tokens_per_s, printf('%.0f', r.tokens_per_s / r.gpus) AS tokens_per_s_per_gpu,
           printf('%.1f%%', 100 * r.mfu) AS mfu, printf('%.2f', r.iteration_time_s) AS iteration_s,
           printf('%.1f', r.peak_memory_bytes / 1073741824.0) AS peak_gib,
           row_number() OVER (PARTITION BY r.gpus ORDER BY r.tokens_per_s DESC) AS rank
    FROM sweep_point p JOIN run r ON r.id = p.run_id
    WHERE p.sweep_id = $sweep AND r.fits_in_memory AND r.gpus BETWEEN 512 AND 4096)
  WHERE rank = 1 ORDER BY gpus"
echo
echo "Points the strategy rejects:"
"$simulate" query --db "$db" --sql "
  SELECT p.overrides, substr(p.reason, instr(p.reason, 'error: ') + 7, instr(p.reason, char(10)) - instr(p.reason, 'error: ') - 7) AS reason
  FROM sweep_point p WHERE p.sweep_id = $sweep AND p.status != 'ok' ORDER BY p.point"
