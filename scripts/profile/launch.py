"""Launch cost table (launch.csv): what issuing a kernel costs the host, and the GPU.

A training step issues thousands of kernels from Python.  When kernels are long the host
runs ahead and its cost is hidden; when they are short the GPU waits for the host.  The
simulator needs three figures to tell the two apart:

  host_op            host time to issue one eager op (a 1-element add_, no autograd)
  host_op_autograd   host time to issue one eager op recorded by autograd (forward only)
  host_backward_op   host time the autograd engine spends per op of that chain's backward
  gpu_kernel_floor   GPU time per tiny kernel when kernels are queued back to back
                     (the queue is filled behind a sleep kernel, so the host is not the limit)
  gpu_kernel_gap     GPU idle time between one kernel's end and the next one's start when
                     the next is already queued: real kernels (a bf16 product and an
                     elementwise add of about 5 us each, alternating) queued behind a sleep
                     kernel, their start and end read from the profiler's kernel records;
                     the median gap of each repeat (the GPU's front end setting up the next
                     kernel, which a kernel's own duration leaves out)
  launch_queue_depth how many kernels the host can queue ahead of a busy GPU before a launch
                     blocks: tiny kernels launched behind a 0.2 s sleep kernel, each launch
                     timed on the host; the count before the first launch that takes over
                     1 ms (a count of kernels, not microseconds, in the median column)
  gpu_kernel_gap_training
                     the same gap between a training step's own kernels: the runner's
                     layers (scripts/validate/run.py's Block, built by host.runner_blocks) of
                     GPT-350M at sequence 2048 and micro-batch 4 and of LLaMA-1B at 2048 and
                     1, forward and backward, queued behind a sleep kernel; the mean positive
                     gap between consecutive GPU events (kernels, memsets and copies) of each
                     repeat. Profiled training iterations show 1.57-1.62 us where the pair
                     above gives 0.99-1.2 (docs/accuracy.md); Strata charges this row before
                     each launch where launch.csv has it
  gpu_event_overhead how much longer the same kernels time between a pair of CUDA events,
                     one pair per kernel as the other tables time them, than the profiler's
                     record of their duration: what a table's time holds beyond the kernel

Each is the median over repeats of (time for N ops) / N, and for gpu_kernel_gap of the
repeats' median gaps.
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


def gpu_spans(prof, categories=("kernel",)):
    """Sorted (start, end) in us of a finished profiler session's GPU records of the given
    categories (`kernel`, `gpu_memset`, `gpu_memcpy`), read from its exported trace."""
    import json
    import os
    import tempfile
    handle, path = tempfile.mkstemp(suffix=".json")
    os.close(handle)
    try:
        prof.export_chrome_trace(path)
        with open(path) as f:
            events = json.load(f)["traceEvents"]
    finally:
        os.remove(path)
    return sorted((e["ts"], e["ts"] + e["dur"]) for e in events if e.get("ph") == "X" and e.get("cat") in categories)


def profiled_kernels(n, clock_hz, with_events):
    """(start, end) in us of n real kernels (a 1024^3 bf16 product and an add over 4M bf16
    elements, alternating, ~5 us each) queued back to back behind a sleep kernel, from the
    profiler's kernel records; with `with_events`, each between its own pair of CUDA
    events, as the tables time kernels, and also those events' times."""
    from torch.profiler import ProfilerActivity, profile
    a = torch.randn(1024, 1024, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(1024, 1024, device="cuda", dtype=torch.bfloat16)
    x = torch.randn(4 << 20, device="cuda", dtype=torch.bfloat16)
    ops = [lambda: torch.mm(a, b), lambda: x.add_(1.0)]
    for i in range(20):
        ops[i % 2]()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(n)] if with_events else []
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(n)] if with_events else []
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        common.gpu_sleep(torch, 0.02, clock_hz)
        for i in range(n):
            if with_events:
                starts[i].record()
            ops[i % 2]()
            if with_events:
                ends[i].record()
        torch.cuda.synchronize()
    kernels = gpu_spans(prof)[1:]  # the sleep kernel first
    timed = [s.elapsed_time(e) * 1e3 for s, e in zip(starts, ends)]
    return kernels, timed


def queue_depth(clock_hz, limit=20000, product=False):
    """Kernels launched behind a long sleep kernel before one launch blocks the host: a
    1-element add, or with `product` a 256^3 bf16 product (cuBLAS's larger launch)."""
    x = torch.zeros(1, device="cuda")
    a = torch.randn(256, 256, device="cuda", dtype=torch.bfloat16)
    op = (lambda: torch.mm(a, a)) if product else (lambda: x.add_(1))
    op()
    torch.cuda.synchronize()
    common.gpu_sleep(torch, 0.2, clock_hz)
    depth = limit
    for i in range(limit):
        t0 = time.perf_counter()
        op()
        if time.perf_counter() - t0 > 1e-3:
            depth = i
            break
    torch.cuda.synchronize()
    return float(depth)


