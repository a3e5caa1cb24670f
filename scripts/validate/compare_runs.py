"""How much one set of validation measurements moved against another, plan by plan.

    python3 scripts/validate/compare_runs.py traces/validation/h100-sxm/rerun-2026-11-27T22-15 \
        traces/validation/h100-sxm/rerun-2026-11-27T22-02 traces/validation/h100-sxm

Each argument is a folder with a `measurements.csv` (run_all.py writes one); the first is
the reference. For every plan measured in the reference, prints its iteration time there
and, for each other folder, the relative change ((other - reference) / reference). Needs
no torch.
"""

import argparse
import csv
import os
import sys


def read_times(folder):
    """{strategy: iteration seconds} of `folder`/measurements.csv."""
    path = os.path.join(folder, "measurements.csv")
    try:
        with open(path) as f:
            rows = csv.DictReader(line for line in f if not line.startswith("#"))
            return {row["strategy"]: float(row["iteration_time_s"]) for row in rows}
    except OSError as exc:
        raise SystemExit(f"{path}: error: cannot read: {exc.strerror or exc}; give a folder run_all.py wrote") from None
    except (KeyError, ValueError) as exc:
        raise SystemExit(f"{path}: error: no strategy and numeric iteration_time_s columns ({exc}); "
                         "give a measurements.csv run_all.py wrote") from None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference", help="folder with the reference measurements.csv")
    ap.add_argument("others", nargs="+", help="folders to compare with it")
    args = ap.parse_args(argv)
    reference = read_times(args.reference)
    others = [(folder, read_times(folder)) for folder in args.others]
    print("strategy".ljust(20) + "reference".rjust(12) + "".join(os.path.basename(os.path.normpath(f)).rjust(26)
                                                                 for f, _ in others))
    for strategy, seconds in sorted(reference.items()):
        cells = [f"{(times[strategy] / seconds - 1) * 100:+.1f} %" if strategy in times else "-" for _, times in others]
        print(strategy.ljust(20) + f"{seconds * 1e3:9.1f} ms" + "".join(c.rjust(26) for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
