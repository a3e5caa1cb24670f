#!/usr/bin/env bash
# Device run (1 H100), back as $OUT/elementwise.csv: the memory-bound ops again, now with
# MoE's permute and unpermute measured as the validation runner runs them (elementwise.py's
# moe_permute, moe_unpermute); run 2026-11-28 04:29 UTC, merged with the 03:47 run into
# traces/h100-sxm/elementwise.csv.
FAMILY=elementwise BUDGET=${BUDGET:-270} SHOW='^moe_|truncated|skip' exec bash scripts/device/one-table.sh
