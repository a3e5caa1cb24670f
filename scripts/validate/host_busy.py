#!/usr/bin/env python3
"""Does the host issue an op more slowly while its GPU is busy? host.py used to time the
runner's layers from and back to an idle GPU, so each launch found an empty queue; in a
training run the host issues behind a GPU still working through what was issued before.
This times the same chain of the runner's layers both ways (host.layer_slopes, busy=False
and busy=True), in paired rounds on one process, the order alternating from round to
round, and prints each case's host microseconds a layer, forward and backward, idle and
busy, and the median of the rounds' busy/idle ratios:

    python3 scripts/validate/host_busy.py --out busy.json [--repeats 15] [--cases a,b]

"Busy" is host.BusyGPU: GPU sleep queued before the timer starts, long enough to outlast
the chain's issue (`outlasted` counts the chains where it did not: those were timed partly
idle, and should be 0). JSON: {"gpu", "date", "cases": [{case..., "idle_fwd_us",
"busy_fwd_us", "ratio_fwd", p10s and p90s, the same for bwd, "outlasted", "chains"}]}.
Needs a CUDA GPU (or --cpu for tests, where "busy" queues nothing).
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "profile"))
import common  # noqa: E402  (the NCCL/NVSHMEM safety variables first)
import host  # noqa: E402

import torch  # noqa: E402

# (name, family, moe, sizes): host.py's own sizes, then the validation models' widths at
# their training sequence, where a layer's kernels take longer than its issue.
CASES = [
    ("llama-host.py", "llama", False, {}),
    ("moe-host.py", "llama", True, {}),
    ("gpt-host.py", "gpt", False, {}),
    ("llama-1b-seq2048", "llama", False,
     {"hidden": 2048, "heads": 32, "kv_heads": 8, "ffn": 8192, "seq": 2048, "micro_batch": 1}),
    ("gpt-350m-seq2048", "gpt", False,
     {"hidden": 1024, "heads": 16, "kv_heads": 16, "ffn": 4096, "seq": 2048, "micro_batch": 4}),
]


def measure(case, repeats):
    name, family, moe, sizes = case
    runner = common.validation_runner()
    blocks = host.runner_blocks(runner, family, host.alone(runner), host.LAYER_LONG, moe=moe, sizes=sizes)
    for busy in (False, True):  # warm-up, both ways
        host.layer_slopes(blocks, 2, busy=busy)
    rounds = []
    busy_gpu = host.BusyGPU()
    for r in range(repeats):
        modes = (False, True) if r % 2 == 0 else (True, False)
        one = {}
        for busy in modes:
            one[busy] = host.layer_slopes(blocks, 1, busy=busy_gpu if busy else False)[0]
        rounds.append(one)
    del blocks
    if host.DEVICE == "cuda":
        torch.cuda.empty_cache()
    row = {"case": name, "family": family, "moe": moe, **sizes, "rounds": repeats,
           "ahead_ms": host.BUSY_AHEAD_S * 1e3, "outlasted": busy_gpu.outlasted, "chains": busy_gpu.chains}
    for pass_name, index in host.PASS_INDEX.items():
        for busy, mode in ((False, "idle"), (True, "busy")):
            stats = common.summarize([r[busy][index] for r in rounds])
            row[f"{mode}_{pass_name}_us"] = stats["median_us"]
            row[f"{mode}_{pass_name}_p10_us"], row[f"{mode}_{pass_name}_p90_us"] = stats["p10_us"], stats["p90_us"]
        row[f"ratio_{pass_name}"] = common.percentile([r[True][index] / r[False][index] for r in rounds], 50)
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--cases", default=None, help="comma-separated case names (default: all)")
    ap.add_argument("--cpu", action="store_true", help="run on the CPU (tests)")
    args = ap.parse_args(argv)
    if args.cpu:
        host.DEVICE = "cpu"
    elif not torch.cuda.is_available():
        print("host_busy.py: error: no CUDA GPU; run on a GPU machine (or --cpu for tests)", file=sys.stderr)
        return 2
    wanted = set(args.cases.split(",")) if args.cases else None
    cases = [c for c in CASES if wanted is None or c[0] in wanted]
    if not cases:
        print(f"host_busy.py: error: no case named {args.cases}; choose from {', '.join(c[0] for c in CASES)}",
              file=sys.stderr)
        return 2
    rows = []
    for case in cases:
        row = measure(case, args.repeats)
        rows.append(row)
        print(f"[busy] {row['case']}: fwd {row['idle_fwd_us']:.1f} idle, {row['busy_fwd_us']:.1f} busy "
              f"(x{row['ratio_fwd']:.3f}); bwd {row['idle_bwd_us']:.1f} idle, {row['busy_bwd_us']:.1f} busy "
              f"(x{row['ratio_bwd']:.3f}); GPU work ran out in {row['outlasted']} of {row['chains']} chains",
              flush=True)
    gpu = torch.cuda.get_device_name() if host.DEVICE == "cuda" else "cpu"
    with open(args.out, "w") as f:
        json.dump({"gpu": gpu, "date": common.utc_now_iso(), "cases": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
