"""Sparse attention table (sparse_attention.csv): FlexAttention time against mask density.

SampleAttention-style sparse prefill keeps, for each query, a local window of
recent keys plus a set of "column stripes" (keys every query attends to).
The simulator needs the curve of time versus density to price such methods,
so this measures compiled torch.nn.attention.flex_attention with block masks
of that shape at several stripe ratios, plus the dense causal mask through
the same kernel (density 1.0) as the reference point.

The mask is built at block granularity (128 x 128 tiles), the granularity
at which the kernel skips work: query block i attends key block j < i when
i - j < window_blocks or j is a stripe block, and its own diagonal block
causally.  Stripe blocks are drawn with a fixed seed, block 0 (the attention
sink) always included when the ratio is above zero.  Off-diagonal blocks are
"full" (no per-element masking); only diagonal blocks evaluate the causal
mask_mod, so every mask shares one mask_mod function and one compiled kernel
per sequence length.

density = computed blocks / blocks of the dense causal mask.
"""

import common  # first: sets the NCCL/NVSHMEM safety variables before torch loads

import importlib
import random
import sys

try:
    import torch
except ImportError:
    torch = None

BLOCK = 128
SEQS = [8192, 32768]
HEADS, KV_HEADS, HEAD_DIM, BATCH = 32, 8, 128, 1
WINDOWS = [512, 2048]
STRIPE_RATIOS = [0.0, 0.02, 0.05, 0.1, 0.2, 0.4]
COLUMNS = ["pass", "batch", "seq", "heads", "kv_heads", "head_dim", "block_size", "mask", "window",
           "stripe_ratio", "density", "dtype", "impl", "median_us", "p10_us", "p90_us", "samples"]


def stripe_blocks(nblocks, ratio, seed=0):
    """Key blocks every query attends to: round(ratio*nblocks) of them, block 0 first."""
    count = int(round(ratio * nblocks))
    if count <= 0:
        return set()
    rng = random.Random(seed * 1000003 + nblocks)
    rest = list(range(1, nblocks))
    rng.shuffle(rest)
    return set([0] + rest[: count - 1])


def block_layout(nblocks, window_blocks, stripes):
    """Per query block: sorted list of fully-attended key blocks (j < i); diagonal handled apart."""
    full = []
    for i in range(nblocks):
        full.append([j for j in range(i) if (i - j) < window_blocks or j in stripes])
    return full


def density_of(full, nblocks):
    """Computed blocks (full + one diagonal per row) over dense causal blocks."""
    computed = sum(len(r) for r in full) + nblocks
    return computed / (nblocks * (nblocks + 1) / 2)


def masks(seq, quick=False):
    """(mask name, window tokens, stripe ratio) cases for one sequence length; dense first."""
    out = [("causal", seq, 0.0)]
    windows = WINDOWS[:1] if quick else WINDOWS
    ratios = [0.0, 0.1] if quick else STRIPE_RATIOS
    for w in windows:
        for r in ratios:
            out.append(("window+stripes", w, r))
    return out


def causal_mod(b, h, q_idx, kv_idx):
    """Causal mask for the diagonal blocks (the only partial blocks)."""
    return q_idx >= kv_idx


def build_block_mask(t, dev, seq, full):
    """BlockMask from explicit block lists: diagonal blocks partial (causal), listed blocks full."""
    from torch.nn.attention.flex_attention import BlockMask
    nb = seq // BLOCK
    kv_num = t.ones(1, 1, nb, device=dev, dtype=t.int32)
    kv_idx = t.zeros(1, 1, nb, nb, device=dev, dtype=t.int32)
    kv_idx[0, 0, :, 0] = t.arange(nb, device=dev, dtype=t.int32)
    full_num = t.tensor([len(r) for r in full], device=dev, dtype=t.int32).view(1, 1, nb)
    flat = t.zeros(nb, nb, dtype=t.int32)
    for i, r in enumerate(full):
        if r:
            flat[i, : len(r)] = t.tensor(r, dtype=t.int32)
    full_idx = flat.to(dev).view(1, 1, nb, nb)
    return BlockMask.from_kv_blocks(kv_num, kv_idx, full_num, full_idx, BLOCK_SIZE=BLOCK,
                                    mask_mod=causal_mod, seq_lengths=(seq, seq))


