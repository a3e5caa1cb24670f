"""Grouped expert GEMM table (grouped_gemm.csv): MoE expert layers, one kernel vs a per-expert loop.

A mixture-of-experts layer multiplies each expert's routed tokens by that
expert's weights.  The simulator needs (a) what one grouped kernel costs
(torch._grouped_mm in bf16, torch._scaled_grouped_mm in fp8), (b) what the
plain per-expert loop costs (launch overhead grows with the expert count),
(c) how both react to routing skew (balanced vs Zipf token counts; the
slowest expert bounds the layer), and (d) MxMoE-style mixed precision where
each expert runs its own kernel (bf16 torch.mm, fp8 torch._scaled_mm, int8
torch._int_mm, 4-bit weight-only torch._weight_int4pack_mm).

Token counts per expert are whole multiples of 16 (MoE kernels pad groups to
this alignment); the int8 kernel needs more than 16 rows, so an expert with 16
tokens runs 32 rows there.  Inputs are converted to the low-precision format
before timing; the timed region is the expert computation only.

With --held-out the table is grouped_gemm_held_out.csv: the two grouped kernels only, at
5,792 and 11,584 tokens, between the grid's 4,096, 8,192 and 16,384 (about √2 from each),
for `simulate calibrate` to score the fit on shapes it has not seen (predicted from the
whole grouped_gemm.csv).

Times are device time with launches queued ahead of the GPU (see common.py);
host_us is what the host spent issuing one iteration, which bounds a
per-expert loop when it exceeds the device time.
"""

import common  # first: sets the NCCL/NVSHMEM safety variables before torch loads

import sys

try:
    import torch
except ImportError:
    torch = None

# (experts, top-k, hidden, expert ffn width)
CONFIGS = [
    (8, 2, 4096, 14336),   # Mixtral-8x7B-like
    (16, 4, 4096, 6144),
    (64, 6, 2048, 1408),   # DeepSeek-MoE-16B-like fine-grained experts
    (8, 2, 1024, 2816),    # the validation MoE (strategies/validation/moe-*.strata) on one GPU,
    (4, 2, 1024, 2816),    # and the local experts of one GPU under expert parallelism 2
    (2, 2, 1024, 2816),    # and 4 (each GPU receives every GPU's rows for its experts)
]
# 8,192 joined the grid on 2026-11-28, after a held-out run at it showed the fp8 kernel's
# throughput already saturated there: between 4,096 and 16,384 alone the fit missed it by 9 %.
TOKENS = [4096, 8192, 16384]
HELD_OUT_TOKENS = [5792, 11584]
DISTRIBUTIONS = ["balanced", "zipf"]
ZIPF_S = 1.2
UNIT = 16
INT8_MIN_ROWS = 32
INT4_GROUP = 128
COLUMNS = ["experts", "topk", "tokens", "distribution", "m_total", "n", "k", "max_tokens_per_expert",
           "dtype", "impl", "kernel", "median_us", "p10_us", "p90_us", "tflops", "host_us", "samples"]
MIXED_ORDER = ["bf16", "fp8_e4m3", "int8", "int4"]  # hottest quarter first
KERNEL_OF = {"bf16": "torch.mm", "fp8_e4m3": "torch._scaled_mm", "int8": "torch._int_mm",
             "int4": "torch._weight_int4pack_mm"}


