#!/usr/bin/env python3
"""GPU time of a profiled runner iteration, by the autograd op that launched each kernel.

    python3 scripts/validate/attribute_kernels.py PATH.rank0.trace.json.gz [--top N]
    python3 scripts/validate/attribute_kernels.py PATH.rank0.trace.json.gz --list nvjet [--top N]

Reads the Chrome trace `run.py --profile PATH` writes and sums each kernel's (and each
copy's and memset's) GPU time under the op that launched it: the autograd node for backward
kernels (`MulBackward0`, `ScaledDotProductFlashAttentionBackward0`, ...), else the outermost
`aten::` op on the launching thread (`aten::linear > aten::addmm`). Kernel names alone do
not say which model op they belong to (`vectorized_elementwise_kernel` serves dozens); this
does, and is how docs/accuracy.md found RoPE, gradient accumulation and the fp32 loss.
With `--list NAME`, lists instead the first kernels whose name contains NAME, in the order
they ran, with each one's time: one layer's products one by one, to set beside the tables.
With `--kernels-of OP`, splits the GPU time of the op named OP (as the summary prints it)
by kernel name: which of an op's kernels are its own work and which are layout copies
around it (the flash backward's `ScaledDotProductFlashAttentionBackward0`, for one).
"""

import argparse
import collections
import sys

from host_ops import TraceError, read_events

GPU_CATEGORIES = ("kernel", "gpu_memcpy", "gpu_memset")
LAUNCH_CATEGORIES = ("cuda_runtime", "cuda_driver")


def attribute(events, within=None):
    """{launching op: (GPU microseconds, kernels)} for the complete ('X') events of a trace;
    with `within` (an op's name as keyed here), {kernel name: ...} of that op's kernels."""
    gpu_time = {e["args"].get("correlation"): e["dur"] for e in events if e.get("cat") in GPU_CATEGORIES}
    gpu_name = {e["args"].get("correlation"): e["name"] for e in events if e.get("cat") in GPU_CATEGORIES}
    ops_by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("cat") in ("cpu_op", "user_annotation"):
            ops_by_thread[e["tid"]].append((e["ts"], e["ts"] + e["dur"], e["name"]))
    totals = collections.defaultdict(lambda: [0.0, 0])
    for e in events:
        correlation = e.get("args", {}).get("correlation")
        if e.get("cat") not in LAUNCH_CATEGORIES or correlation not in gpu_time:
            continue
        enclosing = sorted((op for op in ops_by_thread[e["tid"]] if op[0] <= e["ts"] <= op[1]),
                           key=lambda op: (op[0], -op[1]))
        names = [op[2] for op in enclosing]
        backward = [n for n in names if n.startswith("autograd::engine")]
        if backward:
            key = backward[0].split(": ")[-1]
        elif len(names) > 1:
            key = names[0] + " > " + names[-1]
        else:
            key = names[0] if names else "?"
        if within is not None:
            if key != within:
                continue
            key = gpu_name[correlation]
        totals[key][0] += gpu_time[correlation]
        totals[key][1] += 1
    return totals


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace", help="PATH.rankR.trace.json.gz from run.py --profile PATH")
    parser.add_argument("--top", type=int, default=45, help="how many ops (or kernels) to list (default 45)")
    parser.add_argument("--list", metavar="NAME", help="list the kernels whose name contains NAME, in order")
    parser.add_argument("--kernels-of", metavar="OP", help="split the GPU time of the op OP by kernel name")
    args = parser.parse_args(argv)
    try:
        events = [e for e in read_events(args.trace) if e.get("ph") == "X"]
    except TraceError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.list:
        kernels = sorted((e for e in events if e.get("cat") == "kernel" and args.list in e["name"]), key=lambda e: e["ts"])
        for e in kernels[:args.top]:
            print(f"{e['dur']:9.1f} us  {e['name'][:100]}")
        return 0
    totals = attribute(events, args.kernels_of)
    if args.kernels_of and not totals:
        print(f"attribute_kernels.py: error: no kernel was launched by '{args.kernels_of}'; "
              "give an op's name as the summary (without --kernels-of) prints it", file=sys.stderr)
        return 2
    print(f"attributed GPU time {sum(t for t, _ in totals.values()) / 1e3:.2f} ms"
          + (f" of {args.kernels_of}" if args.kernels_of else ""))
    for name, (us, count) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:args.top]:
        print(f"{us / 1e3:8.2f} ms {count:6d}  {name[:120]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
