"""Where a run's host time goes around its collectives: each call timed where the runner
makes it, under switches of PyTorch's and NCCL's environment.

    python3 scripts/validate/host_probe.py PLAN.json --out PROBE.json [--seq 128] [--variants a,b]

For each variant the plan runs (run.py's Runner, a few iterations, at sequence --seq so
that the host bounds it) with every collective the runner calls through
`torch.distributed` timed on the host (perf_counter before and after the call, per kind
and per thread: the forward runs on the main thread, the backward on autograd's).  After
the iterations, in the same processes, three chains are timed on the tensor-parallel (or
expert-parallel) group: an all-reduce alone, back to back; an all-reduce after a matrix
product; the product alone. So a call's cost in a chain can be set beside its cost where
the runner makes it.

Variants ("base" is the runner as it is):
  base            nothing changed
  avoid-record    TORCH_NCCL_AVOID_RECORD_STREAMS=1 (no recordStream on the NCCL stream)
  no-recorder     TORCH_FR_BUFFER_SIZE=0 and TORCH_NCCL_TRACE_BUFFER_SIZE=0 (no flight recorder)
  no-monitor      TORCH_NCCL_ENABLE_MONITORING=0 and TORCH_NCCL_ASYNC_ERROR_HANDLING=0
  one-connection  CUDA_DEVICE_MAX_CONNECTIONS=1
  no-collectives  the runner's collectives return without calling NCCL (wrong numbers,
                  the host cost of everything else)
Rank 0 writes PROBE.json: per variant, the median host forward/backward seconds of an
iteration and the median microseconds per call by (kind, thread).
"""

import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import plan as planlib  # noqa: E402  (sets NCCL's multicast switches first)
from plan import common  # noqa: E402

common.apply_safe_env()

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

runner = common.validation_runner()  # this folder's run.py (scripts/profile/ has one too)

VARIANTS = {
    "base": {},
    "avoid-record": {"TORCH_NCCL_AVOID_RECORD_STREAMS": "1"},
    "no-recorder": {"TORCH_FR_BUFFER_SIZE": "0", "TORCH_NCCL_TRACE_BUFFER_SIZE": "0"},
    "no-monitor": {"TORCH_NCCL_ENABLE_MONITORING": "0", "TORCH_NCCL_ASYNC_ERROR_HANDLING": "0"},
    "one-connection": {"CUDA_DEVICE_MAX_CONNECTIONS": "1"},
    "no-collectives": {},
}
TIMED = ("all_reduce", "all_gather_into_tensor", "reduce_scatter_tensor", "all_to_all_single", "broadcast")


class TimedDistributed:
    """Stands in for `torch.distributed` inside run.py: the collectives in TIMED are timed
    per (name, thread) (or skipped, with `skip`); everything else passes through."""

    def __init__(self, real, skip):
        self._real, self._skip = real, skip
        self.calls = {}

    def __getattr__(self, name):
        attr = getattr(self._real, name)
        if name not in TIMED:
            return attr

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            out = None if self._skip else attr(*args, **kwargs)
            dt = time.perf_counter() - t0
            key = f"{name}/{'main' if threading.current_thread() is threading.main_thread() else 'autograd'}"
            self.calls.setdefault(key, []).append(dt)
            return out
        return timed


def synchronize():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def chain_us(pg, x, w, n, with_product):
    """Host microseconds per step of an n-step chain: all_reduce(x) alone, or after x @ w."""
    synchronize()
    dist.barrier(group=pg)
    synchronize()
    t0 = time.perf_counter()
    for _ in range(n):
        y = x @ w if with_product else x
        dist.all_reduce(y, group=pg)
    t1 = time.perf_counter()
    synchronize()
    return (t1 - t0) / n * 1e6


def product_us(x, w, n):
    synchronize()
    t0 = time.perf_counter()
    for _ in range(n):
        x @ w
    t1 = time.perf_counter()
    synchronize()
    return (t1 - t0) / n * 1e6


