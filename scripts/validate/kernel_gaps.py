#!/usr/bin/env python3
"""The GPU's idle time between consecutive kernels of a profiled iteration, split by whether
the next kernel was already queued: the lean timelines `run.py --profile PATH --profile-lean`
writes (PATH.rankR.timeline.json.gz).

    python3 scripts/validate/kernel_gaps.py \\
        traces/validation/h100-sxm/profiles/lean-2026-11-28T01-52/gpt-350m-base.rank0.timeline.json.gz

Per timeline: the GPU events, then the gaps where the next kernel's launch call had
returned before the previous event ended (the GPU's own front end between queued kernels:
count, total, median and p90), the gaps where it had not (the GPU waiting for the host:
count and total), and those before an event whose launch the profile did not match. With
`--spacing NAME`, also the time between the launches of successive kernels whose name
contains NAME: how fast the host issued, say, each micro-batch's forward (`gather`, the
embedding's kernel, on a pipeline's first stage). With `--launch-row`, only the row of
launch.csv Strata reads as the GPU's gap before each launch (`gpu_kernel_gap_training`: the
median over the timelines of each one's mean queued gap). With `--windows MS`, the time waiting for
the host in each MS-long window. With `--longest N`, the N longest waits
for the host, with when each began and the kernel after it. With `--micro-batches`, the
compute kernels (not NCCL's) cut at each micro-batch's embedding (`gather`) and at the
optimizer step's first multi-tensor kernel: per part, its kernels, their time, the gaps of
under 10 us between them (the GPU's front end, not a wait) and the NCCL time begun in it,
which sets a data-parallel rank's synchronised micro-batch beside the one before it. docs/accuracy.md sets the first beside what the tables hold. No torch.
Exit status 2 on unreadable input.
"""

import argparse
import collections
import gzip
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "profile"))
import common  # noqa: E402  (scripts/profile/common.py: percentiles as the tables report them)


class TimelineError(Exception):
    """A timeline that cannot be read: where, and what to give instead."""


def load(path):
    """The timeline's kernel names and its events, [start, duration, stream, name index,
    launch end] in microseconds, sorted by start."""
    try:
        with gzip.open(path, "rt") as f:
            timeline = json.load(f)
    except (OSError, EOFError) as exc:
        raise TimelineError(f"{path}: error: cannot read the timeline: {exc}; "
                            "give a PATH.rankR.timeline.json.gz that run.py --profile-lean wrote") from None
    except json.JSONDecodeError as exc:
        raise TimelineError(f"{path}:{exc.lineno}:{exc.colno}: error: not JSON ({exc.msg}); "
                            "give a PATH.rankR.timeline.json.gz that run.py --profile-lean wrote") from None
    if not isinstance(timeline, dict) or not isinstance(timeline.get("events"), list):
        raise TimelineError(f"{path}: error: no 'events' list; give a PATH.rankR.timeline.json.gz that run.py --profile-lean wrote")
    return timeline.get("names", []), sorted(timeline["events"])


def percentile(values, q):
    """common.percentile's q-th percentile (0..100), 0 for no values."""
    return common.percentile(values, q) if values else 0.0


def classified_gaps(events):
    """(kind, gap us, the earlier event's end us, the later event) for each positive gap
    between one event's end and the next one's start; kind says whether the next one's
    launch call had already returned ("queued") or not ("waiting", for the host), or
    "unknown" where the profile matched no launch call to it (cuBLAS's and NCCL's launches
    through the driver)."""
    for before, after in zip(events, events[1:]):
        end = before[0] + before[1]
        gap = after[0] - end
        if gap <= 0:
            continue
        launched = after[4]
        yield ("unknown" if launched is None else "queued" if launched < end else "waiting"), gap, end, after


def gaps(events):
    """(queued gaps, host-wait gaps, unknown gaps) in microseconds (`classified_gaps`)."""
    kinds = {"queued": [], "waiting": [], "unknown": []}
    for kind, gap, _, _ in classified_gaps(events):
        kinds[kind].append(gap)
    return kinds["queued"], kinds["waiting"], kinds["unknown"]


def longest_waits(names, events, count):
    """The `count` longest gaps waiting for the host, longest first: (gap ms, when it began
    in ms from the timeline's start, the name of the kernel the GPU waited for), so that
    where in the iteration the host fell behind can be read (the optimizer's step, say)."""
    waits = [(gap, end, after[3]) for kind, gap, end, after in classified_gaps(events) if kind == "waiting"]
    waits.sort(key=lambda w: -w[0])
    return [(gap / 1e3, end / 1e3, names[i] if 0 <= i < len(names) else "?") for gap, end, i in waits[:count]]


