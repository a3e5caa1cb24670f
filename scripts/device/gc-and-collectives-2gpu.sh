#!/usr/bin/env bash
# Device run (2 GPUs): the third 2-GPU collectives run ($OUT/collectives.csv, to merge with
# the two in traces/h100-sxm/runs/), then the runner with and without --manual-gc on the
# plans of 1 and 2 GPUs, alternately, twice ($OUT/ab.tar.gz). Every runner result now
# records the garbage collector's pauses inside its timed iterations, so the automatic
# runs say whether a collection stalled a host.
set -x
BUDGET=90 bash scripts/device/collectives-2gpu.sh
FLAG=--manual-gc BUDGET=${AB_BUDGET:-370} \
  PLANS="gpt-350m-base gpt-350m-ddp2 gpt-350m-gpipe2 llama-1b-tp2 moe-ep2" \
  bash scripts/device/runner-ab.sh
