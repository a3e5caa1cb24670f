#!/usr/bin/env python3
"""How well Strata prices a GPU it has no tables for: every row of that GPU's measured
tables against `simulate cost` on its topology, whose kernels are then priced by another
GPU's efficiencies on this GPU's roofline (docs/cost-model.md, "GPUs without tables").

    python3 scripts/validate/transfer_check.py traces/h200-sxm/runs --suffix=-2026-11-28T04-11 \\
        --topology topologies/h200-sxm-4gpu.xml [--from traces/h100-sxm]

Reads gemm, attention and elementwise tables (`gemm<suffix>.csv` and so on) written by
scripts/profile/ on the GPU under test, and prices each row with `simulate cost` given
only the tables of the GPU to transfer from (`--from`, default traces/h100-sxm, in a
scratch folder of its own: where the GPU under test has tables of its own, as the H200 does
in traces/h200-sxm, Strata would price it measured and there would be nothing to test). Prints per family, precision or pass: rows priced, median and p90 of |error|, and
the mean signed error, with error = (predicted - measured) / measured; rows `simulate
cost` has no op for (copies, RoPE, softmax, gradient accumulation), attention rows of
other implementations than FlashAttention (what Strata prices) and precisions the
topology's GPU has no peak for are counted as skipped, with the reason. Exit status 2 on
unreadable input.
"""

import argparse
import collections
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "profile"))
import common  # noqa: E402  (scripts/profile/common.py: percentiles as the tables report them)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PASSES = {"fwd": "forward", "bwd": "backward"}
# elementwise.csv op -> (simulate cost op, the dimension columns it takes as keys)
ELEMENTWISE = {
    "layer_norm": ("layer_norm", ("tokens", "hidden")),
    "rms_norm": ("rms_norm", ("tokens", "hidden")),
    "gelu": ("gelu", ("tokens", "hidden")),
    "swiglu": ("swiglu", ("tokens", "hidden")),
    "cross_entropy": ("cross_entropy", ("tokens", "vocab")),
    "embedding": ("embedding", ("tokens", "hidden", "vocab")),
}


class CheckError(Exception):
    """Input that cannot be checked: where and what to give instead."""


def read_table(path):
    """The data rows of a profiler CSV as dicts (`common.read_table`)."""
    try:
        _, _, _, rows = common.read_table(path)
    except OSError as exc:
        raise CheckError(f"{path}: error: cannot read the table: {exc.strerror}; check the path and --suffix") from None
    if not rows:
        raise CheckError(f"{path}: error: no rows; give a table scripts/profile/ wrote")
    return rows


def cost_query(family, row):
    """(group label, `simulate cost` arguments) for one measured row, or (None, reason)
    where Strata has no such op or the row is not what Strata prices."""
    if family == "gemm":
        args = ["gemm", f"m={row['m']}", f"n={row['n']}", f"k={row['k']}", f"dtype={row['dtype']}"]
        return f"gemm {row['dtype']}", args
    if family == "attention":
        if row["impl"] != "sdpa-flash":
            return None, f"attention {row['impl']} (Strata prices FlashAttention)"
        args = ["attention", f"batch={row['batch']}", f"heads={row['heads']}", f"kv_heads={row['kv_heads']}",
                f"seq={row['seq']}", f"head_dim={row['head_dim']}",
                f"causal={'true' if row['causal'] in ('1', 'true') else 'false'}", f"pass={PASSES[row['pass']]}"]
        return f"attention {row['pass']}", args
    op, pass_ = row["op"], row["pass"]
    if op == "adamw":
        return "adamw step", ["adamw", f"parameters={row['numel']}"]
    if op not in ELEMENTWISE:
        return None, f"{op} (no simulate cost op)"
    name, keys = ELEMENTWISE[op]
    return f"{op} {pass_}", [name] + [f"{k}={row[k]}" for k in keys] + [f"pass={PASSES[pass_]}"]


def predict(simulate, topology, traces, args):
    """Strata's time for one op in seconds, or (None, its error line), priced from the
    tables under `traces` alone."""
    done = subprocess.run([simulate, "cost", *args, "--topology", topology, "--traces", traces, "--json"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return None, (done.stderr.strip().splitlines() or ["simulate cost failed"])[0]
    answer = json.loads(done.stdout)
    return answer["seconds"], answer["costs"]


def check(folder, suffix, topology, simulate, source, jobs=4):
    """{group: [errors]}, {reason: count}, the cost models `simulate cost` reported, with
    the tables of the GPU folder `source` as the only ones Strata sees."""
    if not os.path.isfile(os.path.join(source, "gemm.csv")):
        raise CheckError(f"{source}: error: no gemm.csv there; give --from a GPU folder of tables, such as traces/h100-sxm")
    queries, skipped = [], collections.Counter()
    for family in ("gemm", "attention", "elementwise"):
        for row in read_table(os.path.join(folder, f"{family}{suffix}.csv")):
            group, args = cost_query(family, row)
            if group is None:
                skipped[args] += 1
            else:
                queries.append((group, args, float(row["median_us"]) * 1e-6))
    errors, models = collections.defaultdict(list), collections.Counter()
    with tempfile.TemporaryDirectory() as only, concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        link = os.path.join(only, os.path.basename(os.path.normpath(source)))
        os.symlink(os.path.abspath(source), link)
        answers = list(pool.map(lambda q: predict(simulate, topology, only, q[1]), queries))
        for (group, _, measured), (seconds, note) in zip(queries, answers):
            note = note.replace(link, os.path.relpath(source))  # the folder given, not the scratch one
            if seconds is None:
                skipped[f"{group}: {note}"] += 1
                continue
            models[note] += 1
            errors[group].append((seconds - measured) / measured)
    return errors, skipped, models


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", help="the folder of the GPU's measured tables (not one Strata loads)")
    ap.add_argument("--suffix", default="", help="the tables' name suffix, as in gemm<suffix>.csv")
    ap.add_argument("--topology", required=True, help="a topology whose GPU is the measured one")
    ap.add_argument("--from", dest="source", default=os.path.join(ROOT, "traces", "h100-sxm"),
                    help="the GPU folder of tables to transfer from (default traces/h100-sxm)")
    ap.add_argument("--simulate", default=os.environ.get("SIMULATE", ".build/release/simulate"),
                    help="the simulate executable (default $SIMULATE or .build/release/simulate)")
    args = ap.parse_args(argv)
    try:
        errors, skipped, models = check(args.folder, args.suffix, args.topology, args.simulate, args.source)
    except CheckError as exc:
        print(exc, file=sys.stderr)
        return 2
    print("priced by: " + "; ".join(f"{m} ({n} rows)" for m, n in sorted(models.items())))
    print(f"{'family':<22} {'rows':>5} {'median |err|':>13} {'p90 |err|':>10} {'mean err':>9}")
    for group in sorted(errors):
        e = errors[group]
        a = [abs(x) for x in e]
        print(f"{group:<22} {len(e):>5} {common.percentile(a, 50) * 100:>12.1f}% {common.percentile(a, 90) * 100:>9.1f}% "
              f"{100 * sum(e) / len(e):>+8.1f}%")
    for reason, n in sorted(skipped.items()):
        print(f"skipped {n:>4}: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
