#!/usr/bin/env python3
"""Does a layer's host cost depend on the layer's size? host.py times the runner's own layer
(run.Block) in a chain of layers at tiny sizes (seq 32, hidden 256), and scales its
per-op rows by what that layer costs in context. This times the same chain at the validation models' own widths and at sequence 128 too, and
prints each layer's host microseconds forward and backward (slope between chains of
host.LAYER_SHORT and host.LAYER_LONG layers, as host.py takes it: behind a busy GPU since
2026-11-28 09:30 UTC; the run of 08:29 took 8 and 40 layers from an idle GPU), so the
two can be compared with each other and with the runner's seq-128 iterations on the same machine.

    python3 scripts/validate/host_layer_sizes.py --out layers.json [--repeats 7]

Each case is (family, hidden, heads, kv_heads, ffn, seq, batch); JSON: a list of
{case..., "fwd_us", "bwd_us", "fwd_p10_us", ...}. Needs a CUDA GPU (or --cpu for tests).
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

# host.py's own sizes first, then each validation model's layer at seq 32 and 128.
CASES = [
    ("llama", 256, 4, 2, 1024, 32, 1),
    ("llama", 2048, 32, 8, 8192, 32, 1),
    ("llama", 2048, 32, 8, 8192, 128, 1),
    ("gpt", 256, 4, 4, 1024, 32, 1),
    ("gpt", 1024, 16, 16, 4096, 32, 4),
    ("gpt", 1024, 16, 16, 4096, 128, 4),
]


def measure(case, repeats):
    family, hidden, heads, kv_heads, ffn, seq, batch = case
    runner = common.validation_runner()
    sizes = {"hidden": hidden, "heads": heads, "kv_heads": kv_heads, "ffn": ffn, "seq": seq, "micro_batch": batch}
    chain = host.runner_blocks(runner, family, host.alone(runner), host.LAYER_LONG, sizes=sizes)
    host.layer_slopes(chain, 2, busy=False)  # warm-up
    samples = host.layer_slopes(chain, repeats)
    del chain
    if host.DEVICE == "cuda":
        torch.cuda.empty_cache()
    row = dict(zip(("family", "hidden", "heads", "kv_heads", "ffn", "seq", "batch"), case))
    for name, index in host.PASS_INDEX.items():
        stats = common.summarize([s[index] for s in samples])
        row[f"{name}_us"], row[f"{name}_p10_us"], row[f"{name}_p90_us"] = stats["median_us"], stats["p10_us"], stats["p90_us"]
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--cpu", action="store_true", help="run on the CPU (tests: the figures mean nothing)")
    ap.add_argument("--cases", type=int, default=len(CASES), help="only the first N cases")
    args = ap.parse_args(argv)
    host.DEVICE = "cpu" if args.cpu else "cuda"
    rows = []
    for case in CASES[:args.cases]:
        row = measure(case, args.repeats)
        rows.append(row)
        print(f"[layers] {row['family']} hidden {row['hidden']} seq {row['seq']} batch {row['batch']}: "
              f"fwd {row['fwd_us']:.1f} us ({row['fwd_p10_us']:.1f}-{row['fwd_p90_us']:.1f}), "
              f"bwd {row['bwd_us']:.1f} us ({row['bwd_p10_us']:.1f}-{row['bwd_p90_us']:.1f})", flush=True)
    with open(args.out, "w") as f:
        json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
