"""NCCL collective table (collectives.csv) and compute/communication interference table (interference.csv).

One process per GPU (torch.multiprocessing.spawn), NCCL backend.  For every
group size g in 2, 4, 8, ... that divides the GPU count, the GPUs are split
into groups of g two ways: contiguous ({0,1},{2,3} for g=2 of 4) and strided
({0,2},{1,3}); with g equal to the GPU count only the single contiguous
group exists.  All groups of a partition run at the same time, as the
tensor-parallel groups of a training job do, so the numbers include whatever
the groups do to each other on the shared links.

collectives.csv: all_reduce, all_gather (all_gather_into_tensor),
reduce_scatter (reduce_scatter_tensor), all_to_all (all_to_all_single) and
send_recv (each rank sends `bytes` to the next rank of its group and receives
as many from the previous one, batched) in bf16, message sizes powers of 2
from 1 KiB to 1 GiB.  `bytes` follows nccl-tests: the all-reduce buffer, the
full gathered output of all-gather, the full input of reduce-scatter, the
per-rank send buffer of all-to-all, the message of send/recv.  algbw =
bytes / time; busbw = algbw * factor (2(n-1)/n all-reduce, (n-1)/n
all-gather / reduce-scatter / all-to-all, 1 send/recv).

Timing: a barrier, then per-iteration CUDA events on each rank (launches
queued behind a short spin kernel so host overhead stays out), median /
p10 / p90 per rank, and the row holds the maximum over all ranks of each.

nccl_choices.csv (with --nccl-choices): for every collective row NCCL logs a choice
for (all-reduce, all-gather, reduce-scatter; all-to-all and send/recv are point-to-point
and log none), the algorithm, protocol and channel count NCCL picked, read from its
NCCL_DEBUG_SUBSYS=TUNING log on global rank 0 while that row was timed (the most common
choice among the row's calls).  NCCL switches protocol with message size (LL, LL128,
Simple), each with its own latency and bandwidth, so a curve through the measured sizes
bends at the switch; the table says where (Strata does not read it: docs/accuracy.md).

collectives_held_out.csv (with --held-out): the same ops but send/recv, on the contiguous
groups only, at sizes between the grid's: 2^(s + 1/2) bytes rounded down to a whole 4 KiB
(a whole 256 bytes below 16 KiB), for every power of two 2^s from 1 KiB to 512 MiB.  `simulate calibrate` predicts each from
the whole grid and reports the error: the message sizes a training job sends fall anywhere,
not on powers of two, and these are sizes the fit has never seen.

interference.csv: a bf16 GEMM and an all-reduce on separate CUDA streams of
each rank; each alone, then both at once over a window of many iterations;
the overlapped per-op times (ops wholly inside the overlap window) against
each alone give the slowdown of each side.
"""

import common  # first: sets the NCCL/NVSHMEM safety variables before torch loads

import collections
import datetime
import math
import os
import re
import sys
import tempfile

try:
    import torch
except ImportError:
    torch = None

OPS = ["all_reduce", "all_gather", "reduce_scatter", "all_to_all", "send_recv"]
COLL_COLUMNS = ["op", "gpus", "group", "bytes", "dtype", "impl", "median_us", "p10_us", "p90_us",
                "algbw_GBps", "busbw_GBps", "samples"]
INTF_COLUMNS = ["gpus", "group", "victim", "gemm_m", "gemm_n", "gemm_k", "coll_op", "coll_bytes", "dtype",
                "impl", "alone_median_us", "median_us", "p10_us", "p90_us", "slowdown", "samples"]
CHOICE_COLUMNS = ["op", "gpus", "group", "bytes", "algorithm", "protocol", "channels", "calls"]
NCCL_FUNCS = {"all_reduce": "AllReduce", "all_gather": "AllGather", "reduce_scatter": "ReduceScatter"}
# NCCL's tuning line (src/enqueue.cc, NCCL_DEBUG_SUBSYS=TUNING), one per collective on rank 0
# of its communicator: "AllReduce: 2097152 Bytes -> Algo RING proto SIMPLE channel{Lo..Hi}={0..23}".
TUNING_LINE = re.compile(r"NCCL INFO (\w+): (\d+) Bytes -> Algo (\w+) proto (\w+) channel\{Lo\.\.Hi\}=\{(\d+)\.\.(\d+)\}")
GEMM_SHAPES = [(8192, 8192, 8192), (4096, 4096, 4096)]
INTF_BYTES = [64 << 20, 1 << 30]


