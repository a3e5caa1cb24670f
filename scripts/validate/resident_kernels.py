#!/usr/bin/env python3
"""Does a kernel that merely sits on a few SMs slow a training step's products? Data
parallelism's all-reduces cost gpt-350m-ddp2 4.3 ms an iteration whether NCCL ran on its
default channels or on 4 (docs/accuracy.md, "Data parallelism"), and the early rank's
compute ran 4.1 ms slower while its NCCL kernels waited for the late rank. A product whose
grid fills every SM in one wave, or a persistent one sized to the SM count, loses a whole
wave when even one SM is taken. This times products of the validation models' shapes
alone, then beside k resident spinning kernels (`torch.cuda._sleep`, one block each, on k
side streams: k SMs held, no memory traffic), and, with --nccl on 2 GPUs, beside an
all-reduce that waits for a peer which has not called it yet (NCCL's channels resident
and spinning, as the early rank's are).

    python3 scripts/validate/resident_kernels.py --out resident.json [--blockers 1,4,16,32]
    python3 scripts/validate/resident_kernels.py --out nccl.json --nccl     # 2 GPUs

JSON: {"gpu", "rows": [{"m", "n", "k", "beside", "median_us", "alone_us", "slowdown"}]}.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "profile"))
import common  # noqa: E402  (the NCCL/NVSHMEM safety variables first)

# (m, n, k) of F.linear on [tokens, k] x [n, k]^T: GPT-350M's at micro-batch 4 x 2048 and
# LLaMA-1B's at 1 x 4096 (forward products; a backward's are the same sizes transposed).
SHAPES = [(8192, 3072, 1024), (8192, 1024, 1024), (8192, 4096, 1024), (8192, 1024, 4096),
          (4096, 2560, 2048), (4096, 8192, 2048), (4096, 2048, 8192)]
REPEATS = 30


def time_products(torch, shapes, repeats):
    """{shape: median us} of each product on the current stream, timed one by one with
    events (queued behind a short sleep, so each is device time only). Not
    common.timed_samples: that synchronises the whole device, which would wait out the
    resident kernels on the side streams after the first shape."""
    out = {}
    for m, n, k in shapes:
        a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
        w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
        for _ in range(3):
            torch.nn.functional.linear(a, w)
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(repeats)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(repeats)]
        torch.cuda._sleep(2_000_000)
        for s, e in zip(starts, ends):
            s.record()
            torch.nn.functional.linear(a, w)
            e.record()
        ends[-1].synchronize()
        out[(m, n, k)] = common.percentile([s.elapsed_time(e) * 1e3 for s, e in zip(starts, ends)], 50)
    return out


def beside_sleepers(torch, shapes, repeats, blockers, cycles):
    """Products timed while `blockers` one-block spin kernels hold an SM each (side streams),
    launched first; `cycles` outlasts the products."""
    streams = [torch.cuda.Stream() for _ in range(blockers)]
    for s in streams:
        with torch.cuda.stream(s):
            torch.cuda._sleep(cycles)
    result = time_products(torch, shapes, repeats)
    torch.cuda.synchronize()
    return result


def rows_of(alone, beside, label):
    return [{"m": m, "n": n, "k": k, "beside": label, "median_us": beside[(m, n, k)], "alone_us": alone[(m, n, k)],
             "slowdown": beside[(m, n, k)] / alone[(m, n, k)]} for (m, n, k) in alone]


def nccl_rank(rank, port, repeats, queue):
    """Rank 0 calls an all-reduce on a side stream and times products while it waits; rank 1
    calls its own only after a host sleep longer than rank 0's products."""
    import time
    import torch
    import torch.distributed as dist
    common.apply_safe_env()
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.cuda.set_device(rank)
    dist.init_process_group("nccl", rank=rank, world_size=2, device_id=torch.device("cuda", rank))
    x = torch.ones(16 << 20, device="cuda", dtype=torch.bfloat16)
    dist.all_reduce(x)  # connect
    torch.cuda.synchronize()
    rows = []
    for round_ in range(2):
        dist.barrier()
        torch.cuda.synchronize()
        if rank == 0:
            alone = time_products(torch, SHAPES, repeats)
            side = torch.cuda.Stream()
            with torch.cuda.stream(side):
                dist.all_reduce(x)  # resident until rank 1 arrives
            waiting = time_products(torch, SHAPES, repeats)
            torch.cuda.synchronize()
            rows += rows_of(alone, waiting, f"all-reduce waiting for its peer (round {round_ + 1})")
        else:
            time.sleep(3.0)  # longer than rank 0's products
            dist.all_reduce(x)
            torch.cuda.synchronize()
    dist.destroy_process_group()
    if rank == 0:
        queue.put(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--blockers", default="1,4,16,32", help="SMs held, comma-separated (default 1,4,16,32)")
    ap.add_argument("--repeats", type=int, default=REPEATS)
    ap.add_argument("--nccl", action="store_true", help="beside a waiting all-reduce on 2 GPUs instead")
    args = ap.parse_args(argv)
    try:
        blockers = [int(b) for b in args.blockers.split(",")]
        if any(b < 1 for b in blockers):
            raise ValueError
    except ValueError:
        print(f"resident_kernels.py: error: --blockers {args.blockers}: give counts of SMs, e.g. 1,4,16", file=sys.stderr)
        return 2
    import torch
    if not torch.cuda.is_available():
        print("resident_kernels.py: error: needs a CUDA GPU", file=sys.stderr)
        return 2
    gpu = torch.cuda.get_device_name(0)
    if args.nccl:
        if torch.cuda.device_count() < 2:
            print("resident_kernels.py: error: --nccl needs 2 GPUs", file=sys.stderr)
            return 2
        import torch.multiprocessing as mp
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        port = common.free_port()
        procs = [ctx.Process(target=nccl_rank, args=(r, port, args.repeats, queue)) for r in range(2)]
        for p in procs:
            p.start()
        rows = common.first_result(queue, procs, "resident_kernels.py: a rank", timeout_s=120)
        for p in procs:
            p.join(timeout=30)
    else:
        cycles = int(2.0 * common.sleep_cycles_per_second(torch))  # 2 s: longer than the products
        alone = time_products(torch, SHAPES, args.repeats)
        rows = []
        for b in blockers:
            rows += rows_of(alone, beside_sleepers(torch, SHAPES, args.repeats, b, cycles), f"{b} SMs held")
        rows += rows_of(alone, time_products(torch, SHAPES, args.repeats), "alone again")
    with open(args.out, "w") as f:
        json.dump({"gpu": gpu, "sms": torch.cuda.get_device_properties(0).multi_processor_count, "rows": rows}, f, indent=1)
    for r in rows:
        print(f"[resident] {r['m']}x{r['n']}x{r['k']} beside {r['beside']}: {r['median_us']:.1f} us "
              f"(alone {r['alone_us']:.1f}): x{r['slowdown']:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
