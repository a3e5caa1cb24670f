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

`--keep middle` keeps instead one run whole: the run whose median_us summed over the cases
every run measured is the middle one (the lower of the two middle ones for an even count),
with its own remarks. It is for `host.csv`, whose costs scatter both ways with the process
that timed them (one host ran the same layer 1.6x slower than another beside it), so that
several launches of `host.py` give the typical process's; and whose rows are scaled by
ratios measured within the run (its `*_in_context` remarks), so that rows of different
runs must not be mixed.
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
    """Inputs that cannot be merged: where (file, line, column; no file for a wrong command
    line) and what differs, with what to do about it."""

    def __init__(self, message, path=None, line=1, column=1):
        super().__init__(message)
        self.message, self.path, self.line, self.column = message, path, line, column

    def __str__(self):
        if self.path is None:
            return f"merge_tables.py: error: {self.message}"
        return f"{self.path}:{self.line}:{self.column}: error: {self.message}"


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


class Run:
    """One input table: its comment lines as (key, value) in file order, its header and its
    rows (lists of cells, kept as the text written, so a kept row is copied byte for byte),
    and where each came from (line numbers; the column a comment's value starts at)."""

    def __init__(self, path):
        self.path = path
        self.comments, self.header, self.rows = [], None, []
        self.comment_at = {}  # key -> (line, column) of its first value
        self.header_line = 1
        self.row_lines = []

    def at(self, key):
        """(line, column) of the comment `key`'s value, or of the header when there is none."""
        return self.comment_at.get(key, (self.header_line, 1))


def read_run(path):
    """Read one input table (a Run)."""
    run = Run(path)
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise MergeError(f"cannot read the table: {exc.strerror or exc}; check the path", path) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            key, _, value = line[1:].strip().partition(":")
            key, value = key.strip(), value.strip()
            run.comments.append((key, value))
            run.comment_at.setdefault(key, (number, line.find(value) + 1 if value else len(line) + 1))
            continue
        cells = line.split(",")
        if run.header is None:
            run.header, run.header_line = cells, number
        elif len(cells) != len(run.header):
            raise MergeError(f"this row has {len(cells)} cells but the header has {len(run.header)}; "
                             "a table's rows must match its header", path, number)
        else:
            run.rows.append(cells)
            run.row_lines.append(number)
    if run.header is None:
        raise MergeError("no header row; give a table written by scripts/profile/run.py", path)
    if "median_us" not in run.header:
        raise MergeError("the header has no median_us column, so runs cannot be compared; "
                         "give tables written by scripts/profile/run.py", path, run.header_line)
    return run


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


KEEP = {"least": "per case (KEYS) the whole row of the run with the smallest median_us (outside load only adds time)",
        "middle": "one run whole, the one whose median_us summed over the cases every run measured is the middle "
                  "one (the lower middle for an even count; host costs scatter both ways with the process, and a "
                  "run's rows are scaled by ratios of its own)"}


