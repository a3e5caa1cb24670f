"""Memory-bound op table (elementwise.csv): norms, activations, softmax/cross-entropy, embedding, AdamW, copies.

Outside GEMMs and attention, a training step spends its time in ops bounded by
memory bandwidth.  The simulator prices them as bytes / achieved bandwidth, so
each row records the bytes the op must move (each input read once, each
output written once, as the implementation does it) next to its time; GBps is
bytes / median time.

ops (pass fwd and bwd where training runs both):
  layer_norm, rms_norm   x [tokens, hidden] bf16 (F.layer_norm, F.rms_norm)
  gelu                   x [tokens, hidden] bf16, tanh approximation; hidden = the MLP width
  swiglu                 silu(gate) * up on two contiguous [tokens, hidden] bf16 tensors (eager, 2
                         kernels), as a model with separate gate and up products runs it (Strata
                         lowers LLaMA's gate and up as two products; halves of one fused
                         [tokens, 2*hidden] product are strided views, which PyTorch's eager kernels
                         read far slower: docs/cost-model.md, "SwiGLU")
  softmax                over the last dim of [tokens, vocab] bf16
  cross_entropy          F.cross_entropy(logits.float()) on bf16 logits [tokens, vocab]: the cast,
                         log_softmax and nll in fp32, as training code runs it
  rope                   rotary embeddings applied to q and k ([tokens, hidden] each, head_dim 128,
                         on the head-major view of a fused qkv) the eager way: slice, neg, cat, 2 mul, add
  moe_permute            a MoE layer's tokens into expert order as the validation runner does it: the
                         router's softmax in fp32 over [tokens, experts] logits (`vocab` holds the
                         experts), the gate weight of each of `numel` token-expert assignments
                         gathered, and the tokens' rows gathered (index_select), top-2; bwd:
                         their gradients (index_add into the tokens' rows, the softmax's)
  moe_unpermute          the way back: each assignment's row scaled by its gate weight and added
                         into its token's row (index_add into zeros); bwd: both gradients
  layout_copy            a [seq, batch, width] bf16 tensor made contiguous batch-first,
                         x.transpose(0, 1).contiguous() (`tokens` = seq x batch, `vocab` holds the
                         batch): what PyTorch's flash backward does to its output and output
                         gradient in the sequence-first layout when a micro-batch holds more than
                         one sequence
  accumulate             grad.add_(new) on bf16 gradients of numel elements (autograd's AccumulateGrad
                         when a micro-batch's gradient is added to the kept one)
  embedding              F.embedding of tokens ids into a [vocab, hidden] bf16 table;
                         bwd = dense weight gradient (zero fill + accumulate)
  adamw                  torch.optim.AdamW(fused=True).step() over fp32 params (numel), in
                         tensors of at most 64M elements
  copy_d2d, copy_h2d, copy_d2h   tensor.copy_ of numel bytes (host side pinned)

Bytes per op are spelled out in bytes_moved() below and in README.md.
"""

import common  # first: sets the NCCL/NVSHMEM safety variables before torch loads

import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

COLUMNS = ["op", "pass", "dtype", "impl", "tokens", "hidden", "vocab", "numel", "bytes",
           "median_us", "p10_us", "p90_us", "GBps", "samples"]
MiB = 1 << 20


