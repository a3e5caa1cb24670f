"""Dense causal attention table (attention.csv): scaled_dot_product_attention forward and backward.

Attention cost grows with sequence length squared, so the simulator needs it
measured, not derived from GEMM rates.  Each case is a causal self-attention
over (batch, seq, heads, kv_heads, head_dim) in bf16, run through
torch.nn.functional.scaled_dot_product_attention pinned to one backend
(FlashAttention, impl "sdpa-flash"; cuDNN, impl "sdpa-cudnn").  Grouped-query
attention (kv_heads < heads) uses enable_gqa=True where the backend accepts
it, else K/V are expanded with repeat_interleave inside the timed region
(the `gqa` column says which).

Tokens per micro-batch are held at 16384 (batch = 16384 / seq) up to 16K
sequence length, then batch 1; up to 4K sequence length also at 4096 tokens
(batch = 4096 / seq), where batch x heads gives the kernel few enough blocks
that its last wave runs part-empty: LLaMA-1B's forward at batch 1, sequence
4096, 32 heads ran about 10 % slower per unit of work in the validation runner
than the 16384-token cases predicted.  Tensors are laid out (batch, seq, heads,
dim) and transposed to SDPA's (batch, heads, seq, dim) view, as models do.

With --held-out the table is attention_held_out.csv: the same measurements at sequence
lengths between the grid's (3072, 6144, 12288, 24576) and head shapes it lacks (24 heads
over 8 key/value heads of 128, LLaMA-3.2 3B's; 40 full heads of 128, LLaMA-2 13B's; 12 of
64, GPT-2 small's), 16384 tokens a micro-batch. A run never reads it; `simulate
calibrate` predicts each case from the whole grid and prints the errors.

Timed region: forward = the SDPA call; backward = autograd.grad of the output
w.r.t. q, k, v (the forward that builds the graph runs untimed just before).
tflops counts causal work: forward 2*2*b*h*s*s*d/2, backward 2.5x that.
"""

import common  # first: sets the NCCL/NVSHMEM safety variables before torch loads

import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

SEQS = [1024, 2048, 4096, 8192, 16384, 32768]
TOKENS_PER_BATCH = 16384
SMALL_BATCH_TOKENS = 4096  # a second, smaller micro-batch up to this sequence length
HEADS = [(32, 32, 128), (32, 8, 128), (64, 8, 128), (32, 32, 64), (16, 16, 64), (16, 4, 64)]  # heads, kv_heads, head_dim
HELD_OUT_SEQS = [3072, 6144, 12288, 24576]
HELD_OUT_HEADS = [(24, 8, 128), (40, 40, 128), (12, 12, 64)]
COLUMNS = ["pass", "batch", "seq", "heads", "kv_heads", "head_dim", "causal", "gqa", "dtype", "impl",
           "median_us", "p10_us", "p90_us", "tflops", "samples"]


def attention_flops(batch, seq, heads, head_dim, pass_, causal=True):
    """Matmul FLOPs of attention: QK^T and PV (2 GEMMs of 2*s*s*d each), halved for causal.

    Backward has five such GEMMs where forward has two: 2.5x.
    """
    fwd = 4.0 * batch * heads * seq * seq * head_dim
    if causal:
        fwd /= 2.0
    return fwd if pass_ == "fwd" else 2.5 * fwd


