#!/usr/bin/env python3
"""A layer's host cost inside the runner's whole training step. host.py times the runner's
layer (run.Block) in a chain of layers; this runs run.py itself on copies of a plan with
fewer and more layers (default 2 and 8) at a short sequence, where the host sets the pace,
and prints the slope of the ranks' host time per layer and micro-batch, forward and
backward (`host_forward_s`, `host_backward_s`: the slowest rank's median): what one more
layer costs the host with everything else of a step around it (the embedding, the loss,
the optimizer, a model's worth of autograd nodes, accumulation into kept gradients).
Compare with host.csv's layer rows taken on the same machine.

    python3 scripts/validate/host_layer_slope.py PLAN.json --out slope.json \
        [--layers 2,8] [--seq 128] [--set hidden=256 --set heads=4 ...]

`--set FIELD=VALUE` overrides a model field of the plan (integers), to time the layer at
other widths than the plan's. Needs the plan's GPUs (or --cpu for tests, on gloo).
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def with_layers(plan, layers, overrides):
    """A copy of `plan` with `layers` layers and the model fields of `overrides`; refuses a
    pipeline, whose stages split the layers."""
    if plan["parallel"].get("pipeline"):
        raise ValueError("a pipelined plan splits its layers among stages; give a plan without a pipeline")
    p = copy.deepcopy(plan)
    p["model"].update(overrides)
    p["model"]["layers"] = layers
    p["strategy"] = f"{p['strategy']} ({layers} layers)"
    return p


def slope(low, high, layers, micro_batches):
    """Per layer and micro-batch, us: the host seconds of the run with more layers less the
    run with fewer, over the layers added and the micro-batches each one ran."""
    (l0, l1) = layers
    return (high - low) / ((l1 - l0) * micro_batches) * 1e6


def parse_set(items):
    out = {}
    for item in items:
        field, sep, value = item.partition("=")
        if not sep or not value.lstrip("-").isdigit():
            raise ValueError(f"--set {item}: give FIELD=INTEGER, e.g. --set hidden=256")
        out[field] = int(value)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("plan")
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", default="2,8", help="two layer counts (default 2,8)")
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    ap.add_argument("--iterations", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--cpu", action="store_true")
    args = ap.parse_args(argv)
    try:
        layers = tuple(int(x) for x in args.layers.split(","))
        if len(layers) != 2 or not 0 < layers[0] < layers[1]:
            raise ValueError(f"--layers {args.layers}: give two counts, fewer first, e.g. 2,8")
        overrides = parse_set(args.set)
        with open(args.plan) as f:
            plan = json.load(f)
        plans = [with_layers(plan, n, overrides) for n in layers]
    except (ValueError, OSError, KeyError) as e:
        print(f"{args.plan}: error: {e}", file=sys.stderr)
        return 2
    runs = []
    with tempfile.TemporaryDirectory() as work:
        for p in plans:
            n = p["model"]["layers"]
            path, out = os.path.join(work, f"plan{n}.json"), os.path.join(work, f"result{n}.json")
            with open(path, "w") as f:
                json.dump(p, f)
            cmd = [sys.executable, os.path.join(HERE, "run.py"), path, "--out", out, "--seq", str(args.seq),
                   "--iterations", str(args.iterations), "--warmup", str(args.warmup)] + (["--cpu"] if args.cpu else [])
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                print(done.stdout[-2000:] + done.stderr[-2000:], file=sys.stderr)
                print(f"{args.plan}: error: run.py failed on {n} layers (exit {done.returncode})", file=sys.stderr)
                return 1
            with open(out) as f:
                r = json.load(f)
            runs.append({"layers": n, "median_s": r["median_s"], "host_forward_s": max(r["host_forward_s"]),
                         "host_backward_s": max(r["host_backward_s"]), "host_issue_s": max(r["host_issue_s"])})
    mb = plan["training"]["micro_batches_per_replica"]
    result = {"plan": os.path.basename(args.plan), "seq": args.seq, "overrides": overrides, "micro_batches": mb,
              "runs": runs,
              "fwd_us": slope(runs[0]["host_forward_s"], runs[1]["host_forward_s"], layers, mb),
              "bwd_us": slope(runs[0]["host_backward_s"], runs[1]["host_backward_s"], layers, mb)}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"[slope] {result['plan']} seq {args.seq} {overrides or ''}: a layer costs the host "
          f"{result['fwd_us']:.1f} us forward, {result['bwd_us']:.1f} us backward per micro-batch "
          f"(runs of {layers[0]} and {layers[1]} layers: issue {runs[0]['host_issue_s'] * 1e3:.1f} and "
          f"{runs[1]['host_issue_s'] * 1e3:.1f} ms)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
