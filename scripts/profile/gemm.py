"""Dense GEMM table (gemm.csv): bf16, fp8, int8 and 4-bit weight-only matrix products.

The simulator predicts the time of every linear layer from (M, N, K), so the
grid is the set of shapes real transformer layers produce: for each model
width and tensor-parallel degree, the QKV projection, the attention output
projection and the MLP up/down projections, at micro-batch token counts M.
Layout follows nn.Linear: A is M x K row-major (activations), B is the
transpose of a row-major N x K weight (so B is column-major, which is also
what torch._scaled_mm requires of its second operand).

Timed region: the one matmul call only; fp8/int8/int4 inputs are converted
before timing (a real fp8 layer also pays a cast, which elementwise-style ops
would model separately).

L2 and clock as in a model: the weight B is rotated among sets larger than L2,
so it comes from memory, as a layer's weight does; the activation A is rewritten
by an untimed kernel just before each timed product, so it sits in L2 as far as
it fits, as the output of the op before a layer does (`--activations`, default
warm). Each shape is timed in one short burst (`--burst-ms`, default 5 ms of
products) after an idle pause (`--cooldown-ms`, default 20 ms), since a GPU
running products back to back for long reaches its power limit and lowers its
clock (an H100 after a second of 4096x8192x2048: 1545 MHz and 212 us a call;
with idle gaps 1980 MHz and 187 us). Neither choice moved the quick grid on one
GPU by more than 2.5 % against A cold or 30 ms bursts back to back (the tables
before 2026-11-28); runs on different H100s differ by 2-5 %, which is why
gemm.csv merges several (docs/cost-model.md).

With --held-out the table is gemm_held_out.csv: bf16 and fp8 products of models the grid
never saw (LLaMA-3 8B, LLaMA-3.2 3B and Mistral-NeMo 12B widths, as `layer_shapes` cuts
them at each TP degree) at 2,048 and 8,192 tokens, between the grid's 1,024, 4,096 and
16,384; shapes the grid has are left out. A run never reads it; `simulate calibrate`
predicts each from the whole grid and prints the errors.
"""

import common  # first: sets the NCCL/NVSHMEM safety variables before torch loads

import sys
import time

try:
    import torch
except ImportError:  # the grid helpers below are testable without torch
    torch = None

# (name, hidden, heads, kv_heads, ffn, gated MLP)
MODELS = [
    ("gpt-350m", 1024, 16, 16, 4096, False),
    ("llama-1b", 2048, 32, 8, 8192, True),
    ("llama2-7b", 4096, 32, 32, 11008, True),
    ("llama2-13b", 5120, 40, 40, 13824, True),
    ("llama2-70b", 8192, 64, 8, 28672, True),
    ("gpt3-175b", 12288, 96, 96, 49152, False),
]
TP_DEGREES = [1, 2, 4, 8]
TOKENS = [1024, 4096, 16384]
CUBES = [1024, 2048, 4096, 8192, 16384]
# Vocabularies of the language-model head (GPT-2's padded, LLaMA-2's, LLaMA-3's).
VOCABULARIES = [50304, 32000, 128256]
# Held-out models and token counts (`--held-out`): widths and MLPs the grid lacks.
HELD_OUT_MODELS = [
    ("llama3-8b", 4096, 32, 8, 14336, True),
    ("llama3.2-3b", 3072, 24, 8, 8192, True),
    ("mistral-nemo-12b", 5120, 32, 8, 14336, True),
]
HELD_OUT_TOKENS = [2048, 8192]
COLUMNS = ["m", "n", "k", "dtype", "impl", "median_us", "p10_us", "p90_us", "tflops", "samples"]
INT4_GROUP = 128


