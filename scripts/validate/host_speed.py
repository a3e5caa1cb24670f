#!/usr/bin/env python3
"""Does a launch's host time follow its processes' host speed? Reads run.py results written
with --host-speed (each rank's `host_layer_us`: host.py's LLaMA layer chain timed in that
rank's own process after its iterations) and prints, per result, the iteration, each
rank's forward host time and layer timing, and whether the rank slowest to issue its
forward is the one whose layer timed slowest. No torch.

    python3 scripts/validate/host_speed.py traces/validation/h200-sxm/host-speed-2026-11-28T17-01/*.json

Exit status 2 on a file that cannot be read or lacks host_layer_us.
"""

import argparse
import json
import sys


def summary(path, result):
    """One line for a result: its median, per rank forward host ms and layer forward us, and
    whether the slowest forward rank is the slowest layer rank (always for one rank)."""
    forward = result["host_forward_s"]
    layer = [pair[0] for pair in result["host_layer_us"]]
    if len(layer) != len(forward):
        raise ValueError(f"{len(layer)} host_layer_us entries for {len(forward)} ranks")
    slowest_issue = max(range(len(forward)), key=lambda r: forward[r])
    slowest_layer = max(range(len(layer)), key=lambda r: layer[r])
    same = "yes" if slowest_issue == slowest_layer else "no"
    ranks = ", ".join(f"{f * 1e3:.1f} ms / {l:.0f} us" for f, l in zip(forward, layer))
    return f"{path}: {result['median_s'] * 1e3:.1f} ms; forward host / layer per rank: {ranks}; slowest the same: {same}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="+", help="run.py result files written with --host-speed")
    args = ap.parse_args(argv)
    lines = []
    for path in args.results:
        try:
            with open(path) as f:
                lines.append(summary(path, json.load(f)))
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            print(f"{path}: error: not a run.py result with host_layer_us ({exc}); run the plan with run.py --host-speed N",
                  file=sys.stderr)
            return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
