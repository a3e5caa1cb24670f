#!/usr/bin/env python3
"""Which kernels a parallel run's rank adds to its share of the single-GPU run's: the
`by_name` kernel times of two profile summaries (`run.py --profile PATH`, PATH.rankR.json),
the second divided by how many ranks share its work.

    python3 scripts/validate/kernel_diff.py \\
        traces/validation/h100-sxm/profiles/lean-2026-11-28T01-52/llama-1b-fsdp4.rank0.json \\
        traces/validation/h100-sxm/profiles/lean-2026-11-28T01-52/llama-1b-base.rank0.json --share 4

Prints both runs' kernel time outside NCCL, then the kernels whose time grew most, with
their call counts: what the parallel layout launches that the single GPU does not (FSDP's
copies in and out of its collective buffers, for one), and what runs slower beside a
collective. A share is only a first cut: work every rank repeats (the optimizer step under
data parallelism, norms under tensor parallelism) shows up as added too. Exit status 2 on
unreadable input.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "profile"))
import common  # noqa: E402  (scripts/profile/common.py: reading JSON with located errors)


class SummaryError(Exception):
    """A profile summary that cannot be read: where, and what to give instead."""


def load(path):
    """{kernel name: (calls, microseconds)} of a profile summary."""
    summary = common.read_json(path, SummaryError, "the profile summary", "give a PATH.rankR.json that run.py --profile wrote")
    if not isinstance(summary, dict) or "by_name" not in summary:
        raise SummaryError(f"{path}: error: no 'by_name' kernel times; give a PATH.rankR.json that run.py --profile wrote")
    return {name: (entry["count"], entry["us"]) for name, entry in summary["by_name"].items()}


def added(run, base, share):
    """[(added microseconds, name, calls in run, calls in base / share)], most added first;
    NCCL's kernels left out (their time is communication, waiting included)."""
    rows = []
    for name in set(run) | set(base):
        if "nccl" in name.lower():
            continue
        calls, us = run.get(name, (0, 0.0))
        base_calls, base_us = base.get(name, (0, 0.0))
        rows.append((us - base_us / share, name, calls, base_calls / share))
    rows.sort(key=lambda row: (-row[0], row[1]))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="the parallel run's rank summary (PATH.rankR.json)")
    ap.add_argument("base", help="the single-GPU run's summary")
    ap.add_argument("--share", type=float, default=1.0, help="how many ranks share the base run's work (default 1)")
    ap.add_argument("--top", type=int, default=10, help="how many kernels to list (default 10)")
    args = ap.parse_args(argv)
    if args.share <= 0:
        ap.error("--share must be positive")
    try:
        run, base = load(args.run), load(args.base)
    except SummaryError as exc:
        print(exc, file=sys.stderr)
        return 2
    outside = lambda kernels: sum(us for name, (_, us) in kernels.items() if "nccl" not in name.lower())
    print(f"kernels outside NCCL: {outside(run) / 1e3:.2f} ms in the run, {outside(base) / 1e3 / args.share:.2f} ms "
          f"as the base's share (1/{args.share:g})")
    for us, name, calls, base_calls in added(run, base, args.share)[:args.top]:
        print(f"{us / 1e3:+9.2f} ms {calls:6d} calls ({base_calls:8.1f} in the share)  {name[:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
