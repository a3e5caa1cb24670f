#!/usr/bin/env bash
# Validate Strata on this machine's GPUs, end to end, as docs/accuracy.md's H200 runs were:
#  1. every strategy of strategies/validation exported as a plan (`simulate export`);
#  2. the host's tables measured here (scripts/profile/host.py and launch.py), since host
#     costs move between machines of one kind more than the runs they price;
#  3. every plan that fits the GPUs run here (run_all.sh: median of ITERATIONS after WARMUP,
#     issued back to back as a training loop issues them);
#  4. `simulate validate` on them, with this GPU's kernel tables and this host's tables,
#     then (with 2 or more GPUs) how far apart this machine's processes issue one layer
#     (scripts/profile/host_spread.py): how much a host-paced plan can move here; and the
#     plans priced again at the slowest process's host (validate --host-scale), the slow
#     end of a host-paced plan's range, in OUT/validate-slowest-host.txt; and whether this
#     machine's CPUs run the host's work at two speeds (scripts/profile/cpu_speed.py: on
#     the lent H200 machines, about 1.8 times apart, by CPU and moment), which a host table
#     taken in one process cannot follow (docs/accuracy.md, "The host's two speeds").
#
#   scripts/validate/on_this_machine.sh OUT [--tables DIR] [--topology FILE] [--only a,b]
#       [--iterations 10] [--warmup 3] [--time-limit 540] [--repeats N] [--launches K]
#       [--synchronised]
#
# The iterations are timed back to back (run.py --back-to-back), one after another on the
# GPU as a training loop runs them: that is a training job's time per iteration. With
# --synchronised each is started behind an idle GPU after a sync and timed by the host's
# clock (run.py's default), so every rank's host starts every iteration behind its GPU, a
# cost a training loop pays once: 0.7-5.6 ms an iteration on most GPU-paced plans of a
# 4xH200 machine, 45 ms on gpipe2, 3-12% on the host-paced plans (docs/accuracy.md, "A head start for the host").
# --back-to-back, the default, is accepted too.
#
# --launches K measures each plan in K launches and host.py's table in K launches, and
# prices with the middle host table (merge_tables.py --keep middle) against the median of
# the plans' launches: a plan paced by its host runs at the speed of the processes it gets,
# and on one H200 machine three launches of host.py minutes apart priced
# llama-1b-tp4-sp at 383 to 596 ms (docs/accuracy.md, "The host's spread between processes").
# --repeats sets how many times host.py and launch.py repeat each measurement (their
# defaults, 15 and 30, otherwise); fewer make a quicker, noisier host table.
# OUT receives plans/, traces/ (GPU/host.csv, GPU/launch.csv and their logs; with
# --launches, each launch's host table in traces/host.launchJ/), val/
# (results, logs, measurements.csv) and validate.txt. The kernel tables are DIR/GPU
# (default traces/GPU, GPU the folder name scripts/profile/common.py gives this device:
# h100-sxm, h200-sxm, ...); a GPU without
# them needs `python3 scripts/profile/run.py --out traces` first (about 10 minutes). The
# topology defaults to topologies/GPU-Ngpu.xml for this machine's N GPUs, or the smallest
# GPU-Kgpu.xml with K above N (a plan uses the first GPUs of it). Bad arguments and
# missing inputs stop it before anything runs, with the fix, and exit status 2.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1

fail() { echo "on_this_machine.sh: error: $1" >&2; exit 2; }

out="" tables=traces topology="" only="" iterations=10 warmup=3 limit=540 repeats="" launches=1 timing=--back-to-back
while [ $# -gt 0 ]; do
  case $1 in
    --tables) tables=${2:?}; shift 2 ;;
    --topology) topology=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    --iterations) iterations=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --time-limit) limit=${2:?}; shift 2 ;;
    --repeats) repeats=${2:?}; shift 2 ;;
    --launches) launches=${2:?}; shift 2 ;;
    --back-to-back) timing=--back-to-back; shift ;;
    --synchronised) timing=""; shift ;;
    -*) fail "unknown option $1; the options are --tables, --topology, --only, --iterations, --warmup, --time-limit, --repeats, --launches, --back-to-back and --synchronised" ;;
    *) [ -z "$out" ] || fail "one output folder, not '$out' and '$1'"; out=$1; shift ;;
  esac
done
[ -n "$out" ] || fail "name an output folder: scripts/validate/on_this_machine.sh OUT"
[[ "$launches" =~ ^[1-9][0-9]*$ ]] || fail "--launches $launches: give a whole number of launches, 1 or more"

simulate=${SIMULATE:-.build/release/simulate}
[ -x "$simulate" ] || fail "$simulate: no simulate binary; build it with swift build -c release (or set SIMULATE)"
device=$(python3 - <<'PY' 2>/dev/null || true
import sys
sys.path.insert(0, "scripts/profile")
import common
import torch
if torch.cuda.is_available() and torch.cuda.device_count() > 0:
    print(common.gpu_id(torch.cuda.get_device_name(0)), torch.cuda.device_count())
PY
)
read -r gpu count <<< "$device"
[ -n "${gpu:-}" ] || fail "no CUDA GPU visible to PyTorch here; run this on the machine whose GPUs you want to validate"
[ -f "$tables/$gpu/gemm.csv" ] || fail "$tables/$gpu: no kernel tables for this GPU ($gpu); measure them with python3 scripts/profile/run.py --out traces, or give --tables DIR holding DIR/$gpu"
if [ -z "$topology" ]; then  # this machine's size, else the smallest of this GPU's that holds it
  for k in "$count" 2 4 8 16; do
    if [ "$k" -ge "$count" ] && [ -f "topologies/$gpu-${k}gpu.xml" ]; then topology=topologies/$gpu-${k}gpu.xml; break; fi
  done
  topology=${topology:-topologies/$gpu-${count}gpu.xml}
