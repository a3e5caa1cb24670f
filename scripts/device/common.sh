# Sourced first by the device scripts (`. "$(dirname "$0")/common.sh"`): commands echoed,
# NVLink multicast off in this shell and every child (the device tool's KINDS.md;
# scripts/profile/common.py sets the same in Python), and two helpers:
#   require_h200s N [FIELDS]   prints the GPUs (nvidia-smi's FIELDS, default name, driver,
#                              top SM clock and power limit) and stops the call with exit
#                              status 3 unless the machine has at least N H200s;
#   run_plan DIR NAME ARGS...  runs run.py with ARGS into DIR/NAME.json, its output in
#                              DIR/NAME.log (RUN_TIMEOUT seconds, default 120), then prints
#                              its exit status and summary line;
#   profile_table SCRIPT DIR LOG SECONDS [ARGS...]
#                              runs scripts/profile/SCRIPT.py (host or launch) with 11
#                              repeats and ARGS into DIR, its output in LOG, recording the
#                              command as run into traces, then prints its exit status;
#   host_tables DIR [SECONDS]  this machine's host.csv and launch.csv under DIR/traces
#                              (host.py within SECONDS, default 120; launch.py within 60),
#                              their logs DIR/host.log and DIR/launch.log;
#   results_dir NAME           sets H to $OUT/NAME and makes it, for a call's results;
#   pack_results               packs H into $OUT/NAME.tar.gz (what comes back) and lists $OUT.
# P is the exported validation plans' folder.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
P=traces/validation/h100-sxm/plans

require_h200s() {
  nvidia-smi --query-gpu="${2:-name,driver_version,clocks.max.sm,power.limit}" --format=csv
  [ "$(nvidia-smi --query-gpu=name --format=csv,noheader | grep -c H200)" -ge "$1" ] || exit 3
}

run_plan() {
  local dir=$1 name=$2; shift 2
  timeout "${RUN_TIMEOUT:-120}" python3 scripts/validate/run.py "$@" --out "$dir/$name.json" > "$dir/$name.log" 2>&1
  echo "$name rc=$?"; grep -E "^\[run\]|Error" "$dir/$name.log" | tail -1
}

profile_table() {
  local script=$1 dir=$2 log=$3 seconds=$4; shift 4
  timeout "$seconds" python3 "scripts/profile/$script.py" --out "$dir" --repeats 11 "$@" \
    --command "python3 scripts/profile/$script.py --out traces --repeats 11${*:+ $*}" > "$log" 2>&1
  local rc=$?
  echo "$script${*:+ $*} rc=$rc at ${SECONDS}s"
}

host_tables() {
  mkdir -p "$1/traces"
  profile_table host "$1/traces" "$1/host.log" "${2:-120}"
  profile_table launch "$1/traces" "$1/launch.log" 60
}

results_dir() {
  H="$OUT/$1"; mkdir -p "$H"
}

pack_results() {
  local name; name=$(basename "$H")
  tar -C "$OUT" -czf "$OUT/$name.tar.gz" "$name" && rm -rf "$H"; ls -la "$OUT"
}
