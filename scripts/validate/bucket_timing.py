#!/usr/bin/env python3
"""How a data-parallel run's gradient buckets meet across its replicas: the `bucket_timing`
of a result `run.py --bucket-timing` wrote (per rank and timed iteration, the iteration's
start on the host's monotonic clock and each bucket's ready and all-reduce end, in ms from
that start, from CUDA events).

    python3 scripts/validate/bucket_timing.py RESULT.json [--buckets]

The ranks' clocks are one machine's, so their buckets line up in one time. For every timed
iteration it takes, per bucket: how far apart the replicas were when the bucket was ready
(the spread of its ready times), how long its all-reduce held each rank's GPU (from that
rank's ready to the end) and how long it took once the last replica was ready (the end
minus the latest ready: the collective itself, slowed or not by the compute beside it).
It prints the medians over iterations of the sums over buckets, the ranks' start skew,
and with `--buckets` the same per bucket. A held time far above the time after the last
ready is a replica waiting for a later one; the two near each other, and both above what
the collective costs alone, is the collective slowed by its neighbours. No torch. Exit
status 2 on unreadable input.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "profile"))
import common  # noqa: E402  (scripts/profile/common.py: reading JSON, percentiles as the tables report them)


class TimingError(Exception):
    """A result without readable bucket timings: where, and what to give instead."""


def load(path):
    """The result's `bucket_timing`: per rank, per iteration, {began_clock_s, buckets_ms}."""
    result = common.read_json(path, TimingError, "the result", "give a result of run.py --bucket-timing")
    ranks = result.get("bucket_timing") if isinstance(result, dict) else None
    if not ranks or len(ranks) < 2:
        raise TimingError(f"{path}: error: no bucket_timing of two or more ranks; "
                          "run the plan with run.py --bucket-timing")
    iterations = {len(r) for r in ranks}
    buckets = {len(it["buckets_ms"]) for r in ranks for it in r}
    if len(iterations) != 1 or len(buckets) != 1 or 0 in buckets:
        raise TimingError(f"{path}: error: the ranks timed different numbers of iterations or buckets "
                          f"({sorted(iterations)} iterations, {sorted(buckets)} buckets); time the run again")
    return ranks


def iteration_buckets(ranks, i):
    """Iteration i's buckets, each {ready: [ms per rank], done: [ms per rank]}, on one time
    whose zero is the earliest rank's start; and that start's spread over the ranks (ms)."""
    starts = [r[i]["began_clock_s"] for r in ranks]
    first = min(starts)
    offsets = [(s - first) * 1e3 for s in starts]
    count = len(ranks[0][i]["buckets_ms"])
    buckets = []
    for k in range(count):
        ready = [o + r[i]["buckets_ms"][k][0] for o, r in zip(offsets, ranks)]
        done = [o + r[i]["buckets_ms"][k][1] for o, r in zip(offsets, ranks)]
        buckets.append({"ready": ready, "done": done})
    return buckets, max(offsets)


def measures(bucket):
    """A bucket's ready spread, its longest and shortest hold of a rank's GPU, and its time
    after the last replica was ready (ms)."""
    held = [d - r for r, d in zip(bucket["ready"], bucket["done"])]
    return {"ready_spread": max(bucket["ready"]) - min(bucket["ready"]),
            "held_max": max(held), "held_min": min(held),
            "after_last_ready": max(bucket["done"]) - max(bucket["ready"])}


def summarize(ranks):
    """Medians over iterations: the start skew, the sums over buckets of each measure, each
    bucket's measures, and when (from the earliest rank's start) the last replica was ready
    with the first bucket and with the last, and when the last bucket was done: what a
    simulated iteration's `grad-sync` track sets beside them."""
    per_iteration, skews, spans = [], [], []
    for i in range(len(ranks[0])):
        buckets, skew = iteration_buckets(ranks, i)
        skews.append(skew)
        per_iteration.append([measures(b) for b in buckets])
        spans.append((max(buckets[0]["ready"]), max(buckets[-1]["ready"]), max(buckets[-1]["done"])))
    keys = ("ready_spread", "held_max", "held_min", "after_last_ready")
    med = lambda xs: common.percentile(sorted(xs), 50)  # noqa: E731
    totals = {k: med([sum(b[k] for b in it) for it in per_iteration]) for k in keys}
    per_bucket = [{k: med([it[j][k] for it in per_iteration]) for k in keys} for j in range(len(per_iteration[0]))]
    span = {k: med([s[j] for s in spans]) for j, k in enumerate(("first_ready", "last_ready", "last_done"))}
    return {"iterations": len(per_iteration), "ranks": len(ranks), "buckets": len(per_bucket),
            "start_skew_ms": med(skews), "totals_ms": totals, "per_bucket_ms": per_bucket, "span_ms": span}


def render(summary, path, buckets=False):
    t = summary["totals_ms"]
    lines = [f"{path}: {summary['ranks']} ranks, {summary['buckets']} buckets, medians of {summary['iterations']} iterations",
             f"  start skew {summary['start_skew_ms']:.3f} ms",
             f"  from the earliest start, the last replica ready with the first bucket at {summary['span_ms']['first_ready']:.3f} ms "
             f"and with the last at {summary['span_ms']['last_ready']:.3f} ms; the last bucket done at "
             f"{summary['span_ms']['last_done']:.3f} ms",
             f"  summed over buckets: ready spread {t['ready_spread']:.3f} ms, held {t['held_min']:.3f}-{t['held_max']:.3f} ms, "
             f"after the last ready {t['after_last_ready']:.3f} ms"]
    if buckets:
        lines.append("  bucket  ready spread  held (min-max)      after last ready")
        for k, b in enumerate(summary["per_bucket_ms"]):
            lines.append(f"  {k:6d}  {b['ready_spread']:9.3f} ms  {b['held_min']:7.3f}-{b['held_max']:7.3f} ms  "
                         f"{b['after_last_ready']:9.3f} ms")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("result", help="a result JSON of run.py --bucket-timing")
    ap.add_argument("--buckets", action="store_true", help="also each bucket's medians")
    args = ap.parse_args(argv)
    try:
        print(render(summarize(load(args.result)), args.result, args.buckets))
    except TimingError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