fi
[ -f "$topology" ] || fail "$topology: no topology for this machine; describe it (docs/topology.md) and give --topology FILE"

mkdir -p "$out/plans" "$out/traces"
echo "[here] $count x $gpu, kernel tables $tables/$gpu, topology $topology"
for f in strategies/validation/*.strata; do
  "$simulate" export "$f" > "$out/plans/$(basename "$f" .strata).json"
done
# host.py into the traces folder $1, its output into the log $2.
host_table() {
  python3 scripts/profile/host.py --out "$1" ${repeats:+--repeats "$repeats"} > "$2" 2>&1 || fail "host.py failed; see $2"
}
if [ "$launches" -eq 1 ]; then
  host_table "$out/traces" "$out/traces/host.log"
else  # each launch a process of its own; the table is the middle launch's, kept whole
  for j in $(seq "$launches"); do host_table "$out/traces/host.launch$j" "$out/traces/host.launch$j.log"; done
  python3 scripts/profile/merge_tables.py --keep middle --out "$out/traces/$gpu/host.csv" \
    "$out"/traces/host.launch*/"$gpu"/host.csv > /dev/null
fi
python3 scripts/profile/launch.py --out "$out/traces" ${repeats:+--repeats "$repeats"} > "$out/traces/launch.log" 2>&1 \
  || fail "launch.py failed; see $out/traces/launch.log"
# How far apart this machine's processes issue the same layer (one per GPU, at once): the
# noise floor of a host-paced plan's error here. Printed after the table; not fatal.
spread=""
if [ "$count" -ge 2 ]; then
  if python3 scripts/profile/host_spread.py --out "$out/traces/spread.json" --rounds 11 > "$out/traces/spread.log" 2>&1; then
    spread=$(grep "slowest process over the median" "$out/traces/spread.log" | sed 's/^\[spread\] //')
  else
    spread="not measured (host_spread.py failed; see $out/traces/spread.log)"
  fi
fi
# The speeds this machine's CPUs run the host's work at, each CPU in turn, twice (a few
# seconds). Printed after the table; not fatal.
if python3 scripts/profile/cpu_speed.py --out "$out/traces/cpus.json" --rounds 2 --repeats 5 > "$out/traces/cpus.log" 2>&1; then
  cpus=$(python3 scripts/profile/cpu_speed.py --show "$out/traces/cpus.json" | grep "levels:" | sed 's/^\[cpus\] //')
else
  cpus="not measured (cpu_speed.py failed; see $out/traces/cpus.log)"
fi
# A plan that fails or outlasts --time-limit leaves the others to validate; the exit status
# says some were missing, after the table of those that ran.
plans_status=0
scripts/validate/run_all.sh "$out/plans" --out "$out/val" --iterations "$iterations" --warmup "$warmup" \
  --time-limit "$limit" --launches "$launches" ${only:+--only "$only"} $timing || plans_status=$?
grep -q '^[a-z]' <(grep -v '^strategy,' "$out/val/measurements.csv" 2>/dev/null) \
  || fail "no plan was measured; see the logs in $out/val/logs"
# simulate validate on the plans run here; with_host.sh prices with a copy of the kernel
# tables holding this host's host.csv and launch.csv. Further arguments go to validate.
validate_here() {
  TABLES="$tables" GPU="$gpu" SIMULATE="$simulate" scripts/validate/with_host.sh "$out/val" \
    "$out/traces/$gpu/host.csv" "$out/traces/$gpu/launch.csv" --topology "$topology" "$@"
}
validate_here | tee "$out/validate.txt"
if [ -n "$spread" ]; then
  echo "host spread between this machine's processes (host_spread.py, $count at once): $spread" | tee -a "$out/validate.txt"
  # The other end of a host-paced plan's range: every host cost at the slowest process's
  # pace (simulate validate --host-scale).
  if scale=$(python3 scripts/profile/host_spread.py --host-scale "$out/traces/spread.json" 2>/dev/null); then
    validate_here --host-scale "$scale" > "$out/validate-slowest-host.txt"
    echo "priced at the slowest process's host (every host cost x$scale): $out/validate-slowest-host.txt" \
      | tee -a "$out/validate.txt"
  fi
fi
echo "the host's speeds on this machine's CPUs (cpu_speed.py, each CPU in turn):" | tee -a "$out/validate.txt"
echo "$cpus" | sed 's/^/  /' | tee -a "$out/validate.txt"
if [ "$plans_status" -ne 0 ]; then
  echo "on_this_machine.sh: some plans were not measured (the '# failed:' lines of $out/val/measurements.csv say why); give a larger --time-limit, or the rest with --only" >&2
  exit 1
fi
