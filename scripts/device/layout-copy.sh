#!/usr/bin/env bash
# Device run (1 H100), back as $OUT/elementwise.csv: only the layout copy (elementwise.py
# --ops layout_copy), a sequence-first tensor made contiguous batch-first, which prices the
# copies of the attention backward's output and output gradient; merged into
# traces/h100-sxm/elementwise.csv with the runs before it.
FAMILY=elementwise BUDGET=${BUDGET:-60} ARGS="--ops layout_copy" SHOW='^layout_copy|truncated|skip' \
  exec bash scripts/device/one-table.sh