def group_partitions(world):
    """[(gpus, 'contiguous'|'strided', [rank lists])] for group sizes 2, 4, ... dividing world."""
    out = []
    g = 2
    while g <= world:
        if world % g == 0:
            out.append((g, "contiguous", [list(range(i * g, (i + 1) * g)) for i in range(world // g)]))
            if g < world:
                stride = world // g
                out.append((g, "strided", [list(range(i, world, stride)) for i in range(stride)]))
        g *= 2
    return out


def message_sizes(quick=False):
    """1 KiB .. 1 GiB, powers of 2 (powers of 4 up to 64 MiB when quick)."""
    if quick:
        return [1 << s for s in range(10, 27, 4)]
    return [1 << s for s in range(10, 31)]


HELD_OUT_OPS = ["all_reduce", "all_gather", "reduce_scatter", "all_to_all"]


def held_out_sizes(quick=False):
    """Sizes between the grid's powers of two, for scoring the fit: 2^(s + 1/2) rounded down to
    a whole 4 KiB (so every group size's share is whole bf16 elements; a whole 256 bytes below
    16 KiB, where 4 KiB would fall on the grid), for 2^s from 1 KiB to 512 MiB (three sizes
    when quick)."""
    exponents = [10, 20, 22] if quick else range(10, 30)
    unit = lambda s: 4096 if s >= 14 else 256
    return [int(2 ** (s + 0.5)) // unit(s) * unit(s) for s in exponents]


class Ranks:
    """Per-process state: rank, world, device, and helpers every rank calls in lock-step."""

    def __init__(self, rank, world, opts):
        import torch.distributed as dist
        self.dist = dist
        self.rank, self.world, self.opts = rank, world, opts
        torch.cuda.set_device(rank)
        self.device = torch.device("cuda", rank)
        dist.init_process_group("nccl", init_method=f"tcp://127.0.0.1:{opts['port']}", rank=rank,
                                world_size=world, timeout=datetime.timedelta(seconds=180),
                                device_id=self.device)
        props = torch.cuda.get_device_properties(rank)
        self.l2_bytes = int(getattr(props, "L2_cache_size", 0) or (50 << 20))
        khz = getattr(props, "clock_rate", 0) or 0
        self.clock_hz = khz * 1e3 if khz else 1.98e9
        self.deadline = common.Deadline(opts["budget_s"])
        torch.manual_seed(1000 + rank)

    def barrier(self):
        """All ranks here and idle: a tiny all-reduce on the world group, then a device sync."""
        x = torch.ones(1, device=self.device)
        self.dist.all_reduce(x)
        torch.cuda.synchronize()

    def max_all(self, values):
        """Element-wise maximum of a list of floats over all ranks (every rank gets it)."""
        x = torch.tensor(values, device=self.device, dtype=torch.float64)
        self.dist.all_reduce(x, op=self.dist.ReduceOp.MAX)
        return x.tolist()

    def out_of_time(self, deadline):
        """True on every rank if any rank's budget is spent, so all stop at the same step."""
        return self.max_all([1.0 if deadline.expired() else 0.0])[0] > 0


def build_groups(ctx, partition):
    """Create the process groups of one partition (every rank calls new_group for each, in order)."""
    mine, members = None, None
    if len(partition) == 1 and len(partition[0]) == ctx.world:
        return None, partition[0]
    for ranks in partition:
        pg = ctx.dist.new_group(ranks=ranks)
        if ctx.rank in ranks:
            mine, members = pg, ranks
    return mine, members


def collective_call(ctx, op, nbytes, pg, members):
    """Buffers rotated per call and call(i) returning the zero-argument collective for iteration i."""
    dist, dev = ctx.dist, ctx.device
    n = len(members)
    elems = nbytes // 2
    if op == "all_reduce":
        shapes = [(elems,)]
    elif op == "all_gather":
        shapes = [(elems // n,), (elems,)]
    elif op == "reduce_scatter":
        shapes = [(elems,), (elems // n,)]
    elif op in ("all_to_all", "send_recv"):
        shapes = [(elems,), (elems,)]
    else:
        raise ValueError(op)
    set_bytes = sum(s[0] for s in shapes) * 2
    nsets = common.rotation_count(set_bytes, ctx.l2_bytes, max_sets=16, max_total=4 << 30)
    sets = [[torch.randn(*s, device=dev, dtype=torch.bfloat16) for s in shapes] for _ in range(nsets)]
    me = members.index(ctx.rank)
    nxt, prv = members[(me + 1) % n], members[(me - 1) % n]

    def make(bufs):
        if op == "all_reduce":
            return lambda: dist.all_reduce(bufs[0], group=pg)
        if op == "all_gather":
            return lambda: dist.all_gather_into_tensor(bufs[1], bufs[0], group=pg)
        if op == "reduce_scatter":
            return lambda: dist.reduce_scatter_tensor(bufs[1], bufs[0], group=pg)
        if op == "all_to_all":
            return lambda: dist.all_to_all_single(bufs[1], bufs[0], group=pg)

        def sendrecv():
            reqs = dist.batch_isend_irecv([dist.P2POp(dist.isend, bufs[0], nxt, group=pg),
                                           dist.P2POp(dist.irecv, bufs[1], prv, group=pg)])
            for r in reqs:
                r.wait()
        return sendrecv

    fns = [make(b) for b in sets]
    return lambda i: fns[i % len(fns)]


def nccl_choice(log_text, op, nbytes, gpus):
    """The (algorithm, protocol, channels, calls) NCCL chose most often for `op` of `nbytes`
    (nccl-tests' bytes) in `log_text`, a stretch of its TUNING log; None where it logged no
    such call (point-to-point ops, or no log). NCCL logs all-gather and reduce-scatter by
    their per-rank count, so their lines name nbytes / gpus."""
    func = NCCL_FUNCS.get(op)
    if func is None:
        return None
    logged = nbytes if op == "all_reduce" else nbytes // gpus
    seen = collections.Counter()
    for m in TUNING_LINE.finditer(log_text):
        if m.group(1) == func and int(m.group(2)) == logged:
            seen[(m.group(3), m.group(4), int(m.group(6)) - int(m.group(5)) + 1)] += 1
    if not seen:
        return None
    (algorithm, protocol, channels), calls = seen.most_common(1)[0]
    return algorithm, protocol, channels, calls


class NcclLog:
    """Global rank 0's NCCL debug file, read a row at a time: `mark()` before a row's calls,
    `since(mark)` after them gives what NCCL logged in between (NCCL flushes every line)."""

    def __init__(self, path):
        self.path = path

    def mark(self):
        return os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def since(self, mark):
        if not os.path.exists(self.path):
            return ""
        with open(self.path, errors="replace") as f:
            f.seek(mark)
            return f.read()


def time_collective(ctx, call, target_s=0.05, min_iters=10, max_iters=100):
    """Warm up, agree on an iteration count, barrier, time per iteration; return max over ranks."""
    host, gpu = common.estimate(torch, call, iters=5)
    host, gpu = ctx.max_all([host, gpu])
    n = common.iterations_for(gpu, target_s, min_iters, max_iters)
    ctx.barrier()
    samples = common.timed_samples(torch, call, n, host, gpu, ctx.clock_hz, start_index=6)
    st = common.summarize(samples)
    med, p10, p90 = ctx.max_all([st["median_us"], st["p10_us"], st["p90_us"]])
    return {"median_us": med, "p10_us": p10, "p90_us": p90, "samples": n}


def run_collectives(ctx, table, choices=None, held_out=False):
    """Time every op and size on every partition into `table` (rank 0); with `choices`
    (rank 0, --nccl-choices) also record what NCCL chose for each row. With `held_out`, the
    sizes between the grid's on the contiguous groups instead (collectives_held_out.csv)."""
    log = NcclLog(ctx.opts["nccl_log"]) if choices is not None else None
    deadline = common.Deadline(ctx.opts["coll_budget_s"])
    sizes = held_out_sizes(ctx.opts["quick"]) if held_out else message_sizes(ctx.opts["quick"])
    partitions = group_partitions(ctx.world)
    if held_out:
        partitions = [p for p in partitions if p[1] == "contiguous"]
    for gpus, kind, partition in partitions:
        pg, members = build_groups(ctx, partition)
        for op in (HELD_OUT_OPS if held_out else OPS):
            for nbytes in sizes:
                if ctx.out_of_time(deadline):
                    if table is not None:
                        table.note("truncated", f"budget spent at gpus={gpus} group={kind} op={op} "
                                   f"bytes={nbytes}; later rows not measured")
                    return
                try:
                    mark = log.mark() if log else 0
                    call = collective_call(ctx, op, nbytes, pg, members)
                    st = time_collective(ctx, call)
                    choice = nccl_choice(log.since(mark), op, nbytes, gpus) if log else None
                    if choice is not None:
                        algorithm, protocol, channels, calls = choice
                        choices.add(op=op, gpus=gpus, group=kind, bytes=nbytes, algorithm=algorithm,
                                    protocol=protocol, channels=channels, calls=calls)
                    if table is not None:
                        algbw = nbytes / st["median_us"] / 1e3
                        table.add(op=op, gpus=gpus, group=kind, bytes=nbytes, dtype="bf16", impl="nccl",
                                  algbw_GBps=algbw, busbw_GBps=algbw * common.busbw_factor(op, gpus), **st)
                except Exception as exc:
                    # a failed collective may leave peers waiting: record it and stop this family
                    if table is not None:
                        table.skip(f"nccl {op} gpus={gpus} group={kind} bytes={nbytes}", exc)
                    print(f"[collectives] rank {ctx.rank} failed {op} {gpus}/{kind} {nbytes}: "
                          f"{common.exception_text(exc)}", flush=True)
                    raise
                finally:
                    call = None
                    torch.cuda.synchronize()
            torch.cuda.empty_cache()
        if ctx.rank == 0:
            print(f"[collectives] done gpus={gpus} group={kind} ({deadline.remaining():.0f} s left)", flush=True)


def overlap_trial(ctx, gemm_fn, ar_fn, n_gemm, n_ar):
    """Launch n_gemm GEMMs and n_ar all-reduces on two streams from one start; return per-op
    times (us) of the ops that ran wholly inside the window where both streams were busy."""
    s_g, s_c = torch.cuda.Stream(), torch.cuda.Stream()
    cur = torch.cuda.current_stream()
    ev0 = torch.cuda.Event(enable_timing=True)
    g_ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(n_gemm)]
    c_ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(n_ar)]
    ctx.barrier()
    common.gpu_sleep(torch, 0.02, ctx.clock_hz)
    ev0.record(cur)
    s_g.wait_stream(cur)
    s_c.wait_stream(cur)
    gi = ci = 0
    while gi < n_gemm or ci < n_ar:
        # interleave launches in proportion so neither stream waits for the host
        if gi < n_gemm and (ci >= n_ar or gi * n_ar <= ci * n_gemm):
            with torch.cuda.stream(s_g):
                g_ev[gi][0].record()
                gemm_fn(gi)()
                g_ev[gi][1].record()
            gi += 1
        else:
            with torch.cuda.stream(s_c):
                c_ev[ci][0].record()
                ar_fn(ci)()
                c_ev[ci][1].record()
            ci += 1
    cur.wait_stream(s_g)
    cur.wait_stream(s_c)
    torch.cuda.synchronize()

    def spans(evs):
        return [(ev0.elapsed_time(a), ev0.elapsed_time(b)) for a, b in evs]
    gs, cs = spans(g_ev), spans(c_ev)
    lo = max(gs[0][0], cs[0][0])
    hi = min(gs[-1][1], cs[-1][1])

    def inside(sp):
        sel = [(b - a) * 1e3 for a, b in sp if a >= lo and b <= hi]
        return sel if sel else [(b - a) * 1e3 for a, b in sp]
    return inside(gs), inside(cs)


def run_interference(ctx, table):
    deadline = common.Deadline(ctx.opts["intf_budget_s"])
    parts = [p for p in group_partitions(ctx.world) if p[1] == "contiguous"]
    shapes = ctx.opts.get("intf_shapes") or (GEMM_SHAPES[:1] if ctx.opts["quick"] else GEMM_SHAPES)
    sizes = ctx.opts.get("intf_bytes") or (INTF_BYTES[:1] if ctx.opts["quick"] else INTF_BYTES)
    for gpus, kind, partition in parts:
        pg, members = build_groups(ctx, partition)
        for m, n, k in shapes:
            nsets = common.rotation_count(2 * (m * k + n * k), ctx.l2_bytes, max_sets=8)
            mats = [(torch.randn(m, k, device=ctx.device, dtype=torch.bfloat16),
                     torch.randn(n, k, device=ctx.device, dtype=torch.bfloat16).t()) for _ in range(nsets)]
            gemm_fn = lambda i: (lambda a=mats[i % nsets][0], b=mats[i % nsets][1]: torch.mm(a, b))
            for nbytes in sizes:
                if ctx.out_of_time(deadline):
                    if table is not None:
                        table.note("truncated", f"interference budget spent at gpus={gpus} gemm={m}x{n}x{k} "
                                   f"bytes={nbytes}")
                    return
                ar_fn = collective_call(ctx, "all_reduce", nbytes, pg, members)
                g_alone = time_collective(ctx, gemm_fn, target_s=0.05, min_iters=10, max_iters=50)
                c_alone = time_collective(ctx, ar_fn, target_s=0.05, min_iters=10, max_iters=50)
                window = max(0.08, 12 * max(g_alone["median_us"], c_alone["median_us"]) * 1e-6)
                n_g = max(4, math.ceil(window / (g_alone["median_us"] * 1e-6)))
                n_c = max(4, math.ceil(window / (c_alone["median_us"] * 1e-6)))
                g_samples, c_samples = [], []
                for _ in range(2):
                    gs, cs = overlap_trial(ctx, gemm_fn, ar_fn, n_g, n_c)
                    g_samples += gs
                    c_samples += cs
                rows = []
                for victim, samples, alone, impl in (("gemm", g_samples, g_alone, "torch.mm"),
                                                     ("all_reduce", c_samples, c_alone, "nccl")):
                    st = common.summarize(samples)
                    med, p10, p90, cnt = ctx.max_all([st["median_us"], st["p10_us"], st["p90_us"],
                                                      float(-st["samples"])])
                    rows.append(dict(gpus=gpus, group=kind, victim=victim, gemm_m=m, gemm_n=n, gemm_k=k,
                                     coll_op="all_reduce", coll_bytes=nbytes, dtype="bf16", impl=impl,
                                     alone_median_us=alone["median_us"], median_us=med, p10_us=p10, p90_us=p90,
                                     slowdown=med / alone["median_us"], samples=int(-cnt)))
                if table is not None:
                    for r in rows:
                        table.add(**r)
                    print(f"[interference] gpus={gpus} gemm={m}^3-ish bytes={nbytes}: gemm x{rows[0]['slowdown']:.3f} "
                          f"all_reduce x{rows[1]['slowdown']:.3f}", flush=True)
                ar_fn = None
                torch.cuda.synchronize()
            mats = None
            torch.cuda.empty_cache()


def worker(rank, world, opts):
    """One rank: init NCCL, run the requested families, rank 0 writes the tables."""
    common.apply_safe_env()
    ctx = Ranks(rank, world, opts)
    tables = {}
    if rank == 0:
        name = torch.cuda.get_device_name(0)
        meta = common.collect_meta(torch, name, world, opts["command"], opts["date"])
        out_dir = os.path.join(opts["out"], common.gpu_id(name))
        os.makedirs(out_dir, exist_ok=True)
        if "collectives" in opts["families"]:
            name = "collectives_held_out.csv" if opts["held_out"] else "collectives.csv"
            tables["collectives"] = common.Table(os.path.join(out_dir, name), COLL_COLUMNS, meta)
        if "collectives" in opts["families"] and opts.get("nccl_log_dir"):
            tables["nccl_choices"] = common.Table(os.path.join(out_dir, "nccl_choices.csv"), CHOICE_COLUMNS, meta)
            opts["nccl_log"] = os.path.join(opts["nccl_log_dir"], f"nccl.{os.getpid()}.log")
        if "interference" in opts["families"]:
            tables["interference"] = common.Table(os.path.join(out_dir, "interference.csv"), INTF_COLUMNS, meta)
        names = [torch.cuda.get_device_name(i) for i in range(world)]
        if len(set(names)) > 1:
            for t in tables.values():
                t.note("warning", f"mixed GPUs: {names}")
    try:
        if "collectives" in opts["families"]:
            try:
                run_collectives(ctx, tables.get("collectives"), tables.get("nccl_choices"), opts["held_out"])
            finally:
                if "collectives" in tables:
                    tables["collectives"].write()
        if "interference" in opts["families"]:
            try:
                run_interference(ctx, tables.get("interference"))
            finally:
                if "interference" in tables:
                    tables["interference"].write()
    finally:
        for t in tables.values():
            t.write()
        try:
            ctx.dist.destroy_process_group()
        except Exception:
            pass
    if rank == 0:
        for key, t in tables.items():
            print(f"[{key}] {len(t.rows)} rows -> {t.path}", flush=True)


def main(argv=None):
    p = common.family_parser(__doc__.splitlines()[0])
    p.add_argument("--families", default="collectives,interference")
    p.add_argument("--nccl-choices", action="store_true",
                   help="also write nccl_choices.csv: the algorithm, protocol and channels NCCL chose for "
                        "each collective row, from its TUNING log (NCCL_DEBUG=INFO, to a file)")
    p.add_argument("--held-out", action="store_true",
                   help="measure the sizes between the grid's instead (collectives_held_out.csv), for "
                        "`simulate calibrate` to score the fit on sizes it has not seen")
    p.add_argument("--intf-shapes", default=None, metavar="MxNxK,...",
                   help="interference: these products instead of the default squares, e.g. the shapes a "
                        "training step's backward runs (8192x4096x1024,1024x4096x8192)")
    p.add_argument("--intf-bytes", default=None, metavar="BYTES,...",
                   help="interference: these all-reduce sizes instead of 64 MiB and 1 GiB, e.g. a DDP bucket's")
    args = p.parse_args(argv)
    try:
        intf_shapes = [tuple(int(x) for x in shape.split("x")) for shape in args.intf_shapes.split(",")] \
            if args.intf_shapes else None
        intf_bytes = [int(b) for b in args.intf_bytes.split(",")] if args.intf_bytes else None
    except ValueError:
        p.error("--intf-shapes takes MxNxK products and --intf-bytes whole byte counts, comma-separated")
    if intf_shapes and any(len(shape) != 3 or min(shape) < 1 for shape in intf_shapes):
        p.error("--intf-shapes takes products of three positive sizes, MxNxK")
    if intf_bytes and min(intf_bytes) < 1:
        p.error("--intf-bytes takes positive byte counts")
    if args.held_out and args.nccl_choices:
        p.error("--held-out and --nccl-choices: NCCL's choices are recorded for the grid's sizes only")
    common.install_sigterm_exit()
    import torch.multiprocessing as mp
    visible = torch.cuda.device_count()
    world = args.gpus or visible
    if world < 2 or world > visible:
        print(f"[collectives] need 2..{visible} GPUs, asked for {world}: nothing measured", flush=True)
        return 0
    families = [f for f in args.families.split(",") if f]
    budget = args.budget_s
    share = {"collectives": 0.65, "interference": 0.35}
    total_share = sum(share[f] for f in families)
    opts = {
        "port": common.free_port(), "out": args.out, "quick": args.quick, "families": families,
        "budget_s": budget,
        "coll_budget_s": budget * share["collectives"] / total_share,
        "intf_budget_s": budget * share["interference"] / total_share,
        "command": args.command or " ".join([os.path.basename(sys.executable)] + sys.argv),
        "date": args.date or common.utc_now_iso(),
        "nccl_log_dir": None,
        "held_out": args.held_out,
        "intf_shapes": intf_shapes,
        "intf_bytes": intf_bytes,
    }
    if args.nccl_choices:
        # Set before the ranks start, so every rank's NCCL reads them at init; only the log
        # file (one per process, %p its pid) changes, the collectives themselves do not.
        opts["nccl_log_dir"] = tempfile.mkdtemp(prefix="nccl-choices-")
        os.environ.update(NCCL_DEBUG="INFO", NCCL_DEBUG_SUBSYS="TUNING",
                          NCCL_DEBUG_FILE=os.path.join(opts["nccl_log_dir"], "nccl.%p.log"))
    mp.spawn(worker, args=(world, opts), nprocs=world, join=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