def layer_shapes(hidden, heads, kv_heads, ffn, gated, tp):
    """(N, K) of the four linear layers of one transformer block on one TP rank.

    QKV and MLP-up are column-parallel (N split by tp); attention-out and
    MLP-down are row-parallel (K split by tp).  A gated MLP (SwiGLU) fuses gate
    and up into one matrix of 2*ffn outputs.
    """
    head_dim = hidden // heads
    qkv_n = (heads + 2 * kv_heads) * head_dim // tp
    up_n = (2 * ffn if gated else ffn) // tp
    return [
        (qkv_n, hidden),          # QKV projection
        (hidden, hidden // tp),   # attention output projection
        (up_n, hidden),           # MLP up (gate+up when gated)
        (hidden, ffn // tp),      # MLP down
    ]


def gemm_grid(quick=False):
    """Sorted unique (m, n, k) for bf16 and fp8: transformer shapes, language-model heads
    and square cubes. Small models (hidden < 4096) only at TP 1 and 2, as they are trained."""
    models = [m for m in MODELS if m[0] == "llama2-7b"] if quick else MODELS
    tps = [1, 8] if quick else TP_DEGREES
    tokens = [4096] if quick else TOKENS
    cubes = [8192] if quick else CUBES
    shapes = set()
    for _, h, heads, kv, ffn, gated in models:
        for tp in [t for t in tps if h >= 4096 or t <= 2]:
            for n, k in layer_shapes(h, heads, kv, ffn, gated, tp):
                for m in tokens:
                    shapes.add((m, n, k))
    # The head, [tokens, hidden] x [hidden, vocab], for the small models' widths.
    for vocab in ([] if quick else VOCABULARIES):
        for h in (1024, 2048, 4096):
            for m in tokens:
                shapes.add((m, vocab, h))
    for c in cubes:
        shapes.add((c, c, c))
    return sorted(shapes)


def held_out_grid(quick=False):
    """Sorted unique (m, n, k) of HELD_OUT_MODELS' layers at HELD_OUT_TOKENS, TP 1 to 8 for
    widths of 4,096 and more (1 and 2 below), none of them a shape of `gemm_grid`."""
    models = HELD_OUT_MODELS[:1] if quick else HELD_OUT_MODELS
    grid = set(gemm_grid())
    shapes = set()
    for _, h, heads, kv, ffn, gated in models:
        for tp in [t for t in TP_DEGREES if h >= 4096 or t <= 2]:
            for n, k in layer_shapes(h, heads, kv, ffn, gated, tp):
                for m in HELD_OUT_TOKENS[:1] if quick else HELD_OUT_TOKENS:
                    shapes.add((m, n, k))
    return sorted(shapes - grid)


def low_precision_grid(quick=False):
    """Smaller grid for int8 and int4 weight-only: M=4096, TP 1 and 2, plus 8192^3.

    K must be a multiple of 128 for the int4 kernel (8 inner k-tiles of 16)
    and of the quantization group; shapes that are not are left out.
    """
    models = MODELS[:1] if quick else MODELS
    tps = [1] if quick else [1, 2]
    shapes = set()
    for _, h, heads, kv, ffn, gated in models:
        for tp in tps:
            for n, k in layer_shapes(h, heads, kv, ffn, gated, tp):
                if k % 128 == 0 and n % 16 == 0:
                    shapes.add((4096, n, k))
    shapes.add((8192, 8192, 8192))
    return sorted(shapes)


def make_case(ctx, dtype, m, n, k, warm_activations=True):
    """Build rotated input sets for one (dtype, shape); return (impl, call(i)). With
    `warm_activations`, call(i) first rewrites set i's A in place (an untimed kernel that
    leaves A in L2 as far as it fits) before it returns the product to time."""
    t, dev = ctx.torch, ctx.device
    if dtype == "bf16":
        set_bytes = 2 * (m * k + n * k)
    elif dtype == "int4":
        set_bytes = 2 * m * k + n * k // 2
    else:
        set_bytes = m * k + n * k
    nsets = common.rotation_count(set_bytes, ctx.l2_bytes, max_sets=16)
    sets = []
    for _ in range(nsets):
        if dtype == "bf16":
            a = t.randn(m, k, device=dev, dtype=t.bfloat16)
            b = t.randn(n, k, device=dev, dtype=t.bfloat16).t()
            sets.append((a, b))
        elif dtype == "fp8_e4m3":
            a = t.randn(m, k, device=dev, dtype=t.bfloat16).to(t.float8_e4m3fn)
            b = t.randn(n, k, device=dev, dtype=t.bfloat16).to(t.float8_e4m3fn).t()
            sets.append((a, b))
        elif dtype == "int8":
            a = t.randint(-128, 128, (m, k), device=dev, dtype=t.int8)
            b = t.randint(-128, 128, (n, k), device=dev, dtype=t.int8).t()
            sets.append((a, b))
        elif dtype == "int4":
            x = t.randn(m, k, device=dev, dtype=t.bfloat16)
            wq = t.randint(0, 256, (n, k // 2), device=dev, dtype=t.uint8)
            wp = t._convert_weight_to_int4pack(wq, 8)
            sz = (t.rand(k // INT4_GROUP, n, 2, device=dev, dtype=t.bfloat16) * 0.02 + 0.001)
            sets.append((x, wp, sz))
    one = t.ones((), device=dev, dtype=t.float32)
    products = {
        "bf16": lambda a, b: t.mm(a, b),
        "fp8_e4m3": lambda a, b: t._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=t.bfloat16),
        "int8": lambda a, b: t._int_mm(a, b),
        "int4": lambda x, wp, sz: t._weight_int4pack_mm(x, wp, INT4_GROUP, sz),
    }
    if dtype not in products:
        raise ValueError(dtype)
    product, impl = products[dtype], IMPL_OF[dtype]

    def call(i):
        operands = sets[i % nsets]
        if warm_activations:
            operands[0].view(t.uint8).bitwise_or_(0)  # rewrites every byte of A in L2; values unchanged
        return lambda: product(*operands)
    return impl, call


IMPL_OF = {"bf16": "torch.mm", "fp8_e4m3": "torch._scaled_mm", "int8": "torch._int_mm",
           "int4": "torch._weight_int4pack_mm"}


def main(argv=None):
    parser = common.family_parser(__doc__.splitlines()[0])
    parser.add_argument("--burst-ms", type=float, default=5.0,
                        help="milliseconds of back-to-back products timed per shape (default 5: short enough that "
                             "the clock does not drop to the power limit)")
    parser.add_argument("--cooldown-ms", type=float, default=20.0,
                        help="idle milliseconds before each shape's timed burst (default 20)")
    parser.add_argument("--activations", choices=("warm", "cold"), default="warm",
                        help="warm (default): A rewritten just before each product, in L2 as in a model; "
                             "cold: A rotated from memory like B")
    parser.add_argument("--held-out", action="store_true",
                        help="bf16 and fp8 products of models and token counts the grid lacks instead "
                             "(gemm_held_out.csv), for `simulate calibrate` to score the fit on shapes it has not seen")
    args = parser.parse_args(argv)
    if args.burst_ms <= 0 or args.cooldown_ms < 0:
        parser.error("--burst-ms must be above 0 and --cooldown-ms at least 0")
    common.install_sigterm_exit()
    ctx = common.DeviceContext(args)
    table = ctx.table("gemm_held_out.csv" if args.held_out else "gemm.csv", COLUMNS)
    table.note("notes", "B is column-major (transpose of a row-major NxK weight, as nn.Linear); "
               "fp8 = e4m3 both operands, per-tensor scales, bf16 out; int8 = torch._int_mm int32 out "
               "(tflops column is TOPS); int4 = 4-bit weights, group 128, bf16 activations")
    table.note("clock", f"each shape timed in one burst of about {args.burst_ms:g} ms of products after "
               f"{args.cooldown_ms:g} ms idle, so the clock stays below the power limit's")
    table.note("l2", "B rotated among sets larger than L2; " + (
        "A rewritten by an untimed kernel just before each product (in L2 as far as it fits, as in a model)"
        if args.activations == "warm" else "A rotated with B (cold)"))
    deadline = common.Deadline(args.budget_s)
    if args.held_out:
        jobs = [(s, d) for s in held_out_grid(args.quick) for d in ("bf16", "fp8_e4m3")]
    else:
        jobs = [(s, d) for s in gemm_grid(args.quick) for d in ("bf16", "fp8_e4m3")]
        jobs += [(s, d) for s in low_precision_grid(args.quick) for d in ("int8", "int4")]
    done = 0
    try:
        for (m, n, k), dtype in jobs:
            if deadline.expired():
                table.note("truncated", f"budget of {args.budget_s:.0f} s spent; "
                           f"{len(jobs) - done} of {len(jobs)} measurements not taken")
                break
            done += 1
            try:
                impl, call = make_case(ctx, dtype, m, n, k, warm_activations=args.activations == "warm")
                torch.cuda.synchronize()
                time.sleep(args.cooldown_ms / 1e3)
                st = common.bench(torch, call, ctx.clock_hz, target_s=args.burst_ms / 1e3,
                                  min_iters=5, max_iters=50 if not args.quick else 10)
                flops = 2.0 * m * n * k
                table.add(m=m, n=n, k=k, dtype=dtype, impl=impl, tflops=flops / st["median_us"] / 1e6, **st)
            except Exception as exc:
                table.skip(f"{IMPL_OF[dtype]} {dtype} m={m} n={n} k={k}", exc)
                print(f"[gemm] skip {dtype} {m}x{n}x{k}: {common.exception_text(exc)}", flush=True)
            finally:
                call = None
                common.free_cuda(torch)
    finally:
        table.write()
    print(f"[gemm] {len(table.rows)} rows -> {table.path}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