def held_out_grid(quick=False):
    """(batch, seq, heads, kv_heads, head_dim) cases the grid lacks: its sequence lengths'
    midpoints, head shapes of other models, 16384 tokens a micro-batch (batch 1 above)."""
    seqs = HELD_OUT_SEQS[:1] if quick else HELD_OUT_SEQS
    heads = HELD_OUT_HEADS[:1] if quick else HELD_OUT_HEADS
    return [(max(1, TOKENS_PER_BATCH // s), s, h, kv, d) for s in seqs for h, kv, d in heads]


def grid(quick=False):
    seqs = [4096] if quick else SEQS
    heads = HEADS[:2] if quick else HEADS
    out = []
    for s in seqs:
        for h, kv, d in heads:
            out.append((max(1, TOKENS_PER_BATCH // s), s, h, kv, d))
            if not quick and s <= SMALL_BATCH_TOKENS:
                out.append((SMALL_BATCH_TOKENS // s, s, h, kv, d))
    return out


def backends():
    from torch.nn.attention import SDPBackend
    out = [("sdpa-flash", SDPBackend.FLASH_ATTENTION)]
    if hasattr(SDPBackend, "CUDNN_ATTENTION"):
        out.append(("sdpa-cudnn", SDPBackend.CUDNN_ATTENTION))
    return out


def make_call(ctx, backend, b, s, h, kv, d, pass_, gqa_mode):
    """Rotated input sets and a call(i) for one case; gqa_mode is 'none', 'enable_gqa' or 'repeat'."""
    t, dev = ctx.torch, ctx.device
    from torch.nn.attention import sdpa_kernel
    set_bytes = 2 * b * s * d * (h + 2 * kv) * (1 if pass_ == "fwd" else 2)
    nsets = common.rotation_count(set_bytes, ctx.l2_bytes, max_sets=8)
    grad = pass_ == "bwd"
    sets = []
    for _ in range(nsets):
        q = t.randn(b, s, h, d, device=dev, dtype=t.bfloat16, requires_grad=grad)
        k = t.randn(b, s, kv, d, device=dev, dtype=t.bfloat16, requires_grad=grad)
        v = t.randn(b, s, kv, d, device=dev, dtype=t.bfloat16, requires_grad=grad)
        dout = t.randn(b, s, h, d, device=dev, dtype=t.bfloat16).transpose(1, 2) if grad else None
        sets.append((q, k, v, dout))
    rep = h // kv

    def forward(q, k, v):
        qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        with sdpa_kernel([backend]):
            if gqa_mode == "enable_gqa":
                return F.scaled_dot_product_attention(qt, kt, vt, is_causal=True, enable_gqa=True)
            if gqa_mode == "repeat":
                kt = kt.repeat_interleave(rep, dim=1)
                vt = vt.repeat_interleave(rep, dim=1)
            return F.scaled_dot_product_attention(qt, kt, vt, is_causal=True)

    if not grad:
        def call(i):
            q, k, v, _ = sets[i % nsets]
            return lambda: forward(q, k, v)
    else:
        def call(i):
            q, k, v, dout = sets[i % nsets]
            out = forward(q, k, v)  # untimed: builds the graph for the timed backward
            return lambda: t.autograd.grad(out, (q, k, v), dout)
    return call


def main(argv=None):
    parser = common.family_parser(__doc__.splitlines()[0])
    parser.add_argument("--held-out", action="store_true",
                        help="sequence lengths and head shapes the grid lacks instead (attention_held_out.csv), "
                             "for `simulate calibrate` to score the fit on cases it has not seen")
    args = parser.parse_args(argv)
    common.install_sigterm_exit()
    ctx = common.DeviceContext(args)
    table = ctx.table("attention_held_out.csv" if args.held_out else "attention.csv", COLUMNS)
    deadline = common.Deadline(args.budget_s)
    cases = held_out_grid(args.quick) if args.held_out else grid(args.quick)
    impls = backends()
    gqa_choice = {}  # impl -> 'enable_gqa' or 'repeat', decided by the first GQA case
    done = 0
    total = len(cases) * len(impls) * 2
    try:
        for b, s, h, kv, d in cases:
            for impl, backend in impls:
                for pass_ in ("fwd", "bwd"):
                    if deadline.expired():
                        table.note("truncated", f"budget of {args.budget_s:.0f} s spent; "
                                   f"{total - done} of {total} measurements not taken")
                        raise StopIteration
                    done += 1
                    modes = ["none"] if h == kv else (
                        [gqa_choice[impl]] if impl in gqa_choice else ["enable_gqa", "repeat"])
                    last_exc = None
                    for mode in modes:
                        try:
                            call = make_call(ctx, backend, b, s, h, kv, d, pass_, mode)
                            st = common.bench(torch, call, ctx.clock_hz, target_s=0.03,
                                              min_iters=5, max_iters=30 if not args.quick else 8)
                            if mode != "none":
                                gqa_choice.setdefault(impl, mode)
                            table.add(**{"pass": pass_}, batch=b, seq=s, heads=h, kv_heads=kv, head_dim=d,
                                      causal=1, gqa=mode, dtype="bf16", impl=impl,
                                      tflops=attention_flops(b, s, h, d, pass_) / st["median_us"] / 1e6, **st)
                            last_exc = None
                            break
                        except Exception as exc:
                            last_exc = exc
                            if mode == "enable_gqa":
                                table.skip(f"{impl} enable_gqa (falling back to repeat_interleave)", exc)
                        finally:
                            call = None
                            common.free_cuda(torch)
                    if last_exc is not None:
                        table.skip(f"{impl} {pass_} b={b} s={s} h={h} kv={kv} d={d}", last_exc)
                        print(f"[attention] skip {impl} {pass_} s={s} h={h}/{kv} d={d}: "
                              f"{common.exception_text(last_exc)}", flush=True)
    except StopIteration:
        pass
    finally:
        table.write()
    print(f"[attention] {len(table.rows)} rows -> {table.path}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
