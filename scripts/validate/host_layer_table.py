#!/usr/bin/env python3
"""Three measures of one layer's host cost on one machine, side by side (no torch): the
runner's own seq-128 iterations of a plan (its ranks' host time per layer and micro-batch,
the slowest rank's), host_layer_slope.py's slope over 2 and 8 layers of the same plan, and
host.csv's layer row that Strata scales its op rows to (`layer_llama`, `layer_llama_tp2`,
`layer_moe`).

    python3 scripts/validate/host_layer_table.py traces/validation/h200-sxm/host-slope-2026-11-28T15-00 \
        traces/h200-sxm/runs/host-2026-11-28T15-00-2gpu.csv [--plans traces/validation/h100-sxm/plans]

RUN holds seq128/NAME-seq128.json (run.py --seq 128) and slope/NAME.json.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "profile"))
import common  # noqa: E402  (scripts/profile/common.py: the profiler tables' reader)

# Which host.csv row prices a plan's layer.
LAYER_ROW = {"llama-1b-base": "layer_llama", "llama-1b-tp2": "layer_llama_tp2", "llama-1b-tp2-sp": "layer_llama_sp2",
             "moe-base": "layer_moe", "moe-ep2": "layer_moe_ep2"}


def per_layer(result, plan):
    """(forward, backward) host us per layer and micro-batch of a run.py result: the slowest
    rank's median host time over the plan's layers times its micro-batches."""
    share = plan["model"]["layers"] * plan["training"]["micro_batches_per_replica"]
    return max(result["host_forward_s"]) / share * 1e6, max(result["host_backward_s"]) / share * 1e6


def layer_rows(path):
    """{(layer row, pass): median us} of host.csv's `layer_*` rows."""
    _, _, _, rows = common.read_table(path)
    return {(r["op"], r["pass"]): float(r["median_us"]) for r in rows if r["op"].startswith("layer_")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("host_csv")
    ap.add_argument("--plans", default="traces/validation/h100-sxm/plans")
    args = ap.parse_args(argv)
    try:
        rows = layer_rows(args.host_csv)
    except (OSError, KeyError, ValueError) as e:
        print(f"{args.host_csv}: error: cannot read its layer rows ({e}); give a host.csv that host.py wrote",
              file=sys.stderr)
        return 2
    seq128 = os.path.join(args.run, "seq128")
    names = sorted(f[:-len("-seq128.json")] for f in os.listdir(seq128) if f.endswith("-seq128.json")) \
        if os.path.isdir(seq128) else []
    if not names:
        print(f"{args.run}: error: no seq128/*-seq128.json; give a folder host-layer-slope.sh wrote", file=sys.stderr)
        return 2
    print(f"{'plan':16s} {'runner fwd':>10s} {'bwd':>7s}   {'slope fwd':>9s} {'bwd':>7s}   {'host.csv row':16s} {'fwd':>7s} {'bwd':>7s}")
    for name in names:
        with open(os.path.join(seq128, f"{name}-seq128.json")) as f:
            result = json.load(f)
        with open(os.path.join(args.plans, f"{name}.json")) as f:
            plan = json.load(f)
        fwd, bwd = per_layer(result, plan)
        slope_path = os.path.join(args.run, "slope", f"{name}.json")
        slope = {}
        if os.path.exists(slope_path):
            with open(slope_path) as f:
                slope = json.load(f)
        row = LAYER_ROW.get(name, "")
        cells = [rows.get((row, p)) for p in ("fwd", "bwd")]
        fmt = lambda v: f"{v:7.1f}" if v is not None else "      -"  # noqa: E731
        print(f"{name:16s} {fwd:10.1f} {bwd:7.1f}   {fmt(slope.get('fwd_us')):>9s} {fmt(slope.get('bwd_us'))}   "
              f"{row:16s} {fmt(cells[0])} {fmt(cells[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
