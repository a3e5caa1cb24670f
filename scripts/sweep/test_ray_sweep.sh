#!/usr/bin/env bash
# Checks scripts/sweep/ray_sweep.py on a local Ray instance (127.0.0.1, started and shut down
# by the launcher): a tiny 18-point sweep split into 3 Ray tasks and merged must hold exactly
# what one unsharded sweep holds: the same points, statuses and predictions, one sweep, and
# each run once; a failing shard must fail the launcher. Exits non-zero on any difference. Needs `pip install ray` and a built
# simulate (SIMULATE, default .build/debug/simulate).
set -euo pipefail
cd "$(dirname "$0")/../.."
simulate=${SIMULATE:-.build/debug/simulate}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sweep=(Tests/Fixtures/sweep-tiny.strata --grid tp=1,2,4 --grid dp=1,2,4 --grid micro_batch=1,3)

python3 scripts/sweep/ray_sweep.py --shards 3 --num-cpus 2 --simulate "$simulate" --out "$work/merged.sqlite" -- "${sweep[@]}"
"$simulate" sweep "${sweep[@]}" --db "$work/direct.sqlite" >/dev/null 2>&1

points="SELECT p.point, p.overrides, p.status, p.inputs_sha256, r.tokens_per_s, r.peak_memory_bytes
        FROM sweep_point p LEFT JOIN run r ON r.id = p.run_id ORDER BY p.point"
diff <("$simulate" query --db "$work/merged.sqlite" --sql "$points" --csv) \
     <("$simulate" query --db "$work/direct.sqlite" --sql "$points" --csv)
counts="SELECT (SELECT count(*) FROM sweep), (SELECT count(*) FROM sweep_point), (SELECT count(*) FROM run),
               (SELECT count(DISTINCT inputs_sha256) FROM run), (SELECT count(*) FROM run_gpu)"
diff <("$simulate" query --db "$work/merged.sqlite" --sql "$counts" --csv) \
     <("$simulate" query --db "$work/direct.sqlite" --sql "$counts" --csv)
test "$("$simulate" query --db "$work/merged.sqlite" --sql "SELECT count(*) FROM sweep_point" --csv | tail -1)" = 18
# A shard that fails (here every one: the grid names no parameter) fails the launcher.
if python3 scripts/sweep/ray_sweep.py --shards 2 --num-cpus 2 --simulate "$simulate" --out "$work/bad.sqlite" -- \
    Tests/Fixtures/sweep-tiny.strata --grid tpp=1,2 >"$work/bad.log" 2>&1; then
  echo "ray sweep: a failing shard did not fail the launcher" >&2; exit 1
fi
grep -q "has no parameter 'tpp'" "$work/bad.log"
echo "ray sweep: ok (3 shards merged = one sweep of 18 points)"