def bytes_moved(op, pass_, tokens=0, hidden=0, vocab=0, numel=0, elem=2):
    """Bytes an op must move, by the kernels PyTorch runs for it (documented in README.md)."""
    n = tokens * hidden
    if op in ("layer_norm", "rms_norm"):
        params = hidden * elem * (2 if op == "layer_norm" else 1)
        # fwd: read x, write y; bwd: read dy and x, write dx, write weight (and bias) grads
        return 2 * n * elem + params if pass_ == "fwd" else 3 * n * elem + 2 * params
    if op == "gelu":
        return 2 * n * elem if pass_ == "fwd" else 3 * n * elem
    if op == "swiglu":  # n = tokens * ffn width; reads gate and up (2n), writes n
        return 3 * n * elem if pass_ == "fwd" else 5 * n * elem
    if op == "softmax":
        n = tokens * vocab
        return 2 * n * elem if pass_ == "fwd" else 3 * n * elem
    if op == "cross_entropy":
        n = tokens * vocab
        # Strata's count: fwd reads the 16-bit logits and writes their fp32 log-probs; bwd
        # reads the fp32 log-probs and writes the 16-bit logits gradient
        return n * (elem + 4)
    if op == "rope":
        # Strata's count: read and write q and k once each (what a fused kernel moves)
        return 4 * n * elem
    if op == "accumulate":
        return 3 * numel * elem  # read the kept gradient and the new one, write the sum
    if op == "layout_copy":
        return 2 * n * elem  # every element read and written once
    if op == "moe_permute":
        # Strata's count (OpCosts.moePermute), both passes: the assignments' rows read and
        # written, the fp32 logits read and probabilities written
        return 2 * numel * hidden * elem + 8 * tokens * vocab
    if op == "moe_unpermute":
        # Strata's count (OpCosts.moeUnpermute), both passes: the rows read, scaled and
        # added (read, write), and the tokens' output rows written
        return 3 * numel * hidden * elem + n * elem
    if op == "embedding":
        ids = tokens * 8
        # fwd: gather rows (read + write tokens x hidden); bwd: read dy, zero and write the table grad
        return ids + 2 * n * elem if pass_ == "fwd" else ids + n * elem + 2 * vocab * hidden * elem
    if op == "adamw":
        return 28 * numel  # fp32: read p, g, m, v (16 B); write p, m, v (12 B)
    if op == "copy_d2d":
        return 2 * numel   # read + write in device memory
    if op in ("copy_h2d", "copy_d2h"):
        return numel       # bytes across PCIe
    raise ValueError(op)


def numel_of(op, tokens=0, hidden=0, vocab=0, numel=0):
    """Elements the op produces: tokens*vocab for softmax/cross-entropy, tokens*hidden for the
    other per-token ops, parameters for adamw, bytes for copies."""
    if op in ("softmax", "cross_entropy"):
        return tokens * vocab
    if op in ("adamw", "copy_d2d", "copy_h2d", "copy_d2h", "accumulate", "moe_permute", "moe_unpermute"):
        return numel
    return tokens * hidden


def grid(quick=False):
    """(op, pass, dims dict) cases."""
    cases = []
    tokens = [4096] if quick else [2048, 4096, 16384]
    for t in tokens:
        # 1536 between the two narrowest widths: norms' backward runs a quarter slower per
        # byte at 1024 than at 2048, and the model reads norms by rows and width
        # (NormInterpolation), which needs to see where that step is.
        for h in ([4096] if quick else [1024, 1536, 2048, 4096, 8192, 12288]):
            for op in ("layer_norm", "rms_norm"):
                for p in ("fwd", "bwd"):
                    cases.append((op, p, dict(tokens=t, hidden=h)))
        for w in ([16384] if quick else [4096, 8192, 16384, 32768]):
            for p in ("fwd", "bwd"):
                cases.append(("gelu", p, dict(tokens=t, hidden=w)))
        for w in ([11008] if quick else [2816, 8192, 11008, 28672]):
            for p in ("fwd", "bwd"):
                cases.append(("swiglu", p, dict(tokens=t, hidden=w)))
        for v in ([32000] if quick else [32000, 50304, 128256]):
            for p in ("fwd", "bwd"):
                cases.append(("cross_entropy", p, dict(tokens=t, vocab=v)))
                if v != 50304:
                    cases.append(("softmax", p, dict(tokens=t, vocab=v)))
        for h in ([2048] if quick else [1024, 2048, 4096, 8192]):
            for p in ("fwd", "bwd"):
                cases.append(("rope", p, dict(tokens=t, hidden=h)))
        for v, h in ([(32000, 4096)] if quick else [(32000, 1024), (50304, 1024), (128256, 2048), (32000, 4096),
                                                     (128256, 4096), (128256, 8192)]):
            for p in ("fwd", "bwd"):
                cases.append(("embedding", p, dict(tokens=t, hidden=h, vocab=v)))
        # MoE routing, top-2: 8 experts of hidden 1024 (the validation models) to 64 of 4096
        for experts, h in ([(8, 1024)] if quick else [(8, 1024), (64, 1024), (8, 4096), (64, 4096)]):
            for op in ("moe_permute", "moe_unpermute"):
                for p in ("fwd", "bwd"):
                    cases.append((op, p, dict(tokens=t, hidden=h, vocab=experts, numel=2 * t)))
    # sequence-first activations made batch-first: (seq, batch) x width, 4 to 64 MiB and more
    for seq, batch in ([(2048, 4)] if quick else [(1024, 8), (2048, 2), (2048, 4), (4096, 2), (4096, 8)]):
        for width in ([1024] if quick else [1024, 2048, 4096]):
            cases.append(("layout_copy", "fwd", dict(tokens=seq * batch, hidden=width, vocab=batch)))
    for numel in ([1 << 24] if quick else [1 << 20, 1 << 24, 1 << 27, 1 << 30, 3 << 30]):
        cases.append(("adamw", "step", dict(numel=numel)))
    for shift in (range(20, 31, 4) if quick else range(20, 33, 2)):
        cases.append(("copy_d2d", "fwd", dict(numel=1 << shift)))
    for shift in ([24] if quick else range(12, 31, 3)):
        cases.append(("accumulate", "fwd", dict(numel=1 << shift)))
    for shift in (range(20, 27, 6) if quick else range(20, 31, 2)):
        cases.append(("copy_h2d", "fwd", dict(numel=1 << shift)))
        cases.append(("copy_d2h", "fwd", dict(numel=1 << shift)))
    return cases


