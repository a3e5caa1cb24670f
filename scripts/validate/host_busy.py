#!/usr/bin/env python3
"""Does the host issue an op more slowly while its GPU is busy? host.py times the runner's
layers from and back to an idle GPU, so each launch finds an empty queue; in a training run
the host issues behind a GPU that is working through what was issued before. This times the
same chain of the runner's layers both ways, in paired rounds on one process (the order
alternating from round to round), and prints each case's host microseconds a layer, forward
and backward, idle and busy, and the median of the rounds' busy/idle ratios:

    python3 scripts/validate/host_busy.py --out busy.json [--repeats 15]

"Busy" queues a `torch.cuda._sleep` long enough to outlast the chain's issue before the
timer starts, so every launch of the chain queues behind it; the result's
`busy_left_min_ms` is the least time the GPU still had left on it when the host finished
(it must stay above zero). The chains are SHORT and LONG layers (2 and 8), short enough
that their kernels fit CUDA's launch queue (about 1,000 kernels on an H100; launch.py's
`launch_queue_depth`), so the host never waits for a free slot. JSON: {"cases": [{case...,
"idle_fwd_us", "busy_fwd_us", "ratio_fwd", ..., "busy_left_min_ms"}], "gpu": ...}. Needs a
CUDA GPU (or --cpu for tests, where "busy" queues nothing).
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "profile"))
import common  # noqa: E402  (the NCCL/NVSHMEM safety variables first)
import host  # noqa: E402

import torch  # noqa: E402

SHORT, LONG = 2, 8
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


def sleep_cycles_per_second():
    """GPU clock cycles `torch.cuda._sleep` spins through a second, timed by CUDA events."""
    cycles = 20_000_000
    torch.cuda._sleep(cycles)  # warm-up
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    torch.cuda._sleep(cycles)
    end.record()
    end.synchronize()
    return cycles / (start.elapsed_time(end) / 1e3)


class Busy:
    """Queues `seconds` of GPU sleep ahead of a timed chain, and records how much of it was
    left when the host finished issuing (the time synchronize then waited)."""

    def __init__(self, seconds, cycles_per_second):
        self.cycles = int(seconds * cycles_per_second) if cycles_per_second else 0
        self.left = []

    def __call__(self):
        if self.cycles:
            torch.cuda._sleep(self.cycles)


def chain_slopes(blocks, shape, rounds_of, busy):
    """One round: {mode: (forward us, backward us)} a layer, the slope between SHORT and
    LONG layers, for each mode in `rounds_of` order."""
    x = torch.randn(shape, device=host.DEVICE, dtype=torch.bfloat16).requires_grad_(True)

    def times(k, ahead):
        blocks.zero_grad(set_to_none=True)

        def forward():
            y = x
            for b in blocks[:k]:
                y = b(y)
            return y
        fwd, bwd = host.timed_graph(forward, ahead=ahead)
        if ahead is not None and host.DEVICE == "cuda":
            t = time.perf_counter()
            torch.cuda.synchronize()
            busy.left.append(time.perf_counter() - t)
        return fwd, bwd

    out = {}
    for mode in rounds_of:
        ahead = busy if mode == "busy" else None
        fs, bs = times(SHORT, ahead)
        fl, bl = times(LONG, ahead)
        out[mode] = ((fl - fs) / (LONG - SHORT) * 1e6, (bl - bs) / (LONG - SHORT) * 1e6)
    return out


def measure(case, repeats, cycles_per_second, sleep_s):
    name, family, moe, sizes = case
    runner = common.validation_runner()
    blocks = host.runner_blocks(runner, family, host.alone(runner), LONG, moe=moe, sizes=sizes)
    shape = (sizes.get("seq", host.SEQ), sizes.get("micro_batch", host.BATCH), sizes.get("hidden", host.HIDDEN))
    busy = Busy(sleep_s, cycles_per_second)
    for _ in range(2):  # warm-up, both ways
        chain_slopes(blocks, shape, ("idle", "busy"), busy)
    busy.left.clear()
    rounds = [chain_slopes(blocks, shape, ("idle", "busy") if r % 2 == 0 else ("busy", "idle"), busy)
              for r in range(repeats)]
    del blocks
    if host.DEVICE == "cuda":
        torch.cuda.empty_cache()
    row = {"case": name, "family": family, "moe": moe, **sizes, "rounds": repeats, "sleep_ms": sleep_s * 1e3}
    for pass_name, index in host.PASS_INDEX.items():
        for mode in ("idle", "busy"):
            values = [r[mode][index] for r in rounds]
            row[f"{mode}_{pass_name}_us"] = common.percentile(values, 50)
            row[f"{mode}_{pass_name}_p10_us"] = common.percentile(values, 10)
            row[f"{mode}_{pass_name}_p90_us"] = common.percentile(values, 90)
        row[f"ratio_{pass_name}"] = common.percentile([r["busy"][index] / r["idle"][index] for r in rounds], 50)
    row["busy_left_min_ms"] = min(busy.left) * 1e3 if busy.left else None
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--sleep-ms", type=float, default=80.0,
                    help="GPU work queued ahead of each busy chain (default 80 ms)")
    ap.add_argument("--cases", default=None, help="comma-separated case names (default: all)")
    ap.add_argument("--cpu", action="store_true", help="run on the CPU (tests)")
    args = ap.parse_args(argv)
    if args.cpu:
        host.DEVICE = "cpu"
    elif not torch.cuda.is_available():
        sys.exit("host_busy.py: error: no CUDA GPU; run on a GPU machine (or --cpu for tests)")
    wanted = set(args.cases.split(",")) if args.cases else None
    cases = [c for c in CASES if wanted is None or c[0] in wanted]
    if not cases:
        sys.exit(f"host_busy.py: error: no case named {args.cases}; choose from {', '.join(c[0] for c in CASES)}")
    cycles = sleep_cycles_per_second() if host.DEVICE == "cuda" else 0
    rows = []
    for case in cases:
        row = measure(case, args.repeats, cycles, args.sleep_ms / 1e3)
        rows.append(row)
        print(f"[busy] {row['case']}: fwd {row['idle_fwd_us']:.1f} idle, {row['busy_fwd_us']:.1f} busy "
              f"(x{row['ratio_fwd']:.3f}); bwd {row['idle_bwd_us']:.1f} idle, {row['busy_bwd_us']:.1f} busy "
              f"(x{row['ratio_bwd']:.3f}); GPU left {row['busy_left_min_ms']} ms", flush=True)
    gpu = torch.cuda.get_device_name() if host.DEVICE == "cuda" else "cpu"
    with open(args.out, "w") as f:
        json.dump({"gpu": gpu, "date": common.utc_now_iso(), "cycles_per_second": cycles, "cases": rows}, f, indent=1)


if __name__ == "__main__":
    main()