def worker(rank, world, plan, args, variant, queue):
    """One rank of one variant: run the plan with its collectives timed, then the chains;
    rank 0 puts every rank's figures on `queue`."""
    os.environ.update(VARIANTS[variant])  # before the process group reads them
    device, gloo = runner.join(rank, world, args.cpu)
    r = runner.Runner(plan, rank, device, gloo=gloo)
    timed = TimedDistributed(dist, skip=variant == "no-collectives")
    runner.dist = timed
    forward, backward, wall = [], [], []
    for it in range(args.warmup + args.iterations):
        if it == args.warmup:
            timed.calls.clear()
        synchronize()
        dist.barrier()
        synchronize()
        t0 = time.perf_counter()
        r.iteration()
        synchronize()
        if it >= args.warmup:
            wall.append(time.perf_counter() - t0)
            forward.append(r.host_forward_s)
            backward.append(r.host_backward_s)
    runner.dist = dist
    group = r.tp if r.tp.size > 1 else r.ep if r.ep.size > 1 else None
    chains = {}
    if group is not None and variant != "no-collectives":
        h = plan["model"]["hidden"]
        dtype = torch.float32 if gloo else torch.bfloat16  # gloo reduces no bf16
        x = torch.randn(args.seq * plan["training"]["micro_batch"], h, device=device, dtype=dtype)
        w = torch.randn(h, h, device=device, dtype=dtype) * 0.01
        for _ in range(2):  # warm-up, then timed
            chains = {"all_reduce alone": chain_us(group.pg, x, w, 64, False),
                      "product then all_reduce": chain_us(group.pg, x, w, 64, True),
                      "product alone": product_us(x, w, 64)}

    def median(values):
        return planlib.summarize(values)["median_s"]
    mine = {"forward_s": median(forward), "backward_s": median(backward), "iteration_s": median(wall),
            "calls": {k: {"count_per_iteration": len(v) / args.iterations, "median_us": median(v) * 1e6}
                      for k, v in sorted(timed.calls.items())},
            "chains_us": chains}
    everyone = [None] * world
    dist.all_gather_object(everyone, mine)
    if rank == 0:
        queue.put(everyone)
    dist.destroy_process_group()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("plan", help="plan JSON from `simulate export`")
    ap.add_argument("--out", required=True, help="result JSON (written after every variant)")
    ap.add_argument("--seq", type=int, default=128, help="sequence length to run the plan's model at (default 128)")
    ap.add_argument("--iterations", type=int, default=4, help="timed iterations per variant (default 4)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed iterations first (default 2)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, from: " + ", ".join(VARIANTS))
    ap.add_argument("--smoke", action="store_true", help="a small copy of the plan (plan.smoke)")
    ap.add_argument("--cpu", action="store_true", help="run on CPU with gloo (tests)")
    args = ap.parse_args(argv)
    if args.iterations < 1 or args.warmup < 0:  # as run.py: a rank divides by --iterations
        ap.error("--iterations must be at least 1 and --warmup at least 0")
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        ap.error(f"unknown variant {unknown[0]!r}; known: {', '.join(VARIANTS)}")
    plan = planlib.load_for_run(args.plan, args.smoke, args.seq)
    world = plan["gpus"]
    import torch.multiprocessing as mp
    ctx = mp.get_context("spawn")
    gpu = "cpu" if args.cpu else torch.cuda.get_device_name(0)
    results = {"plan": plan["strategy"], "seq": args.seq, "gpu": gpu, "variants": {}}
    for i, variant in enumerate(variants):
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(common.free_port()))
        queue = ctx.Queue()
        procs = [ctx.Process(target=worker, args=(r, world, plan, args, variant, queue)) for r in range(world)]
        for p in procs:
            p.start()
        everyone = common.first_result(queue, procs, f"host_probe.py: a rank of variant {variant}", timeout_s=600)
        for p in procs:
            p.join(timeout=60)
        results["variants"][variant] = everyone
        r0 = everyone[0]
        calls = ", ".join(f"{k} {v['median_us']:.0f} us x{v['count_per_iteration']:.0f}" for k, v in r0["calls"].items())
        chains = ", ".join(f"{k} {v:.0f} us" for k, v in r0["chains_us"].items())
        print(f"[probe] {plan['strategy']} seq {args.seq} {variant}: iteration {r0['iteration_s'] * 1e3:.1f} ms, "
              f"host forward {r0['forward_s'] * 1e3:.1f} ms, backward {r0['backward_s'] * 1e3:.1f} ms; "
              f"{calls}; {chains}", flush=True)
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
