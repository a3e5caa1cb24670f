#!/usr/bin/env python3
"""How far apart the hosts of one job's processes are. A data-parallel iteration is paced
by its slowest rank's host where that host is about a third slower than its peers'
(docs/accuracy.md, "Each rank its own host"), and the runs' ranks issued the same forward
up to 1.42x their median. This measures that spread apart from the runs: one process per
GPU, all at once, each timing host.py's LLaMA layer chain (the runner's own layer, behind a
busy GPU) in rounds that start together, and writes each process's median and, per round,
the slowest process over the median.

    python3 scripts/profile/host_spread.py --out spread.json [--processes N] [--rounds 11] [--cpus '0-3;32-35;...']
    python3 scripts/profile/host_spread.py --show spread.r1.json spread.r2.json ...

JSON: {"gpu", "processes", "rounds", "per_process": [{"fwd_us", "bwd_us"}], "slowest_over_median":
{"fwd", "bwd"} (of the processes' medians), "round_slowest_over_median": {"fwd": [...], "bwd":
[...]}}. Strata does not read it yet. --cpu runs the same on CPU processes (tests). --show
prints the lines a run printed from its saved JSON files (no torch needed).
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402  (the NCCL/NVSHMEM safety variables first)
import host  # noqa: E402


def slowest_over_median(values):
    """The largest of `values` over their median: how far the slowest process lags; None
    where the median is not positive (a slope lost in the host's noise)."""
    middle = common.percentile(values, 50)
    return max(values) / middle if middle > 0 else None


def layer_timer(cpu):
    """A function that times host.py's LLaMA layer (the runner's own) once in a chain behind
    a busy GPU, (forward us, backward us), on the current CUDA device or the CPU; its chain
    built and warmed up first, as host.py's own chains are."""
    host.DEVICE = "cpu" if cpu else "cuda"
    runner = common.validation_runner()
    blocks = host.runner_blocks(runner, "llama", host.alone(runner), host.LAYER_LONG)
    host.layer_slopes(blocks, 2, busy=False)  # warm-up
    busy = host.BusyGPU() if not cpu else False
    return lambda: host.layer_slopes(blocks, 1, busy)[0]


def layer_rounds(rounds, wait, cpu):
    """This process's host speed: [(forward us, backward us)] of host.py's LLaMA layer
    (`layer_timer`), one per round, each round started after `wait()` (a barrier with the
    other processes). run.py --host-speed times its ranks so after their iterations."""
    time_layer = layer_timer(cpu)
    samples = []
    for _ in range(rounds):
        wait()
        samples.append(time_layer())
    return samples


def parse_cpu_sets(text):
    """'0-1;32,33' -> [{0, 1}, {32, 33}]: one CPU set a process (`common.parse_cpulist`),
    ';' between them."""
    sets = [common.parse_cpulist(part) for part in text.split(";")]
    if not all(sets):
        raise ValueError(f"an empty CPU set in {text!r}")
    return sets


def process_rounds(index, rounds, barrier, queue, cpu, cpus=None):
    """One process: its GPU (or the CPU), pinned to `cpus` where given, then `rounds` timings
    of the runner's LLaMA layer chain, each started with every other process at `barrier`."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    import torch
    if not cpu:
        torch.cuda.set_device(index)
    queue.put((index, layer_rounds(rounds, barrier.wait, cpu)))


def collect(queue, procs, timeout_s):
    """{process index: samples} from every process, or None (with the reason printed) when
    one stopped without reporting or the time ran out."""
    import queue as queues
    import time
    results, deadline = {}, time.monotonic() + timeout_s
    while len(results) < len(procs):
        try:
            index, samples = queue.get(timeout=1.0)
            results[index] = samples
        except queues.Empty:
            failed = [p for p in procs if p.exitcode not in (None, 0)]
            if failed or time.monotonic() > deadline:
                print(f"host_spread.py: error: {'a process failed (see its traceback above)' if failed else 'no result in time'}",
                      file=sys.stderr)
                for p in procs:
                    p.terminate()
                return None
    for p in procs:
        p.join(timeout=60)
    return results


def summarize(per_process_samples):
    """The JSON's figures from each process's [(fwd us, bwd us)] per round (same count)."""
    per_process = [{"fwd_us": common.percentile([f for f, _ in s], 50), "bwd_us": common.percentile([b for _, b in s], 50)}
                   for s in per_process_samples]
    rounds = min(len(s) for s in per_process_samples)
    by_round = {p: [slowest_over_median([s[r][i] for s in per_process_samples]) for r in range(rounds)]
                for i, p in enumerate(("fwd", "bwd"))}
    return {"per_process": per_process,
            "slowest_over_median": {p: slowest_over_median([q[f"{p}_us"] for q in per_process]) for p in ("fwd", "bwd")},
            "round_slowest_over_median": by_round}


def report(out):
    """The lines a run prints: each process's medians, then the slowest over the median."""
    lines = [f"[spread] process {i}: layer {q['fwd_us']:.1f} us forward, {q['bwd_us']:.1f} us backward"
             for i, q in enumerate(out["per_process"])]
    s = {p: "-" if v is None else f"x{v:.3f}" for p, v in out["slowest_over_median"].items()}
    lines.append(f"[spread] slowest process over the median: forward {s['fwd']}, backward {s['bwd']}")
    return lines


def show(paths):
    """Print the report of each saved run; exit status 2 with a located error for a file
    that cannot be read or is not host_spread.py's JSON."""
    return common.show_saved(paths, report, "a host_spread.py result", "give a file its --out wrote")


def host_scale(path):
    """The factor for `simulate validate --host-scale` from a saved run: the larger of its
    forward and backward slowest-process-over-median figures, so that the prediction it
    prices is the slow end of a host-paced plan's range; ValueError where there is none."""
    with open(path) as f:
        figures = [v for v in json.load(f)["slowest_over_median"].values() if v]
    if not figures:
        raise ValueError("no slowest-over-median figure (every slope was noise)")
    return max(figures)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", nargs="+", metavar="JSON", help="print saved runs' figures and stop")
    ap.add_argument("--host-scale", metavar="JSON",
                    help="print the factor for simulate validate --host-scale from a saved run and stop")
    ap.add_argument("--out")
    ap.add_argument("--processes", type=int, default=None, help="default: one per visible GPU")
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--cpus", default="", metavar="SETS",
                    help="pin process i to the i-th of these ';'-separated CPU sets (for instance '0;16;32;48')")
    ap.add_argument("--cpu", action="store_true", help="processes on the CPU (tests)")
    args = ap.parse_args(argv)
    if args.show:
        return show(args.show)
    if args.host_scale:
        try:
            print(f"{host_scale(args.host_scale):.3f}")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            print(f"{args.host_scale}: error: no host scale in it ({exc}); give a file host_spread.py --out wrote",
                  file=sys.stderr)
            return 2
        return 0
    if not args.out:
        ap.error("give --out FILE to measure, or --show FILE... to print saved runs")
    if args.rounds < 1 or (args.processes is not None and args.processes < 2):
        print("host_spread.py: error: give at least 2 processes (--processes) and a round or more (--rounds)",
              file=sys.stderr)
        return 2
    import torch
    import torch.multiprocessing as mp
    count = args.processes or (2 if args.cpu else torch.cuda.device_count())
    if not args.cpu and not 2 <= count <= torch.cuda.device_count():
        print(f"host_spread.py: error: {count} processes over {torch.cuda.device_count()} GPUs; one process a GPU, "
              f"on a machine of 2 or more (or --cpu)", file=sys.stderr)
        return 2
    try:
        sets = parse_cpu_sets(args.cpus) if args.cpus else [None] * count
    except ValueError as exc:
        print(f"host_spread.py: error: --cpus: {exc}; give one set a process, such as '0;16;32;48'", file=sys.stderr)
        return 2
    if len(sets) != count or any(s and not s <= os.sched_getaffinity(0) for s in sets):
        print(f"host_spread.py: error: --cpus gives {len(sets)} sets for {count} processes, or CPUs this process may "
              f"not use; give one set a process from {sorted(os.sched_getaffinity(0))}", file=sys.stderr)
        return 2
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(count), ctx.Queue()
    procs = [ctx.Process(target=process_rounds, args=(i, args.rounds, barrier, queue, args.cpu, sets[i]))
             for i in range(count)]
    for p in procs:
        p.start()
    results = collect(queue, procs, timeout_s=600)
    if results is None:
        return 1
    summary = summarize([results[i] for i in range(count)])
    out = {"gpu": "cpu" if args.cpu else torch.cuda.get_device_name(0), "processes": count, "rounds": args.rounds,
           "cpus": [sorted(s) if s else None for s in sets], **summary}
    common.save_and_print(args.out, out, report(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
