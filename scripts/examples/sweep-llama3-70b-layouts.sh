#!/bin/sh
# LLaMA-3 70B (strategies/llama3/llama3-70b-tp-pp.strata) on 64 to 512 H100s of the DGX
# SuperPOD: every tensor × pipeline × data layout on 256 GPUs, and TP 4 or 8 with every
# pipeline depth on 64, 128 and 512, one `simulate run` each into one database. The data
# behind docs/plots.md; a plain loop until `simulate sweep` does this in one command.
#
#   scripts/examples/sweep-llama3-70b-layouts.sh [DB]     (default llama70b.sqlite)
#
# SIMULATE names the executable (default: simulate on the PATH).
set -e
db=${1:-llama70b.sqlite}
simulate=${SIMULATE:-simulate}
for gpus in 256 128 512 64; do
  for tp in 1 2 4 8; do
    for pp in 1 2 4 8; do
      dp=$((gpus / (tp * pp)))
      [ "$gpus" -ne 256 ] && [ "$tp" -lt 4 ] && continue
      "$simulate" run strategies/llama3/llama3-70b-tp-pp.strata \
        --set gpus=$gpus --set tp=$tp --set pp=$pp --set dp=$dp --db "$db" > /dev/null
    done
  done
done
