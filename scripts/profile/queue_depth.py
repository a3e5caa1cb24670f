"""How many launches of one op the host can queue behind a busy GPU before a launch blocks,
for the ops of a training step at a training step's sizes.

launch.py's launch_queue_depth counts 1-element adds (about 1,021 on an H100). A training
run's host, issued behind a sleep kernel, blocks after far fewer of its own kernels at
sequence 2048 than at 128 (`run.py --gpu-ahead`, docs/accuracy.md), so the queue's room
is not counted in kernels alone. For each op below this script queues a long sleep kernel,
then calls the op until one call takes the host over 1 ms, and counts the calls before it;
the profiler counts the kernels one call launches. Each op is measured `--repeats` times.

    python3 scripts/profile/queue_depth.py --out traces/h200-sxm/runs/queue-depth.csv

Columns: op, shape, calls (median of the repeats), kernels_per_call, kernels (calls x
kernels per call), min and max calls over the repeats. Exit status 2 without a GPU.
"""

import common  # first: sets the NCCL/NVSHMEM safety variables before torch loads

import argparse
import csv
import os
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

BLOCKED_S = 1e-3
SLEEP_S = 1.0
LIMIT = 20000


def ops():
    """(name, shape, call) for the ops measured: a 1-element add (launch.py's), then the
    kinds of kernel GPT-350M runs, at 512 tokens (sequence 128, micro-batch 4) and 8,192
    (sequence 2048)."""
    bf = torch.bfloat16
    one = torch.zeros(1, device="cuda")
    out = [("add", "1", lambda: one.add_(1))]
    for tokens, seq in ((512, 128), (8192, 2048)):
        x = torch.randn(tokens, 1024, device="cuda", dtype=bf)
        w_qkv = torch.randn(3072, 1024, device="cuda", dtype=bf)
        w_fc = torch.randn(4096, 1024, device="cuda", dtype=bf)
        h = torch.randn(tokens, 4096, device="cuda", dtype=bf)
        ln_w = torch.ones(1024, device="cuda", dtype=bf)
        q = torch.randn(4, 16, seq, 64, device="cuda", dtype=bf, requires_grad=True)
        k = torch.randn(4, 16, seq, 64, device="cuda", dtype=bf, requires_grad=True)
        v = torch.randn(4, 16, seq, 64, device="cuda", dtype=bf, requires_grad=True)
        g = torch.randn(4, 16, seq, 64, device="cuda", dtype=bf)
        out += [
            ("add", f"{tokens}x1024", lambda x=x: x.add_(1)),
            ("gelu", f"{tokens}x4096", lambda h=h: F.gelu(h, approximate="tanh")),
            ("layer_norm", f"{tokens}x1024", lambda x=x, w=ln_w: F.layer_norm(x, (1024,), w, w)),
            ("linear", f"{tokens}x1024x3072", lambda x=x, w=w_qkv: F.linear(x, w)),
            ("linear", f"{tokens}x4096x1024", lambda h=h, w=w_fc: F.linear(h, w.t())),
            ("attention_forward", f"4x16x{seq}x64",
             lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q.detach(), k.detach(), v.detach(), is_causal=True)),
            ("attention_forward_backward", f"4x16x{seq}x64",
             lambda q=q, k=k, v=v, g=g: F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(g)),
        ]
    return out


def kernels_per_call(call):
    """Kernels one call launches, from the profiler's CUDA kernel records."""
    from torch.profiler import ProfilerActivity, profile
    call()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        call()
        torch.cuda.synchronize()
    return sum(1 for e in prof.events() if e.device_type.name == "CUDA" and "memcpy" not in e.name.lower()
               and "memset" not in e.name.lower()) or 1


def calls_before_block(call, cycles):
    """Calls queued behind a sleep of `cycles` before one call takes the host over 1 ms;
    -1 if the sleep ended first (or no call blocked): then the GPU, not the queue, set
    the count. A blocked call returns only once the sleep is over, so the sleep is checked
    before each call, not after."""
    call()
    torch.cuda.synchronize()
    slept = common.queue_sleep(torch, cycles)
    calls = -1
    for i in range(LIMIT):
        if slept.query():
            break  # the GPU woke before the queue filled: this count would be the GPU's pace
        t0 = time.perf_counter()
        call()
        if time.perf_counter() - t0 > BLOCKED_S:
            calls = i
            break
    torch.cuda.synchronize()
    return calls


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="CSV to write")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    if torch is None or not torch.cuda.is_available():
        print(f"{args.out}: error: queue_depth.py measures a GPU's launch queue and found none; run it on a GPU machine",
              file=sys.stderr)
        return 2
    common.flash_attention_only(torch)
    cycles = int(SLEEP_S * common.sleep_cycles_per_second(torch))
    rows = []
    for name, shape, call in ops():
        per_call = kernels_per_call(call)
        counts = sorted(calls_before_block(call, cycles) for _ in range(args.repeats))
        median = counts[len(counts) // 2]
        rows.append({"op": name, "shape": shape, "calls": median, "kernels_per_call": per_call,
                     "kernels": median * per_call, "calls_min": counts[0], "calls_max": counts[-1]})
        print(f"[queue] {name:28s} {shape:16s} {median:6d} calls x {per_call} kernels = {median * per_call:6d} "
              f"(calls {counts[0]}-{counts[-1]})", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", newline="") as f:
        f.write(f"# gpu: {torch.cuda.get_device_name(0)}; torch {torch.__version__}; date {common.utc_now_iso()}\n")
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
