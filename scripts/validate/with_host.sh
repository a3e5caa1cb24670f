#!/usr/bin/env bash
# simulate validate on a run whose host was measured beside it: the kernel tables of
# TABLES/GPU (default traces/h200-sxm) with that run's own host.csv and launch.csv in place
# of theirs, since host costs move between machines and the table's must be the run's.
#   scripts/validate/with_host.sh traces/validation/h200-sxm/4gpu-2026-11-28T08-14 \
#     traces/h200-sxm/runs/host-2026-11-28T08-14.csv traces/h200-sxm/runs/launch-2026-11-28T08-14.csv
# Further arguments go to simulate validate (default --topology topologies/h200-sxm-4gpu.xml).
set -euo pipefail
cd "$(dirname "$0")/../.."
run=${1:?name the validation run folder}
host=${2:?name its host.csv}
launch=${3:?name its launch.csv}
shift 3
tables=${TABLES:-traces}
gpu=${GPU:-h200-sxm}
for f in "$run/measurements.csv" "$host" "$launch"; do
  [ -f "$f" ] || { echo "$f: error: no such file; give a run folder with measurements.csv, then its host.csv and launch.csv" >&2; exit 2; }
done
[ -f "$tables/$gpu/gemm.csv" ] || { echo "$tables/$gpu: error: no kernel tables there; set TABLES to the folder holding the GPU's table folder and GPU to its name" >&2; exit 2; }
simulate=${SIMULATE:-.build/release/simulate}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/$gpu"
cp "$tables/$gpu"/*.csv "$work/$gpu"/
cp "$host" "$work/$gpu/host.csv"
cp "$launch" "$work/$gpu/launch.csv"
# The gap between a training step's own kernels (gpu_kernel_gap_training) is a row launch.py
# writes since 2026-11-28 14:41 UTC: keep the tables' row where an earlier run's launch.csv has none.
if ! grep -q '^gpu_kernel_gap_training,' "$work/$gpu/launch.csv"; then
  grep '^gpu_kernel_gap_training,' "$tables/$gpu/launch.csv" >> "$work/$gpu/launch.csv" || true
fi
[ $# -gt 0 ] || set -- --topology topologies/h200-sxm-4gpu.xml
# The copy's temporary path would make the header differ run to run: name what it holds.
"$simulate" validate "$run" --traces "$work" "$@" | sed "s|$work/$gpu|$tables/$gpu with the run's host.csv and launch.csv|"
