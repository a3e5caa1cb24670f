#!/usr/bin/env bash
# Device run (2 H200s): the launch queue's room for a training step's kernels, and the host
# cost of DDP's synchronised backward. First scripts/profile/queue_depth.py: launches of each
# of GPT-350M's kinds of op, at sequence 128 and 2048, queued behind a sleep kernel before one
# blocks the host. Then, alternately, twice, at sequence 128 (where the queue holds a whole
# backward): gpt-350m-mb2, gpt-350m-ddp2 and ddp2 without its all-reduces, each with 100 ms
# of GPU sleep before every backward (run.py --gpu-ahead 100), so host_backward_s is the
# host's own cost. Back as $OUT/queue.tar.gz. Exit status 3 unless the machine has two H200s.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv
[ "$(nvidia-smi --query-gpu=name --format=csv,noheader | grep -c H200)" -ge 2 ] || exit 3
P=traces/validation/h100-sxm/plans
O="$OUT/queue"
mkdir -p "$O"
timeout 200 python3 scripts/profile/queue_depth.py --out "$O/queue-depth.csv" > "$O/queue-depth.log" 2>&1
echo "queue_depth rc=$?"; cat "$O/queue-depth.log" | grep -E "^\[queue\]|Error|error" | tail -20
run() {  # NAME then run.py's arguments
  local name=$1; shift
  timeout 120 python3 scripts/validate/run.py "$@" --out "$O/$name.json" --iterations 10 --warmup 3 > "$O/$name.log" 2>&1
  echo "$name rc=$?"; grep -E "^\[run\]|Error" "$O/$name.log" | tail -1
}
for r in 1 2; do
  run mb2.seq128.ahead.r$r "$P/gpt-350m-mb2.json" --seq 128 --gpu-ahead 100
  run ddp2.seq128.ahead.r$r "$P/gpt-350m-ddp2.json" --seq 128 --gpu-ahead 100
  run ddp2.seq128.skip.ahead.r$r "$P/gpt-350m-ddp2.json" --seq 128 --gpu-ahead 100 --skip-grad-sync
done
python3 - "$O" <<'PY'
import glob, json, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    d = json.load(open(f))
    ms = lambda k: "/".join(f"{x * 1e3:.1f}" for x in d[k])
    print(f"{os.path.basename(f):30s} median {d['median_s'] * 1e3:7.1f} ms  issue {ms('host_issue_s')}  "
          f"forward {ms('host_forward_s')}  backward {ms('host_backward_s')}  outlasted {d.get('gpu_ahead_outlasted')}")
PY
tar -C "$OUT" -czf "$OUT/queue.tar.gz" queue && rm -rf "$O"; ls -la "$OUT"
