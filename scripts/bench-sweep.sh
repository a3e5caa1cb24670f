#!/usr/bin/env bash
# Sweep benchmark (docs/performance.md, "Sweeps"): 1,000 layouts of LLaMA-3 8B on 64 H100s
# (TP × PP × micro-batch × recompute × ZeRO = 5 × 5 × 5 × 2 × 4), simulated on every core into
# a fresh database with a release build. Prints the sweep's summary (with the thread time of
# each phase), wall time, peak resident memory, points per second and the engine's events.
# A benchmark, not a test: figures depend on the machine and on what else runs on it.
#   scripts/bench-sweep.sh [extra simulate-sweep options, e.g. --jobs 1]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product simulate >/dev/null
db=$(mktemp -d)/bench-sweep.sqlite
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load before: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
STRATA_SWEEP_TIMINGS=1 /usr/bin/time -f "wall %e s, user %U s, peak RSS %M KiB" \
  .build/release/simulate sweep strategies/llama3/llama3-8b-sweep-64.strata \
  --grid tp=1,2,4,8,16 --grid pp=1,2,4,8,16 --grid micro_batch=1,2,3,4,8 --grid recompute=selective,full \
  --grid zero=0,1,2,3 --db "$db" "$@" 2> >(grep -v '^sweep: ' >&2)
.build/release/simulate query --db "$db" --sql "
  SELECT count(*) AS points, sum(status = 'ok') AS valid, sum(status = 'invalid') AS invalid,
         (SELECT sum(fits_in_memory) FROM run) AS fitting, (SELECT sum(events) FROM run) AS engine_events
  FROM sweep_point"
