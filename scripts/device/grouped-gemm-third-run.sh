#!/usr/bin/env bash
# Device run (1 GPU), back as $OUT/grouped_gemm.csv: a third grouped-GEMM run, to merge with
# the two in traces/h100-sxm/runs/ (merge_tables.py keeps each case's fastest run): the fp8
# grouped product's leave-one-out p90 was 8.0 %, at the target's edge. Run 2026-11-28 03:49
# UTC (runs/grouped_gemm-2026-11-28T03-49.csv).
FAMILY=grouped_gemm BUDGET=${BUDGET:-140} exec bash scripts/device/one-table.sh
