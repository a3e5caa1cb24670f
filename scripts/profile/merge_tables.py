#!/usr/bin/env python3
"""Merge several runs of one profiler table into one, keeping the least disturbed measurement.

    python3 scripts/profile/merge_tables.py --out traces/h100-sxm/collectives.csv \\
        traces/h100-sxm/runs/collectives-2026-11-27T17.csv traces/h100-sxm/runs/collectives-2026-11-27T21.csv

A shared machine's other work (another job's traffic, a clock dip) can only add
time to a measurement, so where two independent runs timed the same case the
faithful figure is the run with the smaller median.  Rows are keyed by every
column that is not a measurement (for collectives.csv: op, gpus, group, bytes,
dtype, impl); per key the whole row of the run with the smallest `median_us`
is kept as written (its p10, p90, bandwidths and sample count stay together),
ties going to the earlier input.  A key measured by only some runs keeps that
run's row.

The inputs must be the same family (identical header row), measured on the
same GPU (`# gpu:` line) with the same units; anything else is an error (exit
status 2).  The merged header is the first input's, with `date` listing every
input's date, `command` the merge command, and one `# merged_from:` line per
input giving its path, date and command, so the table says where each figure
could have come from.  Needs no torch.
"""

import argparse
import os
import shlex
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402

# Header facts that describe the software a run used; inputs that differ in one
# are still merged (the cases are the same), but the merged line lists each value.
SOFTWARE_KEYS = ("driver", "cuda", "torch", "nccl")


class MergeError(Exception):
    """Inputs that cannot be merged; the message says which file and what differs."""


def is_measurement(column):
    """True for a column a run measured or derived from its timings, false for a case's coordinates.

    Times end in `_us` (median, p10, p90, host and alone times), rates in `GBps`
    or are `tflops`, and `slowdown` and `samples` come from the timing too.
    Everything else (op, sizes, shapes, dtype, impl, ...) names the case.
    """
    return column.endswith("_us") or column.endswith("GBps") or column in ("tflops", "slowdown", "samples")


def key_columns(columns):
    """The columns that identify a case: every column that is not a measurement."""
    return [c for c in columns if not is_measurement(c)]


