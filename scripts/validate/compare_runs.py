"""How much one set of validation measurements moved against another, plan by plan.

    python3 scripts/validate/compare_runs.py traces/validation/h100-sxm/rerun-2026-11-27T22-15 \
        traces/validation/h100-sxm/rerun-2026-11-27T22-02 traces/validation/h100-sxm

Each argument is a folder with a `measurements.csv` (run_all.py writes one), or a folder
or glob of run.py's result files (`*.json` with a `median_s`, named after their plan up to
the first dot); the first is the reference. For every plan measured in the reference,
prints its iteration time there and, for each other source, the relative change
((other - reference) / reference), or with `--ms` the other's time. Needs no torch.

    python3 scripts/validate/compare_runs.py --ms traces/validation/h100-sxm \
        'traces/validation/h100-sxm/bind-cpus-2026-11-28T01-58/*.r1.json'
"""

import argparse
import csv
import glob
import json
import os
import sys


class SourceError(Exception):
    """A source with no measurements to read: where, and what to give instead."""


def read_times(source):
    """{plan: iteration seconds} of `source`: a folder's measurements.csv, else the run.py
    result files of a folder or a glob."""
    path = os.path.join(source, "measurements.csv")
    is_glob = any(c in source for c in "*?[")
    if os.path.exists(path) or not (is_glob or os.path.isdir(source)):
        try:
            with open(path) as f:
                rows = csv.DictReader(line for line in f if not line.startswith("#"))
                return {row["strategy"]: float(row["iteration_time_s"]) for row in rows}
        except OSError as exc:
            raise SourceError(f"{path}: error: cannot read: {exc.strerror or exc}; give a folder run_all.py wrote") from None
        except (KeyError, ValueError) as exc:
            raise SourceError(f"{path}: error: no strategy and numeric iteration_time_s columns ({exc}); "
                             "give a measurements.csv run_all.py wrote") from None
    times = {}
    for result in sorted(glob.glob(os.path.join(source, "*.json") if os.path.isdir(source) else source)):
        try:
            with open(result) as f:
                seconds = json.load(f).get("median_s")
        except (OSError, ValueError, AttributeError):
            continue  # not a result file (a profile summary, a status file)
        if isinstance(seconds, (int, float)):
            times[os.path.basename(result).split(".")[0]] = float(seconds)
    if not times:
        raise SourceError(f"{source}: error: no measurements.csv and no run.py result files (*.json with median_s); "
                         "give a folder run_all.py wrote, or a folder or glob of run.py results")
    return times


def label(source):
    """A column's name: the folder, or the glob's folder and pattern."""
    source = os.path.normpath(source)
    if os.path.isdir(source):
        return os.path.basename(source)
    return os.path.join(os.path.basename(os.path.dirname(source)), os.path.basename(source))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference", help="folder with the reference measurements.csv (or run.py results)")
    ap.add_argument("others", nargs="+", help="folders or globs of run.py results to compare with it")
    ap.add_argument("--ms", action="store_true", help="print the others' times, not their change")
    args = ap.parse_args(argv)
    try:
        reference = read_times(args.reference)
        others = [(label(source), read_times(source)) for source in args.others]
    except SourceError as exc:
        print(exc, file=sys.stderr)
        return 2
    widths = [max(26, len(name) + 2) for name, _ in others]
    print("strategy".ljust(20) + "reference".rjust(12) + "".join(name.rjust(w) for (name, _), w in zip(others, widths)))
    for strategy, seconds in sorted(reference.items()):
        if args.ms:
            cells = [f"{times[strategy] * 1e3:.1f} ms" if strategy in times else "-" for _, times in others]
        else:
            cells = [f"{(times[strategy] / seconds - 1) * 100:+.1f} %" if strategy in times else "-" for _, times in others]
        print(strategy.ljust(20) + f"{seconds * 1e3:9.1f} ms" + "".join(c.rjust(w) for c, w in zip(cells, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