def gpu_gap(n, clock_hz):
    """The median idle time (us) between consecutive kernels on one stream, queued back to back."""
    kernels, _ = profiled_kernels(n, clock_hz, with_events=False)
    gaps = [b_start - a_end for (_, a_end), (b_start, _) in zip(kernels, kernels[1:])]
    return common.summarize(gaps)["median_us"] if gaps else float("nan")


def mean_gap(spans):
    """The mean positive gap (us) between consecutive GPU events, (start, end) in us in any
    order: what the front end leaves between kernels already queued."""
    ordered = sorted(spans)
    gaps = [b[0] - a[1] for a, b in zip(ordered, ordered[1:]) if b[0] - a[1] > 0]
    return sum(gaps) / len(gaps) if gaps else float("nan")


TRAINING_LAYERS = (("gpt", {"hidden": 1024, "heads": 16, "kv_heads": 16, "ffn": 4096, "seq": 2048, "micro_batch": 4}),
                   ("llama", {"hidden": 2048, "heads": 32, "kv_heads": 8, "ffn": 8192, "seq": 2048, "micro_batch": 1}))


def training_gaps(clock_hz, repeats, layers=2):
    """`mean_gap` of `layers` of each TRAINING_LAYERS model, forward and backward queued
    behind a sleep kernel and profiled, `repeats` times each: a list of us."""
    from torch.profiler import ProfilerActivity, profile
    import host  # the runner's layers at given sizes
    runner = common.validation_runner()
    common.flash_attention_only(torch)  # as the runner runs it
    out = []
    for family, sizes in TRAINING_LAYERS:
        blocks = host.runner_blocks(runner, family, host.alone(runner), layers, sizes=dict(sizes))
        c = blocks[0].c
        x = torch.randn(c.local_seq, c.micro_batch, c.hidden, device="cuda", dtype=torch.bfloat16).requires_grad_(True)

        def step():
            y = x
            for b in blocks:
                y = b(y)
            y.float().sum().backward()
        for _ in range(3):
            step()
        for _ in range(repeats):
            torch.cuda.synchronize()
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                common.gpu_sleep(torch, 0.05, clock_hz)
                step()
                torch.cuda.synchronize()
            out.append(mean_gap(gpu_spans(prof, ("kernel", "gpu_memset", "gpu_memcpy"))[1:]))  # the sleep kernel first
        del blocks, x
        torch.cuda.empty_cache()
    return out


def gpu_event_overhead(n, clock_hz):
    """The median of (event-timed time - profiled duration) over the same n kernels, us."""
    kernels, timed = profiled_kernels(n, clock_hz, with_events=True)
    if len(kernels) != len(timed):
        return float("nan")
    return common.summarize([t - (end - start) for t, (start, end) in zip(timed, kernels)])["median_us"]


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
    gpu_gap(50, ctx.clock_hz)
    ops = {"host_op": 2000, "host_op_autograd": 1000, "host_backward_op": 1000, "gpu_kernel_floor": 500,
           "gpu_kernel_gap": 400, "gpu_event_overhead": 400, "launch_queue_depth": 1}
    samples = {metric: [] for metric in ops}
    for _ in range(args.repeats):
        samples["host_op"].append(host_op(ops["host_op"]))
        forward, backward = autograd_chain(ops["host_op_autograd"])
        samples["host_op_autograd"].append(forward)
        samples["host_backward_op"].append(backward)
        samples["gpu_kernel_floor"].append(gpu_floor(ops["gpu_kernel_floor"], ctx.clock_hz))
        if len(samples["gpu_kernel_gap"]) < 10:  # each takes a profiler session
            samples["gpu_kernel_gap"].append(gpu_gap(ops["gpu_kernel_gap"], ctx.clock_hz))
            samples["gpu_event_overhead"].append(gpu_event_overhead(ops["gpu_event_overhead"], ctx.clock_hz))
            samples["launch_queue_depth"].append(queue_depth(ctx.clock_hz))
    try:
        samples["gpu_kernel_gap_training"] = training_gaps(ctx.clock_hz, 5)
        ops["gpu_kernel_gap_training"] = 1
    except Exception as exc:  # the rest of the table stands without this row
        print(f"[launch] warning: gpu_kernel_gap_training not measured: {common.exception_text(exc)}", flush=True)
    for metric, values in samples.items():
        stats = common.summarize(values)
        table.add(metric=metric, median_us=stats["median_us"], p10_us=stats["p10_us"], p90_us=stats["p90_us"],
                  ops_per_sample=ops[metric], samples=len(values))
        print(f"[launch] {metric}: median {stats['median_us']:.2f} us", flush=True)
    table.write()


if __name__ == "__main__":
    main()
