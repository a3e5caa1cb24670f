#!/usr/bin/env python3
"""Check profiler tables against the format the Swift loader expects, and print headline figures.

    python3 scripts/profile/check.py traces/h100-sxm [more dirs...]

Checks, per CSV: every required '# key: value' line is present, the header
has the family's required columns, every row has as many cells as the
header, median/p10/p90 parse as positive numbers with p10 <= median <= p90,
and rows are in the deterministic order Table writes.  Exits non-zero on
any violation.  Needs no torch, so it runs anywhere.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402

REQUIRED = {
    "gemm.csv": ["m", "n", "k", "dtype", "impl", "median_us", "p10_us", "p90_us", "tflops"],
    "grouped_gemm.csv": ["experts", "topk", "tokens", "distribution", "m_total", "n", "k", "dtype", "impl",
                         "median_us", "p10_us", "p90_us"],
    "attention.csv": ["pass", "batch", "seq", "heads", "kv_heads", "head_dim", "dtype", "impl",
                      "median_us", "p10_us", "p90_us"],
    "sparse_attention.csv": ["pass", "seq", "density", "dtype", "impl", "median_us", "p10_us", "p90_us"],
    "elementwise.csv": ["op", "pass", "dtype", "impl", "bytes", "median_us", "p10_us", "p90_us"],
    "collectives.csv": ["op", "gpus", "group", "bytes", "dtype", "impl", "median_us", "p10_us", "p90_us",
                        "algbw_GBps", "busbw_GBps"],
    "interference.csv": ["gpus", "victim", "impl", "median_us", "p10_us", "p90_us", "slowdown"],
    "launch.csv": ["metric", "median_us", "p10_us", "p90_us", "ops_per_sample", "samples"],
    "host.csv": ["op", "pass", "bytes", "median_us", "p10_us", "p90_us", "chain_short", "chain_long", "samples"],
}


def check_file(path):
    """List of problems with one table (empty when it is well-formed)."""
    problems = []
    name = os.path.basename(path)
    meta, skipped, header, rows = common.read_table(path)
    for key in common.META_KEYS + ("units",):
        if key not in meta:
            problems.append(f"{name}: missing '# {key}:' line")
    if meta.get("units") not in (None, common.UNITS):
        problems.append(f"{name}: units line is {meta.get('units')!r}")
    for col in REQUIRED.get(name, ["impl", "median_us", "p10_us", "p90_us"]):
        if col not in header:
            problems.append(f"{name}: header lacks column {col}")
    with open(path) as f:
        data_lines = [l for l in f.read().splitlines() if l and not l.startswith("#")]
    for i, line in enumerate(data_lines[1:], start=2):
        if len(line.split(",")) != len(header):
            problems.append(f"{name}: data line {i} has {len(line.split(','))} cells, header {len(header)}")
    for i, r in enumerate(rows):
        try:
            med, p10, p90 = float(r["median_us"]), float(r["p10_us"]), float(r["p90_us"])
        except (KeyError, ValueError):
            problems.append(f"{name}: row {i} has non-numeric times {r}")
            continue
        # host.csv's figures are slopes between chains of two lengths, whose p10 can fall
        # below zero for a cheap op on a noisy host; its median must still be positive.
        if not (med > 0 and (name == "host.csv" or (p10 > 0 and p90 > 0))):
            problems.append(f"{name}: row {i} has non-positive time")
        if not (p10 <= med * (1 + 1e-9) and med <= p90 * (1 + 1e-9)):
            problems.append(f"{name}: row {i} has p10/median/p90 out of order ({p10}, {med}, {p90})")
    if header and "median_us" in header:
        keys = header[: header.index("median_us")]
        as_keys = [tuple(common._sort_key_part(r.get(c, "")) for c in keys) for r in rows]
        if as_keys != sorted(as_keys):
            problems.append(f"{name}: rows are not sorted by {keys}")
    return problems


def _rows(d, name):
    path = os.path.join(d, name)
    return common.read_table(path)[3] if os.path.exists(path) else []


def headlines(d):
    """A few figures a reader can compare with datasheets at a glance."""
    out = []
    for r in _rows(d, "gemm.csv"):
        if r["m"] == r["n"] == r["k"] == "8192":
            out.append(f"gemm 8192^3 {r['dtype']:9s} {float(r['tflops']):7.1f} TFLOP/s ({r['impl']})")
    best = {}
    for r in _rows(d, "gemm.csv"):
        best[r["dtype"]] = max(best.get(r["dtype"], 0.0), float(r["tflops"]))
    for k, v in sorted(best.items()):
        out.append(f"gemm best {k:9s} {v:7.1f} TFLOP/s")
    for r in _rows(d, "attention.csv"):
        if r["seq"] == "8192" and r["heads"] == "32" and r["kv_heads"] == "32" and r["head_dim"] == "128":
            out.append(f"attention s=8192 b={r['batch']} h=32 d=128 {r['impl']} {r['pass']}: "
                       f"{float(r['median_us']) / 1e3:.2f} ms, {float(r['tflops']):.0f} TFLOP/s")
    for r in _rows(d, "collectives.csv"):
        if r["bytes"] == str(1 << 30):
            out.append(f"{r['op']:14s} 1 GiB gpus={r['gpus']} {r['group']:10s} busbw {float(r['busbw_GBps']):6.1f} GB/s "
                       f"({float(r['median_us']) / 1e3:.2f} ms)")
    for r in _rows(d, "elementwise.csv"):
        if r["op"] == "copy_d2d" and r["numel"] == str(1 << 30):
            out.append(f"copy d2d 1 GiB: {float(r['GBps']):.0f} GB/s (read+write)")
        if r["op"] == "adamw" and r["numel"] == str(1 << 30):
            out.append(f"fused AdamW 1.07e9 params: {float(r['median_us']) / 1e3:.2f} ms, {float(r['GBps']):.0f} GB/s")
    for r in _rows(d, "interference.csv"):
        out.append(f"interference gpus={r['gpus']} gemm {r['gemm_m']}x{r['gemm_n']}x{r['gemm_k']} + all_reduce "
                   f"{int(r['coll_bytes']) >> 20} MiB: {r['victim']} slowdown x{float(r['slowdown']):.3f}")
    return out


def main(argv=None):
    dirs = (argv if argv is not None else sys.argv[1:]) or ["traces"]
    bad = 0
    for d in dirs:
        names = sorted(n for n in os.listdir(d) if n.endswith(".csv"))
        print(f"--- {d}: {len(names)} tables")
        for n in names:
            path = os.path.join(d, n)
            meta, skipped, header, rows = common.read_table(path)
            problems = check_file(path)
            bad += len(problems)
            flag = "ok" if not problems else f"{len(problems)} PROBLEMS"
            print(f"{n:22s} {len(rows):4d} rows, {len(skipped)} skipped-notes, {flag}"
                  + (f"; truncated: {meta['truncated']}" if "truncated" in meta else ""))
            for s in skipped:
                print(f"    skipped: {s}")
            for pr in problems[:10]:
                print(f"    {pr}")
        for h in headlines(d):
            print("  " + h)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
