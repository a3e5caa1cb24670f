"""Where a runner's host time goes inside one kind of op, from a profiled iteration.

    python3 scripts/validate/host_ops.py TRACE.json.gz _ReduceFromTP [--top 12]

TRACE is the `.trace.json.gz` that `run.py --profile` writes.  For every call of the named
CPU op (an autograd Function such as `_ReduceFromTP`, or an aten op), the events that
start inside it on the same thread (nested ops, CUDA runtime and driver calls, annotations)
are summed by name; the report gives the mean time per call of the op and of each of them.
It tells a host that is slow in the collective library from one slow in Python.
"""

import argparse
import collections
import gzip
import json
import sys


def nested_times(events, name):
    """(calls, mean duration of `name`, {(category, event name): mean µs per call})."""
    spans = [e for e in events if e.get("ph") == "X" and e.get("name") == name]
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and e.get("name") != name:
            by_thread[e.get("tid")].append(e)
    totals = collections.Counter()
    for span in spans:
        start, end = span["ts"], span["ts"] + span["dur"]
        for e in by_thread[span.get("tid")]:
            if start <= e["ts"] < end:
                totals[(e.get("cat"), e["name"])] += e["dur"]
    calls = len(spans)
    mean = sum(s["dur"] for s in spans) / calls if calls else 0.0
    return calls, mean, {key: total / calls for key, total in totals.items()} if calls else {}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace", help="a .trace.json.gz from run.py --profile")
    ap.add_argument("op", help="the CPU op to look inside, e.g. _ReduceFromTP")
    ap.add_argument("--top", type=int, default=12, help="nested events to list (default 12)")
    args = ap.parse_args(argv)
    try:
        events = read_events(args.trace)
    except TraceError as exc:
        print(exc, file=sys.stderr)
        return 2
    calls, mean, nested = nested_times(events, args.op)
    if not calls:
        print(f"{args.trace}: error: no CPU op named '{args.op}' in the trace; name one it has, "
              f"most calls first: {', '.join(cpu_ops(events)[:8])}", file=sys.stderr)
        return 2
    print(f"{args.op}: {calls} calls, {mean:.1f} us each")
    for (category, name), us in sorted(nested.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {us:8.1f} us  {category}  {name[:90]}")
    return 0


class TraceError(Exception):
    """A trace that cannot be read; the message says where and what to give instead."""


def read_events(path):
    """The events of a Chrome trace (gzipped, as run.py --profile writes it, or plain)."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt") as f:
            trace = json.load(f)
    except OSError as exc:
        raise TraceError(f"{path}: error: cannot read the trace: {exc.strerror or exc}; check the path") from None
    except json.JSONDecodeError as exc:
        raise TraceError(f"{path}:{exc.lineno}:{exc.colno}: error: not JSON ({exc.msg}); "
                         "give the .trace.json.gz that run.py --profile writes") from None
    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        raise TraceError(f"{path}:1:1: error: no traceEvents list, so not a Chrome trace; "
                         "give the .trace.json.gz that run.py --profile writes")
    return trace["traceEvents"]


def cpu_ops(events):
    """The names of the trace's CPU ops, most calls first (ties by name)."""
    counts = collections.Counter(e["name"] for e in events if e.get("ph") == "X" and e.get("cat") == "cpu_op")
    return [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


if __name__ == "__main__":
    sys.exit(main())