def merge(runs, command, keep="least"):
    """Merge read runs [Run, ...] into the text of one table, keeping per case the row that
    `keep` names (a key of KEEP).

    Returns (text, kept) where kept[i] counts the rows taken from runs[i].
    Raises MergeError when the runs are not of one family and one GPU.
    """
    if len(runs) < 2:
        raise MergeError("give at least two tables to merge")
    run0 = runs[0]
    header0 = run0.header
    gpu0, units0 = first(run0.comments, "gpu"), first(run0.comments, "units")
    if gpu0 is None:
        raise MergeError("no '# gpu:' line, so the GPU it was measured on is unknown; "
                         "give tables written by scripts/profile/run.py", run0.path)
    for run in runs[1:]:
        if run.header != header0:
            raise MergeError(f"columns {','.join(run.header)} differ from {run0.path}'s {','.join(header0)}; "
                             "merge only runs of one table family", run.path, run.header_line)
        gpu = first(run.comments, "gpu")
        if gpu != gpu0:
            raise MergeError(f"measured on '{gpu}', but {run0.path} on '{gpu0}'; merge only runs of one GPU",
                             run.path, *run.at("gpu"))
        if first(run.comments, "units") != units0:
            raise MergeError(f"units '{first(run.comments, 'units')}' differ from {run0.path}'s '{units0}'; "
                             "merge only tables in the same units", run.path, *run.at("units"))

    names = key_columns(header0)
    keys = [header0.index(c) for c in names]
    median = header0.index("median_us")
    candidates = {}  # key -> [(median, run index, cells), ...] in run order
    for index, run in enumerate(runs):
        seen = {}
        for cells, number in zip(run.rows, run.row_lines):
            key = tuple(cells[i] for i in keys)
            case = dict(zip(names, key))
            if key in seen:
                raise MergeError(f"a second row for {case} (the first is on line {seen[key]}); "
                                 "a run must measure each case once", run.path, number)
            seen[key] = number
            try:
                value = float(cells[median])
            except ValueError:
                column = sum(len(c) + 1 for c in cells[:median]) + 1
                raise MergeError(f"median_us '{cells[median]}' of {case} is not a number; "
                                 "fix or remeasure the row", run.path, number, column) from None
            candidates.setdefault(key, []).append((value, index, cells))
    best = {}
    if keep == "middle":
        shared = [key for key, rows in candidates.items() if len(rows) == len(runs)]
        totals = [sum(value for key in shared for value, index, _ in candidates[key] if index == i) for i in range(len(runs))]
        chosen = sorted(range(len(runs)), key=lambda i: (totals[i], i))[(len(runs) - 1) // 2]
        best = {key: row for key, rows in candidates.items() for row in rows if row[1] == chosen}
    else:
        for key, rows in candidates.items():
            best[key] = min(rows, key=lambda row: (row[0], row[1]))

    kept = [0] * len(runs)
    for _, index, _ in best.values():
        kept[index] += 1

    # The order Table writes: by every column left of median_us, numbers numerically.
    rows = sorted((cells for _, _, cells in best.values()),
                  key=lambda cells: tuple(common._sort_key_part(c) for c in cells[:median]))

    facts = {}
    for key in common.META_KEYS:
        values = distinct(first(r.comments, key) for r in runs if first(r.comments, key) is not None)
        facts[key] = ", ".join(values) if values else "unknown"
    facts["gpu"] = gpu0
    counts = [first(r.comments, "gpu_count") for r in runs]
    if all(n is not None and n.isdigit() for n in counts):
        facts["gpu_count"] = str(max(int(n) for n in counts))
    facts["command"] = command

    lines = [f"# {key}: {facts[key]}" for key in common.META_KEYS]
    lines.append(f"# units: {units0 or common.UNITS}")
    # Each input by its file name, or by its path where two inputs share a name (host.py
    # writes every launch's table as GPU/host.csv).
    bases = [os.path.basename(r.path) for r in runs]
    shown = [r.path if bases.count(b) > 1 else b for r, b in zip(runs, bases)]
    lines.append("# notes: merged runs; " + KEEP[keep].replace("KEYS", ", ".join(names)) + "; rows kept: "
                 + ", ".join(f"{n} from {name}" for n, name in zip(kept, shown)))
    for r in runs:
        lines.append(f"# merged_from: {r.path}; date {first(r.comments, 'date') or 'unknown'}; "
                     f"command {first(r.comments, 'command') or 'unknown'}")
    # The runs' own remarks (skips, truncation, notes) still describe the cases they measured.
    standard = set(common.META_KEYS) | {"units"}
    remarking = [runs[chosen]] if keep == "middle" else runs  # a whole run keeps its own remarks
    extra = distinct((k, v) for r in remarking for k, v in r.comments if k not in standard)
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
    p.add_argument("--keep", choices=sorted(KEEP), default="least",
                   help="per case, the row with the smallest median (default), or the middle run whole")
    args = p.parse_args(argv)
    command = " ".join(["python3", "scripts/profile/merge_tables.py"] + [shlex.quote(a) for a in argv])
    try:
        runs = [read_run(path) for path in args.tables]
        text, kept = merge(runs, command, args.keep)
    except MergeError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.out)
        print(f"{args.out}: {sum(kept)} rows; " + ", ".join(f"{n} from {r.path}" for n, r in zip(kept, runs)))
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
