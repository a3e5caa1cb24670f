#!/usr/bin/env bash
# Engine benchmarks (docs/performance.md): builds release, then simulates the large shipped
# strategies once each and prints wall time, peak resident memory, simulated iteration time
# and engine events per second. A benchmark, not a test: figures depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
db=$(mktemp -d)/bench.sqlite
printf "%-48s %9s %10s %10s %12s %12s\n" strategy gpus wall_s rss_mib iteration_s events_per_s
for strategy in strategies/gpt3/gpt3-175b-megatron-3d.strata strategies/llama3/llama3-405b-tp-pp.strata \
    strategies/llama3/llama3-405b-98k-gpus.strata "$@"; do
  out=$( { /usr/bin/time -f "TIME %e %M" .build/release/simulate run "$strategy" --db "$db" --json; } 2>&1 )
  python3 - "$strategy" <<PY
import json, sys
text = """$out"""
lines = text.strip().splitlines()
wall, rss = [l for l in lines if l.startswith("TIME ")][-1].split()[1:]
run = json.loads([l for l in lines if l.startswith("{")][-1])
print("%-48s %9d %10.2f %10.0f %12.3f %12.0f" % (sys.argv[1], run["gpus"], float(wall), int(rss) / 1024,
      run["iteration_time_s"], run["events"] / float(wall)))
PY
done
