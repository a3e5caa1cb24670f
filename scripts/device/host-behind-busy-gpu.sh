#!/usr/bin/env bash
# Device run (2 H200s): is a training run's host slow at issuing the backward, or paced by
# the GPU it issues to? At sequence 2048 the runner's host takes 2.6 times as long to issue
# GPT-350M's backward as at sequence 128 (host_backward_s), where Strata's host table prices
# both alike (docs/accuracy.md, "The host's backward at a training step's size"). Alternately,
# twice: gpt-350m-mb2 and gpt-350m-ddp2 as they are and with 100 ms of GPU sleep queued
# before each backward (run.py --gpu-ahead 100: the host then issues the backward behind a
# busy GPU and is never waiting for it), and ddp2 without its all-reduces the same way
# (--skip-grad-sync); once, mb2 at sequences 128, 512 and 1024 both ways, and moe-base both
# ways. Median of 10 iterations after 3 warm-up. Back as $OUT/ahead.tar.gz (one file: the
# device tool returns few). Stops with exit status 3 unless the machine has two H200s.
. "$(dirname "$0")/common.sh"
require_h200s 2 name,driver_version
P=traces/validation/h100-sxm/plans
O="$OUT/ahead"
mkdir -p "$O"
run() { run_plan "$O" "$@" --iterations 10 --warmup 3; }  # NAME then run.py's arguments
for r in 1 2; do
  run mb2.r$r "$P/gpt-350m-mb2.json"
  run mb2.ahead.r$r "$P/gpt-350m-mb2.json" --gpu-ahead 100
  run ddp2.r$r "$P/gpt-350m-ddp2.json"
  run ddp2.ahead.r$r "$P/gpt-350m-ddp2.json" --gpu-ahead 100
  run ddp2.skip.ahead.r$r "$P/gpt-350m-ddp2.json" --gpu-ahead 100 --skip-grad-sync
done
for seq in 128 512 1024; do
  run mb2.seq$seq "$P/gpt-350m-mb2.json" --seq $seq
  run mb2.seq$seq.ahead "$P/gpt-350m-mb2.json" --seq $seq --gpu-ahead 100
done
run moe-base "$P/moe-base.json"
run moe-base.ahead "$P/moe-base.json" --gpu-ahead 100
python3 - "$O" <<'PY'
import glob, json, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    d = json.load(open(f))
    ms = lambda k: "/".join(f"{x * 1e3:.1f}" for x in d[k])
    print(f"{os.path.basename(f):26s} median {d['median_s'] * 1e3:7.1f} ms  issue {ms('host_issue_s')}  "
          f"forward {ms('host_forward_s')}  backward {ms('host_backward_s')}  outlasted {d.get('gpu_ahead_outlasted')}")
PY
tar -C "$OUT" -czf "$OUT/ahead.tar.gz" ahead && rm -rf "$O"; ls -la "$OUT"
