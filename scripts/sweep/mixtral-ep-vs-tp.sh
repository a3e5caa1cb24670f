#!/usr/bin/env bash
# Mixtral 8x7B on 64 H100s: expert parallelism or tensor parallelism for the experts?
# Sweeps EP × TP (data parallelism takes the rest of the 64 GPUs) × micro-batch and lists
# every layout with its throughput, the exposed all-to-all (EP) and tensor-parallel
# communication per GPU, and peak memory. Answer and timing: docs/sweeps.md.
#   scripts/sweep/mixtral-ep-vs-tp.sh [DB]     (default: a fresh temporary database)
set -euo pipefail
cd "$(dirname "$0")/../.."
simulate=${SIMULATE:-.build/release/simulate}
db=${1:-$(mktemp -d)/mixtral.sqlite}
strategy=strategies/moe/mixtral-8x7b-ep-or-tp.strata

"$simulate" sweep "$strategy" --grid ep=1,2,4,8 --grid tp=1,2,4,8 --grid micro_batch=1,2 --db "$db"
sweep="(SELECT id FROM sweep WHERE strategy_path = '$strategy' ORDER BY id DESC LIMIT 1)"
echo
echo "Layouts by throughput (exposed communication: mean over simulated GPUs, per iteration):"
"$simulate" query --db "$db" --sql "
  SELECT json_extract(p.overrides, '$.ep') AS ep, json_extract(p.overrides, '$.tp') AS tp,
         r.gpus / (json_extract(p.overrides, '$.ep') * json_extract(p.overrides, '$.tp')) AS dp,
         json_extract(p.overrides, '$.micro_batch') AS mb,
         printf('%.0f', r.tokens_per_s) AS tokens_per_s, printf('%.1f%%', 100 * r.mfu) AS mfu,
         printf('%.3f', (SELECT avg(g.exposed_ep_s) FROM run_gpu g WHERE g.run_id = r.id)) AS exposed_ep_s,
         printf('%.3f', (SELECT avg(g.exposed_tp_s) FROM run_gpu g WHERE g.run_id = r.id)) AS exposed_tp_s,
         printf('%.1f', r.peak_memory_bytes / 1073741824.0) AS peak_gib, CASE WHEN r.fits_in_memory THEN 'yes' ELSE 'no' END AS fits
  FROM sweep_point p JOIN run r ON r.id = p.run_id
  WHERE p.sweep_id = $sweep ORDER BY r.fits_in_memory DESC, r.tokens_per_s DESC"