def token_counts(tokens, topk, experts, distribution, unit=UNIT, s=ZIPF_S):
    """Tokens routed to each expert (sum = tokens*topk), in whole units of `unit`.

    balanced: equal shares.  zipf: share of expert i proportional to
    1/(i+1)^s, expert 0 hottest, as routing skew in trained MoE models roughly
    follows a power law.  Largest-remainder rounding keeps the sum exact and
    the result deterministic.
    """
    total = tokens * topk
    if total % unit:
        raise ValueError("tokens*topk must be a multiple of the unit")
    units = total // unit
    if distribution == "balanced":
        weights = [1.0] * experts
    elif distribution == "zipf":
        weights = [1.0 / (i + 1) ** s for i in range(experts)]
    else:
        raise ValueError(distribution)
    wsum = sum(weights)
    exact = [units * w / wsum for w in weights]
    base = [int(x) for x in exact]
    left = units - sum(base)
    order = sorted(range(experts), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return [b * unit for b in base]


def mixed_assignment(counts):
    """MxMoE-style precision per expert: hottest quarter bf16, then fp8, int8, coldest int4.

    Cold experts are memory-bound on weights, so 4-bit weights help them most;
    hot experts are compute-bound and keep higher precision.  Ties are broken
    by expert index, so a balanced layer gets quarters by index.
    """
    e = len(counts)
    order = sorted(range(e), key=lambda i: (-counts[i], i))
    out = [None] * e
    for rank, i in enumerate(order):
        out[i] = MIXED_ORDER[min(3, rank * 4 // e)]
    return out


def grid(quick=False, held_out=False):
    """(experts, topk, hidden, ffn, tokens, distribution, projection) cases: the grid's, or
    with `held_out` the token counts between its (HELD_OUT_TOKENS)."""
    configs = CONFIGS[:1] if quick else CONFIGS
    tokens = HELD_OUT_TOKENS if held_out else [4096] if quick else TOKENS
    dists = DISTRIBUTIONS
    out = []
    for e, k, h, f in configs:
        for t in tokens:
            for d in dists:
                for proj in ("up", "down"):
                    out.append((e, k, h, f, t, d, proj))
    return out


class Case:
    """All operand formats for one MoE projection, built once and shared by every impl."""

    def __init__(self, ctx, experts, counts, n, k, need):
        t, dev = ctx.torch, ctx.device
        self.t, self.counts, self.n, self.k = t, counts, n, k
        self.m_total = sum(counts)
        self.offsets = [0]
        for c in counts:
            self.offsets.append(self.offsets[-1] + c)
        rows = self.m_total + INT8_MIN_ROWS  # padding so int8 slices may read 32 rows
        self.one = t.ones((), device=dev, dtype=t.float32)
        self.offs = t.tensor(self.offsets[1:], device=dev, dtype=t.int32)
        self.a = t.randn(rows, k, device=dev, dtype=t.bfloat16)
        self.w = t.randn(experts, n, k, device=dev, dtype=t.bfloat16)  # row-major N x K per expert
        if "fp8_e4m3" in need:
            self.a8 = self.a.to(t.float8_e4m3fn)
            self.w8 = self.w.to(t.float8_e4m3fn)
            self.scale_a = t.ones(self.m_total, device=dev, dtype=t.float32)
            self.scale_b = t.ones(experts, n, device=dev, dtype=t.float32)
        if "int8" in need:
            self.ai = t.randint(-128, 128, (rows, k), device=dev, dtype=t.int8)
            self.wi = t.randint(-128, 128, (experts, n, k), device=dev, dtype=t.int8)
        if "int4" in need:
            self.w4 = [t._convert_weight_to_int4pack(
                t.randint(0, 256, (n, k // 2), device=dev, dtype=t.uint8), 8) for _ in range(experts)]
            self.sz = [t.rand(k // INT4_GROUP, n, 2, device=dev, dtype=t.bfloat16) * 0.02 + 0.001
                       for _ in range(experts)]

    def expert_op(self, e, dtype):
        """Zero-argument function computing expert e in `dtype` (None if it has no tokens)."""
        t, c, o = self.t, self.counts[e], self.offsets[e]
        if c == 0:
            return None
        if dtype == "bf16":
            a, b = self.a[o:o + c], self.w[e].t()
            return lambda: t.mm(a, b)
        if dtype == "fp8_e4m3":
            a, b, one = self.a8[o:o + c], self.w8[e].t(), self.one
            return lambda: t._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=t.bfloat16)
        if dtype == "int8":
            a, b = self.ai[o:o + max(c, INT8_MIN_ROWS)], self.wi[e].t()
            return lambda: t._int_mm(a, b)
        if dtype == "int4":
            a, wp, sz = self.a[o:o + c], self.w4[e], self.sz[e]
            return lambda: t._weight_int4pack_mm(a, wp, INT4_GROUP, sz)
        raise ValueError(dtype)

    def loop(self, dtypes):
        ops = [self.expert_op(e, d) for e, d in enumerate(dtypes)]
        ops = [op for op in ops if op is not None]

        def run():
            for op in ops:
                op()
        return run

    def grouped_bf16(self):
        t, a, b, offs = self.t, self.a[: self.m_total], self.w.transpose(1, 2), self.offs
        return lambda: t._grouped_mm(a, b, offs=offs)

    def grouped_fp8(self):
        t = self.t
        a, b, offs = self.a8[: self.m_total], self.w8.transpose(1, 2), self.offs
        sa, sb = self.scale_a, self.scale_b
        return lambda: t._scaled_grouped_mm(a, b, sa, sb, offs=offs, out_dtype=t.bfloat16)


def main(argv=None):
    p = common.family_parser(__doc__.splitlines()[0])
    p.add_argument("--held-out", action="store_true",
                   help="the grouped kernels at token counts between the grid's instead "
                        "(grouped_gemm_held_out.csv), for `simulate calibrate` to score the fit")
    args = p.parse_args(argv)
    common.install_sigterm_exit()
    ctx = common.DeviceContext(args)
    table = ctx.table("grouped_gemm_held_out.csv" if args.held_out else "grouped_gemm.csv", COLUMNS)
    table.note("notes", f"per-expert token counts in multiples of {UNIT}; zipf s={ZIPF_S}, expert 0 hottest; "
               "up: k=hidden n=ffn, down: k=ffn n=hidden; mixed = hottest quarter bf16, then fp8, int8, "
               "coldest int4; tflops = useful 2*m_total*n*k / time")
    deadline = common.Deadline(args.budget_s)
    cases = grid(args.quick, args.held_out)
    variants = [("bf16", "torch._grouped_mm"), ("fp8_e4m3", "torch._scaled_grouped_mm"),
                ("bf16", "loop"), ("fp8_e4m3", "loop"), ("int8", "loop"), ("int4", "loop"),
                ("mixed", "loop")]
    if args.held_out:
        variants = variants[:2]
    if not hasattr(torch, "_grouped_mm"):
        table.skip("torch._grouped_mm bf16", "torch has no attribute _grouped_mm in this build")
    if not hasattr(torch, "_scaled_grouped_mm"):
        table.skip("torch._scaled_grouped_mm fp8_e4m3", "torch has no attribute _scaled_grouped_mm in this build")
    done = 0
    try:
        for (experts, topk, h, f, tokens, dist, proj) in cases:
            if deadline.expired():
                table.note("truncated", f"budget of {args.budget_s:.0f} s spent; "
                           f"{len(cases) - done} of {len(cases)} cases not measured")
                break
            done += 1
            k, n = (h, f) if proj == "up" else (f, h)
            counts = token_counts(tokens, topk, experts, dist)
            mixed = mixed_assignment(counts)
            try:
                case = Case(ctx, experts, counts, n, k, need={"fp8_e4m3", "int8", "int4"})
            except Exception as exc:
                # int4 packing is the likeliest to be missing: retry without it
                table.skip(f"loop int4 e={experts} n={n} k={k} (setup)", exc)
                try:
                    case = Case(ctx, experts, counts, n, k, need={"fp8_e4m3", "int8"})
                except Exception as exc2:
                    table.skip(f"case e={experts} n={n} k={k} (setup)", exc2)
                    common.free_cuda(torch)
                    continue
            for dtype, impl in variants:
                if impl.startswith("torch.") and not hasattr(torch, impl.split(".", 1)[1]):
                    continue
                try:
                    if impl == "torch._grouped_mm":
                        fn, kernel = case.grouped_bf16(), impl
                    elif impl == "torch._scaled_grouped_mm":
                        fn, kernel = case.grouped_fp8(), impl
                    elif dtype == "mixed":
                        fn, kernel = case.loop(mixed), "mixed"
                    else:
                        fn, kernel = case.loop([dtype] * experts), KERNEL_OF[dtype]
                    st = common.bench(torch, lambda i, fn=fn: fn, ctx.clock_hz,
                                      target_s=0.02, min_iters=5, max_iters=40 if not args.quick else 10,
                                      with_host=True)
                    flops = 2.0 * case.m_total * n * k
                    table.add(experts=experts, topk=topk, tokens=tokens, distribution=dist,
                              m_total=case.m_total, n=n, k=k, max_tokens_per_expert=max(counts),
                              dtype=dtype, impl=impl, kernel=kernel,
                              tflops=flops / st["median_us"] / 1e6, **st)
                except Exception as exc:
                    table.skip(f"{impl} {dtype} e={experts} n={n} k={k} {dist}", exc)
                    print(f"[grouped_gemm] skip {impl} {dtype} e={experts} {n}x{k} {dist}: "
                          f"{common.exception_text(exc)}", flush=True)
            case = None
            common.free_cuda(torch)
    finally:
        table.write()
    print(f"[grouped_gemm] {len(table.rows)} rows -> {table.path}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
