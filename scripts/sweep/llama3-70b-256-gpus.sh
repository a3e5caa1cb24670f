#!/usr/bin/env bash
# What is the best 3D layout for LLaMA-3 70B on 256 H100s, and does it fit?
# Sweeps tensor × pipeline parallelism × micro-batch × recompute at 256 GPUs (data
# parallelism takes the rest), then lists the fastest layouts that fit in 80 GB and counts
# those that do not. Answer and timing: docs/sweeps.md.
#   scripts/sweep/llama3-70b-256-gpus.sh [DB]     (default: a fresh temporary database)
set -euo pipefail
cd "$(dirname "$0")/../.."
simulate=${SIMULATE:-.build/release/simulate}
db=${1:-$(mktemp -d)/llama3-70b-256.sqlite}
strategy=strategies/llama3/llama3-70b-tp-pp.strata

"$simulate" sweep "$strategy" --set gpus=256 --grid tp=2,4,8 --grid pp=1,2,4,8 --grid micro_batch=1,2 \
    --grid recompute=selective,full --db "$db"
sweep="(SELECT id FROM sweep WHERE strategy_path = '$strategy' ORDER BY id DESC LIMIT 1)"
echo
echo "The ten fastest layouts that fit:"
"$simulate" query --db "$db" --sql "
  SELECT json_extract(p.overrides, '$.tp') AS tp, json_extract(p.overrides, '$.pp') AS pp,
         r.gpus / (json_extract(p.overrides, '$.tp') * json_extract(p.overrides, '$.pp')) AS dp,
         json_extract(p.overrides, '$.micro_batch') AS mb, json_extract(p.overrides, '$.recompute') AS recompute,
         printf('%.0f', r.tokens_per_s) AS tokens_per_s, printf('%.1f%%', 100 * r.mfu) AS mfu,
         printf('%.2f', r.iteration_time_s) AS iteration_s, printf('%.1f', r.peak_memory_bytes / 1073741824.0) AS peak_gib
  FROM sweep_point p JOIN run r ON r.id = p.run_id
  WHERE p.sweep_id = $sweep AND r.fits_in_memory
  ORDER BY r.tokens_per_s DESC LIMIT 10"
echo
echo "Points by outcome:"
"$simulate" query --db "$db" --sql "
  SELECT CASE WHEN p.status != 'ok' THEN p.status WHEN r.fits_in_memory THEN 'fits' ELSE 'does not fit' END AS outcome,
         count(*) AS points
  FROM sweep_point p LEFT JOIN run r ON r.id = p.run_id WHERE p.sweep_id = $sweep GROUP BY outcome ORDER BY outcome"