def build_block_mask_fallback(t, dev, seq, window_blocks, stripes):
    """Same mask through create_block_mask (used only if BlockMask.from_kv_blocks fails)."""
    from torch.nn.attention.flex_attention import create_block_mask
    nb = seq // BLOCK
    flags = t.zeros(nb, device=dev, dtype=t.bool)
    if stripes:
        flags[t.tensor(sorted(stripes), device=dev)] = True

    def mod(b, h, q_idx, kv_idx):
        qb, kb = q_idx // BLOCK, kv_idx // BLOCK
        return (q_idx >= kv_idx) & (((qb - kb) < window_blocks) | flags[kb])
    return create_block_mask(mod, None, None, seq, seq, device=dev, BLOCK_SIZE=BLOCK, _compile=True)


def main(argv=None):
    args = common.family_parser(__doc__.splitlines()[0]).parse_args(argv)
    common.install_sigterm_exit()
    ctx = common.DeviceContext(args)
    t, dev = torch, ctx.device
    table = ctx.table("sparse_attention.csv", COLUMNS)
    table.note("notes", f"FlexAttention compiled (torch.compile, dynamic=False), bf16, causal, "
               f"block {BLOCK}; stripes drawn with a fixed seed, block 0 always a stripe")
    deadline = common.Deadline(args.budget_s)
    importlib.import_module("torch._dynamo")  # makes t._dynamo.config available
    for name in ("cache_size_limit", "recompile_limit"):
        if hasattr(t._dynamo.config, name):
            setattr(t._dynamo.config, name, 64)
    try:
        from torch.nn.attention.flex_attention import flex_attention
        flex = t.compile(flex_attention, dynamic=False)
    except Exception as exc:
        table.skip("flex_attention (import/compile)", exc)
        table.write()
        return 0
    seqs = [8192] if args.quick else SEQS
    try:
        for seq in seqs:
            nb = seq // BLOCK
            q = t.randn(BATCH, HEADS, seq, HEAD_DIM, device=dev, dtype=t.bfloat16, requires_grad=True)
            k = t.randn(BATCH, KV_HEADS, seq, HEAD_DIM, device=dev, dtype=t.bfloat16, requires_grad=True)
            v = t.randn(BATCH, KV_HEADS, seq, HEAD_DIM, device=dev, dtype=t.bfloat16, requires_grad=True)
            dout = t.randn(BATCH, HEADS, seq, HEAD_DIM, device=dev, dtype=t.bfloat16)
            for mask, window, ratio in masks(seq, args.quick):
                if deadline.expired():
                    table.note("truncated", f"budget of {args.budget_s:.0f} s spent at seq={seq} "
                               f"mask={mask} window={window} stripes={ratio}")
                    raise StopIteration
                wb = max(1, window // BLOCK)
                stripes = stripe_blocks(nb, ratio)
                full = block_layout(nb, wb, stripes)
                dens = density_of(full, nb)
                try:
                    bm = build_block_mask(t, dev, seq, full)
                except Exception as exc:
                    table.skip("BlockMask.from_kv_blocks (using create_block_mask instead)", exc)
                    try:
                        bm = build_block_mask_fallback(t, dev, seq, wb, stripes)
                    except Exception as exc2:
                        table.skip(f"flex_attention block mask seq={seq}", exc2)
                        continue
                for pass_ in ("fwd", "bwd"):
                    try:
                        if pass_ == "fwd":
                            def call(i):
                                return lambda: flex(q, k, v, block_mask=bm, enable_gqa=True)
                        else:
                            def call(i):
                                out = flex(q, k, v, block_mask=bm, enable_gqa=True)
                                return lambda: t.autograd.grad(out, (q, k, v), dout)
                        st = common.bench(t, call, ctx.clock_hz, target_s=0.03, min_iters=5,
                                          max_iters=20 if not args.quick else 6)
                        table.add(**{"pass": pass_}, batch=BATCH, seq=seq, heads=HEADS, kv_heads=KV_HEADS,
                                  head_dim=HEAD_DIM, block_size=BLOCK, mask=mask, window=window,
                                  stripe_ratio=ratio, density=round(dens, 6), dtype="bf16",
                                  impl="flex_attention", **st)
                        print(f"[sparse_attention] seq={seq} {mask} w={window} r={ratio} d={dens:.3f} "
                              f"{pass_} {st['median_us']:.1f} us", flush=True)
                    except Exception as exc:
                        table.skip(f"flex_attention {pass_} seq={seq} mask={mask}", exc)
                        print(f"[sparse_attention] skip {pass_} seq={seq}: {common.exception_text(exc)}",
                              flush=True)
            q = k = v = dout = None
            common.free_cuda(t)
    except StopIteration:
        pass
    finally:
        table.write()
    print(f"[sparse_attention] {len(table.rows)} rows -> {table.path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
