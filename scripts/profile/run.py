#!/usr/bin/env python3
"""Strata profiler: measure kernel and collective times on this machine's GPUs into CSV tables.

    python3 scripts/profile/run.py --out traces [--gpus N] [--quick] [--families a,b] [--device I]

Writes OUT/<gpu-id>/{gemm,grouped_gemm,attention,sparse_attention,elementwise,
collectives,interference}.csv (see README.md beside this file for the
format).  Each family runs in its own Python process so that a CUDA error or
a hang in one (a kernel this torch build lacks, an NCCL timeout) costs only
that table: the process gets a time budget, then SIGTERM, then SIGKILL, and
the tables are rewritten atomically as rows arrive, so whatever was measured
survives.  One-GPU families run on --device; collectives and interference
use GPUs 0..N-1 (--gpus, default all visible) and are skipped with one GPU.
"""

import os
import shlex
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402  (sets the NCCL/NVSHMEM safety variables for us and our children)

ONE_GPU = ["gemm", "grouped_gemm", "attention", "sparse_attention", "elementwise"]
MULTI_GPU = ["collectives", "interference"]
# Seconds of measurement per family (full run); startup, compilation and
# teardown come on top, estimated by OVERHEAD_S each.
BUDGET_S = {"gemm": 90, "grouped_gemm": 90, "attention": 50, "sparse_attention": 85,
            "elementwise": 35, "collectives": 75, "interference": 45}
QUICK_BUDGET_S = {"gemm": 12, "grouped_gemm": 10, "attention": 10, "sparse_attention": 25,
                  "elementwise": 8, "collectives": 15, "interference": 10}
OVERHEAD_S = 15
GRACE_S = 45  # after its budget, a family gets this long to finish its last measurement


def plan(families, time_limit, quick, gpus):
    """[(script, family list, budget seconds)]: one process per one-GPU family, one for the
    multi-GPU pair; budgets scaled down together when they would not fit time_limit."""
    base = QUICK_BUDGET_S if quick else BUDGET_S
    steps = [(f, [f]) for f in ONE_GPU if f in families]
    multi = [f for f in MULTI_GPU if f in families]
    if multi and gpus >= 2:
        steps.append(("collectives", multi))
    budgets = [sum(base[f] for f in fams) for _, fams in steps]
    room = time_limit - OVERHEAD_S * len(steps) - GRACE_S
    scale = min(1.0, room / sum(budgets)) if budgets and sum(budgets) > 0 else 1.0
    scale = max(scale, 0.1)
    return [(script, fams, b * scale) for (script, fams), b in zip(steps, budgets)]


def run_step(script, fams, budget, args, command, date, deadline_at):
    """Run one family script with its budget; TERM then KILL it if it overstays."""
    cmd = [sys.executable, os.path.join(HERE, script + ".py"), "--out", args.out,
           "--budget-s", f"{budget:.0f}", "--device", str(args.device), "--gpus", str(args.gpus),
           "--command", command, "--date", date]
    if args.quick:
        cmd.append("--quick")
    if script == "collectives":
        cmd += ["--families", ",".join(fams)]
    env = common.apply_safe_env(dict(os.environ))
    env["PYTHONUNBUFFERED"] = "1"
    hard = min(budget + OVERHEAD_S + GRACE_S, max(10.0, deadline_at - time.monotonic()))
    print(f"=== {','.join(fams)}: budget {budget:.0f} s, hard limit {hard:.0f} s", flush=True)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        rc = proc.wait(timeout=hard)
    except subprocess.TimeoutExpired:
        print(f"=== {','.join(fams)}: over its limit, sending SIGTERM", flush=True)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rc = proc.wait()
    print(f"=== {','.join(fams)}: exit {rc} after {time.monotonic() - t0:.0f} s", flush=True)
    return rc


def visible_gpus():
    """GPU count without initialising CUDA in this process (nvidia-smi -L), honouring CUDA_VISIBLE_DEVICES."""
    vis = os.environ.get("CUDA_VISIBLE_DEVICES")
    if vis is not None:
        return len([v for v in vis.split(",") if v.strip()])
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
        return len([l for l in out.splitlines() if l.startswith("GPU ")])
    except Exception:
        return 0


def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="base directory; tables go to OUT/<gpu-id>/")
    p.add_argument("--gpus", type=int, default=0, help="GPUs for collectives/interference (default: all visible)")
    p.add_argument("--quick", action="store_true", help="tiny grids: a smoke test of every family")
    p.add_argument("--families", default=",".join(common.FAMILIES),
                   help="comma-separated subset of: " + ",".join(common.FAMILIES))
    p.add_argument("--device", type=int, default=0, help="GPU index for the one-GPU families")
    p.add_argument("--time-limit", type=float, default=540.0,
                   help="seconds for the whole run; family budgets are scaled to fit")
    args = p.parse_args(argv)
    families = [f for f in args.families.split(",") if f]
    bad = [f for f in families if f not in common.FAMILIES]
    if bad:
        p.error(f"unknown families {bad}")
    if args.gpus <= 0:
        args.gpus = visible_gpus()
    command = shlex.join(["python3"] + [os.path.relpath(sys.argv[0]) if sys.argv[0].endswith(".py")
                                        else sys.argv[0]] + sys.argv[1:])
    date = common.utc_now_iso()
    start = time.monotonic()
    deadline_at = start + args.time_limit
    steps = plan(families, args.time_limit, args.quick, args.gpus)
    print(f"strata profiler: {len(steps)} steps, {args.gpus} GPU(s), time limit {args.time_limit:.0f} s, "
          f"{'quick' if args.quick else 'full'}", flush=True)
    if any(f in families for f in MULTI_GPU) and args.gpus < 2:
        print("=== collectives,interference: skipped, fewer than 2 GPUs", flush=True)
    results = {}
    for script, fams, budget in steps:
        left = deadline_at - time.monotonic()
        if left < 20:
            print(f"=== {','.join(fams)}: not run, only {left:.0f} s left of the time limit", flush=True)
            results[",".join(fams)] = "not run"
            continue
        budget = min(budget, max(5.0, left - OVERHEAD_S - GRACE_S))
        results[",".join(fams)] = run_step(script, fams, budget, args, command, date, deadline_at)
    print(f"strata profiler: finished in {time.monotonic() - start:.0f} s; exit codes {results}", flush=True)
    return 0 if all(v == 0 for v in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
