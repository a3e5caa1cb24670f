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
    with gzip.open(args.trace) as f:
        events = json.load(f)["traceEvents"]
    calls, mean, nested = nested_times(events, args.op)
    if not calls:
        sys.exit(f"host_ops.py: no '{args.op}' in {args.trace}")
    print(f"{args.op}: {calls} calls, {mean:.1f} us each")
    for (category, name), us in sorted(nested.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {us:8.1f} us  {category}  {name[:90]}")


if __name__ == "__main__":
    main()
