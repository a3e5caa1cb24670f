#!/usr/bin/env python3
"""What Strata's simulated iteration spent on its compute stream, op by op: the tasks of
GPU 0's `compute` thread in a trace `simulate run … --trace FILE` wrote, grouped by op
(layer indices dropped, so a model's 24 layers make one line) and pass, with their count,
total and mean, and the total of those shown.

    python3 scripts/validate/trace_tasks.py FILE [--match WORD] [--gpu N] [--span STREAM]

`--span grad-sync` prints instead when a stream's first and last tasks began and when it
was done (docs/accuracy.md sets a data-parallel run's beside bucket_timing.py's).
`--match recompute` keeps the tasks whose name holds the word (a pass such as `recompute`
or `backward`, an op such as `optimizer`): how docs/accuracy.md sums Strata's recompute and
optimizer. `--memory-after "loss forward"` prints instead the GPU's allocated memory once
each task whose name holds the words has ended (its frees done, before what starts at that
instant allocates): after the loss's forward, the figure to set beside run.py's
`allocated_after_forward_bytes`; `--peak` the GPU's highest sample, beside run.py's
`peak_allocated_bytes`. Needs no torch. Exit status 2 on a file that cannot be read.
"""

import argparse
import collections
import json
import re
import sys


class TraceError(Exception):
    """A trace that cannot be read: where, and what to give instead."""


def compute_tasks(path, gpu=0):
    """[(name, microseconds)] of GPU `gpu`'s compute-thread tasks in a Perfetto trace."""
    return [(name, dur) for name, _, dur in thread_tasks(path, gpu, "compute")]


def trace_events(path):
    """The events of a Perfetto trace `simulate run --trace` wrote; TraceError where the
    file cannot be read or is not such a trace."""
    try:
        with open(path) as f:
            return json.load(f)["traceEvents"]
    except OSError as exc:
        raise TraceError(f"{path}: error: cannot read the trace: {exc.strerror}; give the FILE of "
                         "`simulate run … --trace FILE`") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise TraceError(f"{path}: error: not a trace `simulate run --trace` wrote ({exc}); write one "
                         "with `simulate run STRATEGY --trace FILE`") from None


def thread_tasks(path, gpu=0, thread="compute"):
    """[(name, start us, microseconds)] of the tasks on GPU `gpu`'s thread named `thread`
    (a stream: compute, grad-sync, tp-comm, …) in a Perfetto trace."""
    events = trace_events(path)
    threads = {e["tid"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"
               and e.get("pid") == gpu and e["args"].get("name") == thread}
    return [(e["name"], e["ts"], e["dur"]) for e in events
            if e.get("ph") == "X" and e.get("pid") == gpu and e.get("tid") in threads]


def memory_samples(path, gpu=0):
    """[(us, GiB)] of GPU `gpu`'s memory counter in a Perfetto trace, in the trace's order
    (at one instant, a task's frees come before the next task's allocations)."""
    return [(e["ts"], e["args"]["GiB"]) for e in trace_events(path)
            if e.get("ph") == "C" and e.get("name") == "memory" and e.get("pid") == gpu]


def memory_after(tasks, samples, words):
    """[(task name, GiB)]: for each of `tasks` (`thread_tasks`) whose name holds `words`,
    the memory once it has ended: the least sample at its end (its frees, before what starts
    at that instant allocates), or the last before it where none falls there."""
    out = []
    for name, start, dur in tasks:
        if words not in name:
            continue
        end = start + dur  # the trace rounds each time to a nanosecond: an instant is within 2 ns
        at_end = [g for t, g in samples if abs(t - end) < 2e-3]
        before = [g for t, g in samples if t <= end + 2e-3]
        if at_end or before:
            out.append((name, min(at_end) if at_end else before[-1]))
    return out


def span(tasks):
    """(count, first start, last start, last end) of `thread_tasks`, in microseconds: when a
    stream's first and last tasks began and when it was done, as bucket_timing.py reads a
    run's gradient buckets."""
    return (len(tasks), min(t for _, t, _ in tasks), max(t for _, t, _ in tasks),
            max(t + d for _, t, d in tasks)) if tasks else (0, 0.0, 0.0, 0.0)


def by_op(tasks, match=None):
    """{(op, pass): (count, microseconds)} of `tasks` whose name holds the word `match`; the
    op with its layer index dropped, the pass the name's second word."""
    out = collections.defaultdict(lambda: [0, 0.0])
    for name, us in tasks:
        words = name.split(" ")
        if match is not None and match not in words:
            continue
        op = re.sub(r"layers\[\d+\]\.", "", words[0])
        key = (op, words[1] if len(words) > 1 else "")
        out[key][0] += 1
        out[key][1] += us
    return {k: tuple(v) for k, v in out.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--match", default=None, help="only the tasks whose name holds this word")
    ap.add_argument("--gpu", type=int, default=0, help="the GPU (the trace's process) to read (default 0)")
    ap.add_argument("--span", metavar="STREAM", default=None,
                    help="instead, when the tasks of a stream (grad-sync, tp-comm, …) began and ended")
    ap.add_argument("--memory-after", metavar="WORDS", default=None,
                    help='instead, the memory once each compute task whose name holds WORDS ("loss forward") has ended')
    ap.add_argument("--peak", action="store_true",
                    help="instead, the GPU's highest memory sample and when it fell (beside run.py's peak_allocated_bytes)")
    args = ap.parse_args(argv)
    try:
        if args.peak:
            samples = memory_samples(args.trace, args.gpu)
            if not samples:
                print(f"{args.trace}: error: no memory samples for GPU {args.gpu}; give a GPU the trace simulated "
                      "(folded runs hold one a class; --exact holds all)", file=sys.stderr)
                return 2
            at, gib = max(samples, key=lambda s: (s[1], -s[0]))
            print(f"GPU {args.gpu}: peak {gib:.3f} GiB at {at / 1e3:.3f} ms")
            return 0
        if args.memory_after:
            points = memory_after(thread_tasks(args.trace, args.gpu, "compute"), memory_samples(args.trace, args.gpu),
                                  args.memory_after)
            for name, gib in points:
                print(f"{name}: {gib:.3f} GiB allocated after it")
            if points:
                print(f"most: {max(g for _, g in points):.3f} GiB")
            return 0
        if args.span:
            count, first, last, end = span(thread_tasks(args.trace, args.gpu, args.span))
            print(f"{args.span}: {count} tasks, the first began at {first / 1e3:.3f} ms and the last at "
                  f"{last / 1e3:.3f} ms, done at {end / 1e3:.3f} ms")
            return 0
        tasks = compute_tasks(args.trace, args.gpu)
    except TraceError as exc:
        print(exc, file=sys.stderr)
        return 2
    groups = by_op(tasks, args.match)
    for (op, pass_name), (count, us) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        print(f"{op:32s} {pass_name:10s} {us / 1e3:10.3f} ms {count:6d} tasks {us / count:10.1f} us each")
    print(f"total {sum(us for _, us in groups.values()) / 1e3:.3f} ms over {sum(c for c, _ in groups.values())} tasks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
