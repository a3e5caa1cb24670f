#!/usr/bin/env python3
"""What PyTorch allocates on a GPU besides a training step's tensors: the memory the caching
allocator counts (`torch.cuda.memory_allocated`) after a process's first bf16 product, its
first F.linear forward and backward, and a product on a second stream, less the tensors
each leaves, which is where cuBLAS's and cuBLASLt's workspaces live (PyTorch allocates them
through its allocator, one per handle and stream). A run's memory after its forward held
0.064-0.067 GiB more than Strata's count of its tensors on every plan measured
(docs/accuracy.md, "Memory: what autograd keeps"); this says whether these are those bytes.

    python3 scripts/profile/workspace.py [--json OUT]

Prints each step's bytes beyond its tensors, in MiB. Needs a CUDA GPU.
"""

import argparse
import json
import sys

import common  # noqa: F401  (the NCCL/NVSHMEM safety variables first)
import torch
import torch.nn.functional as F

MIB = 2 ** 20


def beyond(before, tensors):
    """MiB the allocator holds now beyond `before` and the bytes of `tensors`."""
    torch.cuda.synchronize()
    held = torch.cuda.memory_allocated() - before - sum(t.numel() * t.element_size() for t in tensors)
    return held / MIB


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("workspace.py: error: no CUDA GPU; run it on the GPU whose memory you model", file=sys.stderr)
        return 2
    n = 4096
    x = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(n, n, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    base = torch.cuda.memory_allocated()
    steps = {}
    y = x @ x.detach()
    steps["first product (x @ x)"] = beyond(base, [y])
    z = F.linear(x, w)
    steps["first F.linear forward"] = beyond(base, [y, z])
    z.float().sum().backward()
    steps["its backward (w.grad kept)"] = beyond(base, [y, z, w.grad])
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        u = x @ x
    side.synchronize()
    steps["a product on a second stream"] = beyond(base, [y, z, w.grad, u])
    for name, mib in steps.items():
        print(f"[workspace] {name}: {mib:.1f} MiB beyond its tensors")
    print(f"[workspace] {torch.cuda.get_device_name()}, torch {torch.__version__}, cuda {torch.version.cuda}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"gpu": torch.cuda.get_device_name(), "torch": torch.__version__, "mib_beyond_tensors": steps}, f,
                      indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
