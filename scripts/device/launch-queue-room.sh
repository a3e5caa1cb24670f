#!/usr/bin/env bash
# Device run (2 H200s): what stops the runner's host from running ahead of its GPU. First
# scripts/profile/queue_depth.py: launches of each of GPT-350M's kinds of op, at sequence 128
# and 2048, queued behind a sleep kernel before one blocks the host. Then the runs whose host
# blocked behind 100 ms of GPU sleep before each backward (run.py --gpu-ahead 100:
# gpt-350m-mb2 at sequence 2048, gpt-350m-ddp2 at 128 and 2048) again with --sync-debug,
# which warns at every CUDA call that makes the host wait for the GPU; 2 timed iterations.
# Back as $OUT/queue.tar.gz. Exit status 3 unless the machine has two H200s.
. "$(dirname "$0")/common.sh"
require_h200s 2 name,driver_version
P=traces/validation/h100-sxm/plans
O="$OUT/queue"
mkdir -p "$O"
timeout 240 python3 scripts/profile/queue_depth.py --out "$O/queue-depth.csv" > "$O/queue-depth.log" 2>&1
echo "queue_depth rc=$?"; grep -E "^\[queue\]|Error|error" "$O/queue-depth.log" | tail -20
run() {  # NAME then run.py's arguments
  run_plan "$O" "$@" --iterations 2 --warmup 3 --sync-debug
  grep -n -i -B2 -A6 "synchroniz" "$O/$1.log" | head -60
}
run mb2.ahead.sync "$P/gpt-350m-mb2.json" --gpu-ahead 100
run ddp2.seq128.ahead.sync "$P/gpt-350m-ddp2.json" --seq 128 --gpu-ahead 100
run ddp2.sync "$P/gpt-350m-ddp2.json"
tar -C "$OUT" -czf "$OUT/queue.tar.gz" queue && rm -rf "$O"; ls -la "$OUT"
