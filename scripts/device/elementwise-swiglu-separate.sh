#!/usr/bin/env bash
# Device run (1 GPU), back as $OUT/elementwise.csv: the memory-bound ops again, with SwiGLU
# on separate contiguous gate and up tensors (as Strata lowers LLaMA's MLP and the
# validation runner runs it; the 2026-11-27 table read the halves of one fused tensor) and
# norms at width 1536. Run 2026-11-28 03:47 UTC (runs/elementwise-2026-11-28T03-47.csv).
FAMILY=elementwise BUDGET=${BUDGET:-270} SHOW='^swiglu|truncated' exec bash scripts/device/one-table.sh
