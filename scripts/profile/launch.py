"""Launch cost table (launch.csv): what issuing a kernel costs the host, and the GPU.

A training step issues thousands of kernels from Python.  When kernels are long the host
runs ahead and its cost is hidden; when they are short the GPU waits for the host.  The
simulator needs three figures to tell the two apart:

  host_op            host time to issue one eager op (a 1-element add_, no autograd)
  host_op_autograd   host time to issue one eager op recorded by autograd (forward only)
  host_backward_op   host time the autograd engine spends per op of that chain's backward
  gpu_kernel_floor   GPU time per tiny kernel when kernels are queued back to back
                     (the queue is filled behind a sleep kernel, so the host is not the limit)

Each is the median over repeats of (time for N ops) / N.
"""

import common  # first: sets the NCCL/NVSHMEM safety variables before torch loads

import time

try:
    import torch
except ImportError:
    torch = None

COLUMNS = ["metric", "median_us", "p10_us", "p90_us", "ops_per_sample", "samples"]


def host_op(n):
    x = torch.zeros(1, device="cuda")
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(n):
        x.add_(1)
    t1 = time.perf_counter()
    torch.cuda.synchronize()
    return (t1 - t0) / n * 1e6


def autograd_chain(n):
    x = torch.ones(1, device="cuda", requires_grad=True)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    z = x
    for _ in range(n):
        z = z * 1.0001
    t1 = time.perf_counter()
    z.backward()
    torch.cuda.synchronize()
    t2 = time.perf_counter()
    return (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6


def gpu_floor(n, clock_hz):
    x = torch.zeros(1, device="cuda")
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    common.gpu_sleep(torch, 0.02, clock_hz)  # the host queues everything below meanwhile
    start.record()
    for _ in range(n):
        x.add_(1)
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) * 1e3 / n


def main(argv=None):
    ap = common.family_parser(__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args(argv)
    ctx = common.DeviceContext(args)
    table = ctx.table("launch.csv", COLUMNS)
    for _ in range(3):  # warm up the allocator, autograd and the launch path
        host_op(200)
        autograd_chain(200)
        gpu_floor(200, ctx.clock_hz)
    ops = {"host_op": 2000, "host_op_autograd": 1000, "host_backward_op": 1000, "gpu_kernel_floor": 500}
    samples = {metric: [] for metric in ops}
    for _ in range(args.repeats):
        samples["host_op"].append(host_op(ops["host_op"]))
        forward, backward = autograd_chain(ops["host_op_autograd"])
        samples["host_op_autograd"].append(forward)
        samples["host_backward_op"].append(backward)
        samples["gpu_kernel_floor"].append(gpu_floor(ops["gpu_kernel_floor"], ctx.clock_hz))
    for metric, values in samples.items():
        stats = common.summarize(values)
        table.add(metric=metric, median_us=stats["median_us"], p10_us=stats["p10_us"], p90_us=stats["p90_us"],
                  ops_per_sample=ops[metric], samples=len(values))
        print(f"[launch] {metric}: median {stats['median_us']:.2f} us", flush=True)
    table.write()


if __name__ == "__main__":
    main()
