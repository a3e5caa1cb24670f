#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/cs.tar.gz: is the host's draw the CPU a process lands
# on? scripts/profile/cpu_speed.py times a loop of interpreter work pinned to each CPU in
# turn (three rounds), reads each CPU's steal time, and times host.py's LLaMA layer pinned to
# the three fastest and three slowest CPUs; then two host-paced plans run back to back while
# every 0.5 s the threads of each process matching run.py are listed with the CPU they last
# ran on (threads.log; at 21:27 UTC it matched only run_all's parent processes, not the
# spawned ranks, and was not kept), and /proc/stat is kept from before and after
# (docs/accuracy.md, "The host's two speeds"). Stops with exit status 3 unless the
# machine has 4 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4
results_dir cs
lscpu | grep -E "Model name|^CPU\(s\)|Thread|Core|Socket|NUMA|Hypervisor|MHz" | tee "$H/lscpu.txt"
cat /sys/devices/system/cpu/cpu0/topology/thread_siblings_list /sys/devices/system/cpu/cpu0/topology/core_siblings_list
python3 scripts/profile/cpu_speed.py --out "$H/cpus.json" --rounds 3 --repeats 11 --layer 3 > "$H/cpus.log" 2>&1
echo "cpu_speed rc=$? at ${SECONDS}s"; grep '^\[cpus\]' "$H/cpus.log"
threads() {
  while sleep 0.5; do
    for p in $(pgrep -f scripts/validate/run.py); do
      for t in /proc/$p/task/*; do
        echo "$SECONDS $p $(tr ' ' _ < "$t/comm" 2>/dev/null) $(cut -d')' -f2 < "$t/stat" 2>/dev/null | awk '{print $37}')"
      done
    done
  done
}
threads > "$H/threads.log" 2>/dev/null & sampler=$!
grep '^cpu' /proc/stat > "$H/stat.before"
timeout 200 python3 scripts/validate/run_all.py traces/validation/h100-sxm/plans --out "$H/b2b" --back-to-back \
  --iterations 10 --warmup 3 --time-limit 190 --plan-timeout 90 --only "${PLANS:-moe-ep4,gpt-350m-fsdp4}" > "$H/b2b.log" 2>&1
echo "run_all rc=$? at ${SECONDS}s"; tail -3 "$H/b2b.log"
grep '^cpu' /proc/stat > "$H/stat.after"
kill $sampler
pack_results