def read_run(path):
    """One input as (comments, header, rows): comments are (key, value) in file order, rows lists of cells.

    Cells are kept as the text written, so a kept row is copied byte for byte.
    """
    comments, header, rows = [], None, []
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise MergeError(f"{path}: cannot read: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            key, _, value = line[1:].strip().partition(":")
            comments.append((key.strip(), value.strip()))
            continue
        cells = line.split(",")
        if header is None:
            header = cells
        elif len(cells) != len(header):
            raise MergeError(f"{path}:{number}: this row has {len(cells)} cells but the header has {len(header)}")
        else:
            rows.append(cells)
    if header is None:
        raise MergeError(f"{path}: no header row; is it a table written by scripts/profile/run.py?")
    if "median_us" not in header:
        raise MergeError(f"{path}: the header has no median_us column, so runs cannot be compared")
    return comments, header, rows


def first(comments, key):
    """The first value of `key` among the comment lines, or None."""
    return next((v for k, v in comments if k == key), None)


def distinct(values):
    """The values in first-seen order without repeats."""
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def merge(runs, command):
    """Merge parsed runs [(path, (comments, header, rows)), ...] into the text of one table.

    Returns (text, kept) where kept[i] counts the rows taken from runs[i].
    Raises MergeError when the runs are not of one family and one GPU.
    """
    if len(runs) < 2:
        raise MergeError("give at least two tables to merge")
    path0, (comments0, header0, _) = runs[0]
    gpu0, units0 = first(comments0, "gpu"), first(comments0, "units")
    if gpu0 is None:
        raise MergeError(f"{path0}: no '# gpu:' line, so the GPU it was measured on is unknown")
    for path, (comments, header, _) in runs[1:]:
        if header != header0:
            raise MergeError(f"{path}: columns {','.join(header)} differ from {path0}'s {','.join(header0)}; "
                             "merge only runs of one table family")
        gpu = first(comments, "gpu")
        if gpu != gpu0:
            raise MergeError(f"{path}: measured on '{gpu}', but {path0} on '{gpu0}'; merge only runs of one GPU")
        if first(comments, "units") != units0:
            raise MergeError(f"{path}: units '{first(comments, 'units')}' differ from {path0}'s '{units0}'")

    keys = [header0.index(c) for c in key_columns(header0)]
    median = header0.index("median_us")
    best = {}  # key -> (median, run index, cells)
    for index, (path, (_, _, rows)) in enumerate(runs):
        seen = set()
        for cells in rows:
            key = tuple(cells[i] for i in keys)
            if key in seen:
                raise MergeError(f"{path}: two rows for {dict(zip(key_columns(header0), key))}; "
                                 "a run must measure each case once")
            seen.add(key)
            try:
                value = float(cells[median])
            except ValueError:
                raise MergeError(f"{path}: median_us '{cells[median]}' of {dict(zip(key_columns(header0), key))} "
                                 "is not a number") from None
            if key not in best or value < best[key][0]:
                best[key] = (value, index, cells)

    kept = [0] * len(runs)
    for _, index, _ in best.values():
        kept[index] += 1

    # The order Table writes: by every column left of median_us, numbers numerically.
    order = header0[:median]
    rows = sorted((cells for _, _, cells in best.values()),
                  key=lambda cells: tuple(common._sort_key_part(cells[header0.index(c)]) for c in order))

    facts = {}
    for key in common.META_KEYS:
        values = distinct(first(c, key) for _, (c, _, _) in runs if first(c, key) is not None)
        facts[key] = ", ".join(values) if values else "unknown"
    facts["gpu"] = gpu0
    counts = [first(c, "gpu_count") for _, (c, _, _) in runs]
    if all(n is not None and n.isdigit() for n in counts):
        facts["gpu_count"] = str(max(int(n) for n in counts))
    facts["command"] = command

    lines = [f"# {key}: {facts[key]}" for key in common.META_KEYS]
    lines.append(f"# units: {units0 or common.UNITS}")
    lines.append("# notes: merged runs; per case (" + ", ".join(key_columns(header0)) + ") the whole row of the run "
                 "with the smallest median_us (outside load only adds time); rows kept: "
                 + ", ".join(f"{n} from {os.path.basename(p)}" for n, (p, _) in zip(kept, runs)))
    for path, (comments, _, _) in runs:
        lines.append(f"# merged_from: {path}; date {first(comments, 'date') or 'unknown'}; "
                     f"command {first(comments, 'command') or 'unknown'}")
    # The runs' own remarks (skips, truncation, notes) still describe the cases they measured.
    standard = set(common.META_KEYS) | {"units"}
    extra = distinct((k, v) for _, (c, _, _) in runs for k, v in c if k not in standard)
    lines += [f"# {k}: {v}" for k, v in extra]
    lines.append(",".join(header0))
    lines += [",".join(cells) for cells in rows]
    return "\n".join(lines) + "\n", kept


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(
        description="Merge runs of one profiler table: per case, the whole row of the run with the smallest median.")
    p.add_argument("tables", nargs="+", help="two or more CSV tables of one family and one GPU")
    p.add_argument("--out", help="file to write (default: standard output)")
    args = p.parse_args(argv)
    command = " ".join(["python3", "scripts/profile/merge_tables.py"] + [shlex.quote(a) for a in argv])
    try:
        runs = [(path, read_run(path)) for path in args.tables]
        text, kept = merge(runs, command)
    except MergeError as exc:
        print(f"merge_tables.py: error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.out)
        print(f"{args.out}: {sum(kept)} rows; " + ", ".join(f"{n} from {path}" for n, (path, _) in zip(kept, runs)))
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