def waits_by_window(events, window_ms):
    """{window index: ms waiting for the host} over windows of `window_ms` from the
    timeline's start, by when each wait began: which phase of the iteration (a forward,
    the optimizer's step) the host held back."""
    out = collections.Counter()
    for kind, gap, end, _ in classified_gaps(events):
        if kind == "waiting":
            out[int(end / 1e3 // window_ms)] += gap / 1e3
    return dict(out)


def mean_queued_gap(events):
    """The mean gap (us) between a kernel's end and the next one's start where the next was
    already queued: the GPU's front end between a training step's own kernels."""
    queued, _, _ = gaps(events)
    return sum(queued) / len(queued) if queued else 0.0


def launch_row(means):
    """launch.csv's `gpu_kernel_gap_training` row from the timelines' mean queued gaps (us):
    their median, smallest and largest, in the table's columns (metric, median_us, p10_us,
    p90_us, ops_per_sample, samples)."""
    ordered = sorted(means)
    return (f"gpu_kernel_gap_training,{common.percentile(ordered, 50):.4f},{ordered[0]:.4f},"
            f"{ordered[-1]:.4f},1,{len(ordered)}")


def spacing(names, events, name):
    """Milliseconds between the launches of successive kernels whose name contains `name`
    (the embedding's gather starts each micro-batch's forward on a first stage)."""
    launches = [e[4] for e in events if e[4] is not None and 0 <= e[3] < len(names) and name in names[e[3]]]
    return [(b - a) / 1e3 for a, b in zip(launches, launches[1:])]


def micro_batches(names, events):
    """(label, kernels, busy us, short-gap us, NCCL us) per micro-batch and for the step:
    the compute kernels cut where the embedding's gather kernel starts each forward and
    where the first multi-tensor kernel (the optimizer step) starts; a gap of 10 us or more
    is a wait, not the front end, and is left out."""
    compute = [e for e in events if "nccl" not in names[e[3]]]
    nccl = [e for e in events if "nccl" in names[e[3]]]
    cuts = [e[0] for e in compute if "gather" in names[e[3]]]
    step = next((e[0] for e in compute if "multi_tensor_apply" in names[e[3]]), None)
    bounds = cuts + ([step] if step is not None else []) + [compute[-1][0] + compute[-1][1] + 1] if compute else []
    parts = []
    for j, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
        part = [e for e in compute if lo <= e[0] < hi]
        gaps = [b[0] - (a[0] + a[1]) for a, b in zip(part, part[1:])]
        short = [g for g in gaps if g < 10]
        label = f"micro-batch {j + 1}" if j < len(cuts) else "step"
        parts.append((label, len(part), sum(e[1] for e in part), sum(short),
                      sum(e[1] for e in nccl if lo <= e[0] < hi)))
    return parts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("timelines", nargs="+", help="PATH.rankR.timeline.json.gz files")
    parser.add_argument("--spacing", metavar="NAME",
                        help="also print the time between the launches of successive kernels whose name contains NAME")
    parser.add_argument("--longest", metavar="N", type=int, default=0,
                        help="also list the N longest gaps waiting for the host, with when they began and the kernel after")
    parser.add_argument("--launch-row", action="store_true",
                        help="print only launch.csv's gpu_kernel_gap_training row: the median over the timelines "
                             "of each one's mean gap between queued kernels")
    parser.add_argument("--windows", metavar="MS", type=float, default=0,
                        help="also print the time waiting for the host in each MS-long window from the start")
    parser.add_argument("--micro-batches", action="store_true",
                        help="also print, per micro-batch and for the optimizer step, the compute kernels, their time, "
                             "the short gaps between them and the NCCL time begun there")
    args = parser.parse_args(argv)
    try:
        if args.launch_row:
            print(launch_row([mean_queued_gap(load(path)[1]) for path in args.timelines]))
            return 0
        for path in args.timelines:
            names, events = load(path)
            if args.spacing:
                between = spacing(names, events, args.spacing)
                print(f"{path}: launches of '{args.spacing}' kernels every " + ", ".join(f"{ms:.2f}" for ms in between) + " ms")
            queued, waiting, unknown = gaps(events)
            print(f"{path}: {len(events)} GPU events; queued next: {len(queued)} gaps, {sum(queued) / 1e3:.1f} ms, "
                  f"median {percentile(queued, 50):.2f} us, p90 {percentile(queued, 90):.2f} us; "
                  f"waiting for the host: {len(waiting)} gaps, {sum(waiting) / 1e3:.1f} ms; "
                  f"launch not matched: {len(unknown)} gaps, {sum(unknown) / 1e3:.1f} ms")
            for ms, at, name in longest_waits(names, events, args.longest):
                print(f"  waited {ms:.2f} ms for the host at {at:.1f} ms, before {name}")
            if args.windows:
                windows = waits_by_window(events, args.windows)
                print("  waiting for the host by window: " + ", ".join(
                    f"{k * args.windows:g}-{(k + 1) * args.windows:g} ms {ms:.1f}" for k, ms in sorted(windows.items())))
            if args.micro_batches:
                for label, count, busy, short, nccl in micro_batches(names, events):
                    print(f"  {label}: {count} kernels, {busy / 1e3:.2f} ms, gaps under 10 us {short / 1e3:.2f} ms, "
                          f"NCCL {nccl / 1e3:.2f} ms")
    except TimelineError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