IMPL = {"layer_norm": "F.layer_norm", "rms_norm": "F.rms_norm", "gelu": "F.gelu(tanh)",
        "swiglu": "eager:F.silu(gate)*up", "softmax": "torch.softmax", "cross_entropy": "F.cross_entropy(logits.float())",
        "rope": "eager:slice+neg+cat+mul+mul+add", "accumulate": "Tensor.add_",
        "moe_permute": "softmax(fp32)+gather+index_select", "moe_unpermute": "mul+index_add",
        "embedding": "F.embedding", "adamw": "torch.optim.AdamW(fused=True)",
        "copy_d2d": "Tensor.copy_", "copy_h2d": "Tensor.copy_(pinned)", "copy_d2h": "Tensor.copy_(pinned)",
        "layout_copy": "transpose+contiguous"}


def make_call(ctx, op, pass_, tokens=0, hidden=0, vocab=0, numel=0):
    """Rotated inputs and call(i) for one case; returns (dtype, call)."""
    t, dev, bf = ctx.torch, ctx.device, ctx.torch.bfloat16
    grad = pass_ == "bwd"
    est = max(1, bytes_moved(op, pass_ if pass_ != "step" else "fwd", tokens, hidden, vocab, numel))
    nsets = common.rotation_count(est, ctx.l2_bytes, max_sets=32, max_total=16 << 30)

    def rnd(*shape, dtype=bf, req=False):
        return t.randn(*shape, device=dev, dtype=dtype, requires_grad=req)

    if op in ("layer_norm", "rms_norm", "gelu", "swiglu", "softmax", "cross_entropy"):
        sets = []
        for _ in range(nsets):
            if op in ("layer_norm", "rms_norm"):
                x = rnd(tokens, hidden, req=grad)
                w = rnd(hidden, req=grad)
                b = rnd(hidden, req=grad) if op == "layer_norm" else None
                sets.append((x, w, b, rnd(tokens, hidden) if grad else None))
            elif op == "gelu":
                sets.append((rnd(tokens, hidden, req=grad), None, None, rnd(tokens, hidden) if grad else None))
            elif op == "swiglu":  # gate in x, up in w
                sets.append((rnd(tokens, hidden, req=grad), rnd(tokens, hidden, req=grad), None,
                             rnd(tokens, hidden) if grad else None))
            elif op == "softmax":
                sets.append((rnd(tokens, vocab, req=grad), None, None, rnd(tokens, vocab) if grad else None))
            else:  # cross_entropy
                tgt = t.randint(0, vocab, (tokens,), device=dev)
                sets.append((rnd(tokens, vocab, req=grad), tgt, None, None))

        def forward(x, w, b):
            if op == "layer_norm":
                return F.layer_norm(x, (hidden,), w, b)
            if op == "rms_norm":
                return F.rms_norm(x, (hidden,), w)
            if op == "gelu":
                return F.gelu(x, approximate="tanh")
            if op == "swiglu":
                return F.silu(x) * w
            if op == "softmax":
                return t.softmax(x, dim=-1)
            return F.cross_entropy(x.float(), w)

        if not grad:
            def call(i):
                x, w, b, _ = sets[i % nsets]
                return lambda: forward(x, w, b)
        else:
            def call(i):
                x, w, b, dy = sets[i % nsets]
                y = forward(x, w, b)
                inputs = tuple(z for z in (x, w, b) if z is not None and z.requires_grad)
                return lambda: t.autograd.grad(y, inputs, dy)
        return "bf16", call

    if op == "rope":
        d = 128
        heads = max(1, hidden // d)
        pos = t.arange(tokens, device=dev, dtype=t.float32)
        inv = 1.0 / (500000.0 ** (t.arange(0, d, 2, device=dev, dtype=t.float32) / d))
        emb = t.cat([t.outer(pos, inv)] * 2, dim=-1)
        cos, sin = emb.cos().to(bf), emb.sin().to(bf)

        def rope(x):
            half = x.shape[-1] // 2
            return x * cos + t.cat([-x[..., half:], x[..., :half]], dim=-1) * sin

        sets = []
        for _ in range(nsets):
            qkv = rnd(tokens, 1, 3 * heads * d, req=grad)
            q, k, _v = qkv.split(heads * d, dim=-1)
            q = q.view(tokens, 1, heads, d).permute(1, 2, 0, 3)
            k = k.view(tokens, 1, heads, d).permute(1, 2, 0, 3)
            sets.append((qkv, q, k, (rnd(1, heads, tokens, d), rnd(1, heads, tokens, d)) if grad else None))
        if not grad:
            def call(i):
                _, q, k, _ = sets[i % nsets]
                return lambda: (rope(q), rope(k))
        else:
            def call(i):
                qkv, q, k, dys = sets[i % nsets]
                ys = (rope(q), rope(k))
                return lambda: t.autograd.grad(ys, (qkv,), dys)
        return "bf16", call

    if op in ("moe_permute", "moe_unpermute"):
        # numel token-expert assignments over `tokens` tokens and `vocab` experts, slots in
        # token order as the runner lays them out (slot s is token s mod tokens)
        slot_token = t.arange(numel, device=dev) % tokens
        slot_expert = t.randint(0, vocab, (numel,), device=dev)
        sets = []
        for _ in range(nsets):
            if op == "moe_permute":
                dys = (rnd(numel, hidden), t.randn(numel, device=dev)) if grad else None
                sets.append((rnd(tokens, hidden, req=grad), rnd(tokens, vocab, req=grad), dys))
            else:
                gate = t.rand(numel, device=dev, dtype=t.float32, requires_grad=grad)
                sets.append((rnd(numel, hidden, req=grad), gate, rnd(tokens, hidden) if grad else None))

        def forward(a, b):
            if op == "moe_permute":
                probs = t.softmax(b.float(), dim=-1)
                return a.index_select(0, slot_token), probs[slot_token, slot_expert]
            scaled = a * b.unsqueeze(1).to(a.dtype)
            return t.zeros(tokens, hidden, device=dev, dtype=bf).index_add(0, slot_token, scaled)

        if not grad:
            def call(i):
                a, b, _ = sets[i % nsets]
                return lambda: forward(a, b)
        else:
            def call(i):
                a, b, dys = sets[i % nsets]
                ys = forward(a, b)
                return lambda: t.autograd.grad(ys, (a, b), dys)
        return "bf16", call

    if op == "layout_copy":
        batch = vocab
        sets = [rnd(tokens // batch, batch, hidden) for _ in range(nsets)]

        def call(i):
            x = sets[i % nsets]
            return lambda: x.transpose(0, 1).contiguous()
        return "bf16", call

    if op == "accumulate":
        sets = [(rnd(numel), rnd(numel)) for _ in range(nsets)]

        def call(i):
            kept, new = sets[i % nsets]
            return lambda: kept.add_(new)
        return "bf16", call

    if op == "embedding":
        sets = []
        for _ in range(nsets):
            ids = t.randint(0, vocab, (tokens,), device=dev)
            w = rnd(vocab, hidden, req=grad)
            sets.append((ids, w, rnd(tokens, hidden) if grad else None))
        if not grad:
            def call(i):
                ids, w, _ = sets[i % nsets]
                return lambda: F.embedding(ids, w)
        else:
            def call(i):
                ids, w, dy = sets[i % nsets]
                y = F.embedding(ids, w)
                return lambda: t.autograd.grad(y, (w,), dy)
        return "bf16", call

    if op == "adamw":
        chunk = 1 << 26
        sets = []
        for _ in range(nsets):
            params = []
            left = numel
            while left > 0:
                n = min(chunk, left)
                p = t.nn.Parameter(t.randn(n, device=dev, dtype=t.float32))
                p.grad = t.randn(n, device=dev, dtype=t.float32)
                params.append(p)
                left -= n
            sets.append(t.optim.AdamW(params, lr=1e-4, fused=True))

        def call(i):
            return sets[i % nsets].step
        return "fp32", call

    if op == "copy_d2d":
        sets = [(t.randint(0, 255, (numel,), device=dev, dtype=t.uint8),
                 t.empty(numel, device=dev, dtype=t.uint8)) for _ in range(nsets)]

        def call(i):
            src, dst = sets[i % nsets]
            return lambda: dst.copy_(src, non_blocking=True)
        return "uint8", call

    if op in ("copy_h2d", "copy_d2h"):
        host = t.randint(0, 255, (numel,), dtype=t.uint8).pin_memory()
        devbuf = t.randint(0, 255, (numel,), device=dev, dtype=t.uint8)
        if op == "copy_h2d":
            return "uint8", lambda i: (lambda: devbuf.copy_(host, non_blocking=True))
        return "uint8", lambda i: (lambda: host.copy_(devbuf, non_blocking=True))
    raise ValueError(op)


def main(argv=None):
    parser = common.family_parser(__doc__.splitlines()[0])
    parser.add_argument("--ops", default="", help="measure only these ops (comma-separated; default: all)")
    args = parser.parse_args(argv)
    wanted = [op for op in args.ops.split(",") if op]
    unknown = sorted(set(wanted) - set(IMPL))
    if unknown:
        parser.error(f"unknown op(s) {', '.join(unknown)}; the ops are {', '.join(sorted(IMPL))}")
    common.install_sigterm_exit()
    ctx = common.DeviceContext(args)
    table = ctx.table("elementwise.csv", COLUMNS)
    deadline = common.Deadline(args.budget_s)
    cases = [case for case in grid(args.quick) if not wanted or case[0] in wanted]
    done = 0
    try:
        for op, pass_, dims in cases:
            if deadline.expired():
                table.note("truncated", f"budget of {args.budget_s:.0f} s spent; "
                           f"{len(cases) - done} of {len(cases)} measurements not taken")
                break
            done += 1
            try:
                dtype, call = make_call(ctx, op, pass_, **dims)
                st = common.bench(torch, call, ctx.clock_hz, target_s=0.02, min_iters=8,
                                  max_iters=100 if not args.quick else 10)
                nbytes = bytes_moved(op, "fwd" if pass_ == "step" else pass_, **dims)
                table.add(op=op, **{"pass": pass_}, dtype=dtype, impl=IMPL[op],
                          tokens=dims.get("tokens", 0), hidden=dims.get("hidden", 0),
                          vocab=dims.get("vocab", 0), numel=numel_of(op, **dims),
                          bytes=nbytes, GBps=nbytes / st["median_us"] / 1e3, **st)
            except Exception as exc:
                table.skip(f"{IMPL[op]} {op} {pass_} " + " ".join(f"{k}={v}" for k, v in dims.items()), exc)
                print(f"[elementwise] skip {op} {pass_} {dims}: {common.exception_text(exc)}", flush=True)
            finally:
                call = None
                common.free_cuda(torch)
    finally:
        table.write()
    print(f"[elementwise] {len(table.rows)} rows -> {table.path}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
