"""Host cost table (host.csv): what eager PyTorch's host spends on each op of a training step.

launch.csv times the cheapest possible op (a 1-element add_).  A real step costs the host
more per op: module calls, views and reshapes around the kernels, autograd nodes that
launch nothing, gradient accumulation, and collectives called from Python.  When the GPU's
kernels are short (small models, tensor parallelism, experts) the host is what an
iteration waits for, so the simulator prices each op's host time from this table.

Each row is one of the simulator's ops (OpFamily names) and a pass, implemented the way
scripts/validate/run.py implements it, at sizes so small that the GPU never holds the host
back.  An op is timed as a chain: the op applied K times in one autograd graph, forward
then backward, and the cost per op is the slope between a short and a long chain,
(T(K_long) - T(K_short)) / (K_long - K_short), so the graph's fixed costs (the engine's
start, the loss) cancel.  Composite rows subtract what they contain: `attention` is the
runner's fused-QKV split, head views, SDPA and output reshape, less the QKV product;
`cross_entropy` is the fp32 cast and loss, less the head product; `embedding` less the
residual add it feeds.

  gemm            F.linear on [seq, batch, hidden], a leaf weight (backward: both products
                  and the weight's AccumulateGrad node, its first micro-batch)
  accumulate      backward only: what adding a later micro-batch's weight gradient into
                  the kept one costs beyond the first micro-batch's
  rms_norm, layer_norm, gelu, swiglu (silu(x) * x), add, rope (q and k, the runner's
                  slice/neg/cat/mul/add), attention, embedding, cross_entropy, grouped_gemm
                  (torch._grouped_mm over 4 experts), moe_permute (router softmax, gate
                  gather, rows into expert order, less the router product) and moe_unpermute
                  (gate-weighted index_add back), as the runner's MoE layer runs them
  <collective>    call: one collective from Python in the runner's autograd Functions, on
                  2 GPUs (all_reduce forward and backward, all_gather, reduce_scatter,
                  all_to_all), at message sizes from 2 KiB to 64 MiB (`bytes`; 0 for the
                  ops above, whose host cost does not depend on size)

In context an op costs more than in a chain of itself. So the script also times the
runner's own LLaMA layer (run.Block) in a chain of layers and scales every op row by the
ratio of that layer to the sum of its ops' rows (LLAMA_LAYER), per pass; and, on 2 GPUs,
the layer with tensor parallelism: what it costs beyond the `layer_llama` row, per
all-reduce, against the all-reduce's chain figure at the layer's message size, scales the
all-reduce rows per pass and the other collectives' rows by the mean of the two. Both
layers are measured against one baseline, the `layer_llama` row, which is what the scaled
op rows add up to, so that the simulator's TP layer (its ops' rows and two all-reduces)
costs what the TP layer measured. The same is done for MoE: the runner's layer with a MoE
MLP (`layer_moe`) sets the ratio of the rows only MoE has (permute, grouped products,
unpermute: `moe_in_context`), and with its experts spread over the 2 GPUs (`layer_moe_ep2`)
the all-to-all's, per pass (`all_to_all/fwd`, `/bwd`; `all_to_all_in_context`). And the
LLaMA layer as an FSDP2 unit over the 2 GPUs, as run.py wraps one (`layer_llama_fsdp2`, and
`layer_llama_fsdp2_no_sync` without the gradients' reduce-scatter): what it costs beyond
the `layer_llama` row is what FSDP2's hooks, Python driving each unit's all-gather, copy-out,
reshard and reduce-scatter, cost the host a unit (`fsdp_unit`, `fsdp_unit_no_sync`). The layers
with collectives are timed in pairs with the same layer without them, in turn within each
repeat, and carried onto the baseline row by each pair's ratio: a host drifts from minute
to minute by more than the collectives cost (docs/accuracy.md), and a pair falls on one
stretch of it. The layers are written as rows too (`layer_llama`, `layer_llama_tp2`,
`layer_moe`, `layer_moe_ep2`) and the ratios as the table's notes.

    python3 scripts/profile/host.py --reanchor traces/h100-sxm/host.csv

re-derives the collective rows of a table written before that baseline was used, from its
own rows and notes (`anchor_table`).

Medians over repeats; p10 and p90 say how steady the host was.
"""

import common  # first: sets the NCCL/NVSHMEM safety variables before torch loads

import math
import os
import re
import sys
import time
import types

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

COLUMNS = ["op", "pass", "bytes", "median_us", "p10_us", "p90_us", "chain_short", "chain_long", "samples"]
# Collective message sizes: NCCL picks channels and protocol by size, so the host's work
# per call might depend on it (on the H100 host it does not grow: 40-94 us an all-reduce
# from 2 KiB to 64 MiB).
COLLECTIVE_BYTES = [2 << 10, 256 << 10, 4 << 20, 16 << 20, 64 << 20]
SEQ, BATCH, HIDDEN, HEADS, HEAD_DIM, VOCAB, EXPERTS = 32, 1, 256, 4, 64, 1024, 4
SHORT, LONG = 8, 40
# Chains of layers are shorter: they are timed behind a busy GPU (BusyGPU), so all their
# kernels must fit CUDA's launch queue (about 1,000: launch.py's launch_queue_depth) for the
# host never to wait for a slot; 8 MoE layers launch about 800.
LAYER_SHORT, LAYER_LONG = 2, 8
BUSY_AHEAD_S = 0.08  # GPU work queued ahead of a layer chain: several times its issue
DEVICE = "cuda"  # tests run the same code on "cpu"
ROWS = 2 * SEQ * BATCH  # grouped_gemm: each token routed to 2 of the experts, 16 rows apiece


def leaf(*shape, scale=0.02):
    return (torch.randn(*shape, device=DEVICE, dtype=torch.bfloat16) * scale).requires_grad_(True)


def apply_rope(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


class Chains:
    """The chain elements: `step(op, y, p)` takes the running activation y ([seq, batch,
    hidden]) and the element's leaves p, and returns the next activation; `params(op, k)`
    makes the leaves of k elements."""

    def __init__(self):
        s, b, d = SEQ, BATCH, HEAD_DIM
        pos = torch.arange(s, device=DEVICE, dtype=torch.float32)
        inv = 1.0 / (500000.0 ** (torch.arange(0, d, 2, device=DEVICE, dtype=torch.float32) / d))
        emb = torch.cat([torch.outer(pos, inv)] * 2, dim=-1)
        self.cos, self.sin = emb.cos().to(torch.bfloat16), emb.sin().to(torch.bfloat16)
        self.ids = torch.randint(0, VOCAB, (b, s), device=DEVICE)
        self.targets = torch.randint(0, VOCAB, (s * b,), device=DEVICE)
        self.offs = torch.arange(1, EXPERTS + 1, device=DEVICE, dtype=torch.int32) * (ROWS // EXPERTS)
        g = torch.Generator(device=DEVICE)
        g.manual_seed(0)
        self.permutation = torch.randperm(ROWS, device=DEVICE, generator=g)
        self.slot_row = torch.arange(ROWS, device=DEVICE)
        self.slot_expert = torch.randint(0, 2 * EXPERTS, (ROWS,), device=DEVICE, generator=g)

    def params(self, op, k):
        h = HIDDEN
        if op in ("gemm", "accumulate"):
            return [leaf(h, h) for _ in range(k)]
        if op == "attention":
            return [leaf(3 * h, h) for _ in range(k)]
        if op == "rms_norm":
            return [leaf(h, scale=1.0) for _ in range(k)]
        if op == "layer_norm":
            return [(leaf(h, scale=1.0), leaf(h)) for _ in range(k)]
        if op == "embedding":
            return [leaf(VOCAB, h) for _ in range(k)]
        if op == "cross_entropy":
            return [leaf(VOCAB, h) for _ in range(k)]
        if op == "grouped_gemm":
            return [leaf(EXPERTS, h, h) for _ in range(k)]
        if op == "moe_permute":
            return [leaf(2 * EXPERTS, h) for _ in range(k)]
        if op == "moe_unpermute":
            return [torch.rand(ROWS, device=DEVICE).requires_grad_(True) for _ in range(k)]
        return [None] * k

    def step(self, op, y, p):
        s, b, h, heads, d = SEQ, BATCH, HIDDEN, HEADS, HEAD_DIM
        if op in ("gemm", "accumulate"):
            return F.linear(y, p)
        if op == "rms_norm":
            return F.rms_norm(y, (h,), p, 1e-5)
        if op == "layer_norm":
            return F.layer_norm(y, (h,), p[0], p[1], 1e-5)
        if op == "gelu":
            return F.gelu(y, approximate="tanh")
        if op == "swiglu":
            return F.silu(y) * y
        if op == "add":
            return y + y
        if op == "rope":
            q = y.view(s, b, heads, d).permute(1, 2, 0, 3)
            q = apply_rope(apply_rope(q, self.cos, self.sin), self.cos, self.sin)  # q, then k
            return q.permute(2, 0, 1, 3).reshape(s, b, h)
        if op == "attention":
            qkv = F.linear(y, p)
            q, k, v = qkv.split([h, h, h], dim=-1)
            q = q.view(s, b, heads, d).permute(1, 2, 0, 3)
            k = k.view(s, b, heads, d).permute(1, 2, 0, 3)
            v = v.view(s, b, heads, d).permute(1, 2, 0, 3)
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return o.permute(2, 0, 1, 3).reshape(s, b, h)
        if op == "embedding":
            return y + F.embedding(self.ids.t(), p)
        if op == "cross_entropy":
            logits = F.linear(y, p).float().reshape(-1, VOCAB)
            return y + F.cross_entropy(logits, self.targets).to(y.dtype)
        if op == "grouped_gemm":  # y is [rows, hidden] here: the experts' sorted rows
            return torch._grouped_mm(y, p.transpose(1, 2), offs=self.offs)
        if op == "moe_permute":  # the runner's MoE.forward up to the experts, rows kept in number
            probs = torch.softmax(F.linear(y, p).float(), dim=-1)
            probs[self.slot_row, self.slot_expert]  # the gate weights (their backward is not timed)
            return y.index_select(0, self.permutation)
        if op == "moe_unpermute":  # ... and after them: gate-weighted scatter-add
            return torch.zeros_like(y).index_add(0, self.permutation, y * p.unsqueeze(1).to(y.dtype))
        raise ValueError(op)


# What each row's chain element does besides the row's own op, by pass: subtracted per
# element. `accumulate` is a linear chain whose weights already hold a gradient, so it is
# the product's backward plus the accumulation. The router product of `moe_permute` feeds
# only the untimed gate weights, so no gradient reaches it.
CONTAINS = {"attention": {"fwd": ["gemm"], "bwd": ["gemm"]},
            "cross_entropy": {"fwd": ["gemm", "add"], "bwd": ["gemm", "add"]},
            "embedding": {"fwd": ["add"], "bwd": ["add"]},
            "moe_permute": {"fwd": ["gemm"], "bwd": []},
            "accumulate": {"bwd": ["gemm"]}}
# Passes a row has (every op has both but `accumulate`, which only backward has).
PASSES = {"accumulate": ("bwd",)}
OPS = ["gemm", "accumulate", "rms_norm", "layer_norm", "gelu", "swiglu", "add", "rope", "attention",
       "embedding", "cross_entropy", "grouped_gemm", "moe_permute", "moe_unpermute"]


def synchronize():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def timed_graph(forward, ahead=None):
    """Host seconds to build `forward()`'s autograd graph and to run its backward, from and
    back to an idle GPU; or, with `ahead` (a BusyGPU), behind GPU work queued first, as a
    training run's host issues behind a busy GPU."""
    synchronize()
    check = ahead() if ahead is not None else None
    t0 = time.perf_counter()
    loss = forward().float().sum()
    t1 = time.perf_counter()
    loss.backward()
    t2 = time.perf_counter()
    if check is not None:
        check()
    synchronize()
    return t1 - t0, t2 - t1


class BusyGPU:
    """Keeps the GPU busy while a chain is timed: the host issues a training iteration's
    ops behind a GPU still working through the ones before, and issues them more slowly
    than to an idle GPU (0.5-44% a layer, median 13.6%, over 30 paired measurements on
    three H200 machines: scripts/validate/host_busy.py, docs/accuracy.md). Called before the timer starts, it queues `seconds` of
    GPU sleep and returns a check, run once the host has issued the chain, that counts the
    chains whose sleep had already ended (`outlasted`: those were timed partly idle)."""

    def __init__(self, seconds=BUSY_AHEAD_S):
        self.cycles = int(seconds * common.sleep_cycles_per_second(torch)) if DEVICE == "cuda" else 0
        self.chains = self.outlasted = 0

    def __call__(self):
        self.chains += 1
        if not self.cycles:
            return None  # CPU tests: no GPU to keep busy
        done = common.queue_sleep(torch, self.cycles)

        def check():
            if done.query():
                self.outlasted += 1
        return check

    def warn(self, what):
        if self.outlasted:
            print(f"[host] warning: {what}: the GPU ran out of queued work before the host finished "
                  f"{self.outlasted} of {self.chains} chains; raise BUSY_AHEAD_S", flush=True)


def slopes(chain, repeats, lengths=(SHORT, LONG)):
    """[(forward us, backward us)] per repeat of `chain(k)` (host seconds of a k-element
    chain): the slope between the short and long `lengths`, so that fixed costs cancel."""
    short, long = lengths
    out = []
    for _ in range(repeats):
        fs, bs = chain(short)
        fl, bl = chain(long)
        out.append(((fl - fs) / (long - short) * 1e6, (bl - bs) / (long - short) * 1e6))
    return out


def chain_times(chains, op, k):
    """Host seconds of a K-element chain of `op`, forward and backward."""
    params = chains.params(op, k)
    if op == "accumulate":
        for p in params:
            p.grad = torch.zeros_like(p)
    shape = (ROWS, HIDDEN) if op in ("grouped_gemm", "moe_permute", "moe_unpermute") else (SEQ, BATCH, HIDDEN)
    x = torch.randn(*shape, device=DEVICE, dtype=torch.bfloat16).requires_grad_(True)

    def forward():
        y = x
        for p in params:
            y = chains.step(op, y, p)
        return y
    return timed_graph(forward)


def per_op(chains, op, repeats):
    """[(forward us, backward us)] per repeat for `op`."""
    return slopes(lambda k: chain_times(chains, op, k), repeats)


def measure_ops(repeats):
    """{op: [(forward us, backward us)] per repeat} and {op: (median forward, median
    backward)}: each op's chain element, as measured."""
    chains = Chains()
    for op in OPS:  # warm up every path (allocator, autograd, kernels' first launches)
        per_op(chains, op, 2)
    medians = {}
    raw = {}
    for op in OPS:
        raw[op] = per_op(chains, op, repeats)
        medians[op] = (common.percentile([f for f, _ in raw[op]], 50), common.percentile([b for _, b in raw[op]], 50))
    return raw, medians


PASS_INDEX = {"fwd": 0, "bwd": 1}  # where each pass is in a (forward, backward) sample


def contained(medians, op, pass_name):
    """What `op`'s chain element does besides the op itself in `pass_name`, in us: the
    medians of the elements it contains (CONTAINS)."""
    return sum(medians[c][PASS_INDEX[pass_name]] for c in CONTAINS.get(op, {}).get(pass_name, []))


def row_median(medians, op, pass_name):
    """An op's row as measured alone (its chain element less what the element contains)."""
    return medians[op][PASS_INDEX[pass_name]] - contained(medians, op, pass_name)


def add_row(table, op, pass_name, values, nbytes=0):
    """One host.csv row from `values` (us, one per repeat): their median, p10 and p90.
    Returns the median."""
    stats = common.summarize(values)
    if op.startswith("fsdp_unit") or op.startswith("layer_llama_fsdp"):
        short, long = FSDP_SHORT, FSDP_LONG
    else:
        short, long = (LAYER_SHORT, LAYER_LONG) if op.startswith("layer_") else (SHORT, LONG)
    table.add(op=op, **{"pass": pass_name}, bytes=nbytes, median_us=stats["median_us"], p10_us=stats["p10_us"],
              p90_us=stats["p90_us"], chain_short=short, chain_long=long, samples=len(values))
    return stats["median_us"]


def write_ops(table, raw, medians, ratios, moe_ratios=None):
    """One row per op and pass: its chain element less what the element contains, times
    the pass's in-context ratio (`measure_layers`; MOE_OWN's rows `moe_ratios` where given)."""
    for op in OPS:
        for pass_name in PASSES.get(op, ("fwd", "bwd")):
            index = PASS_INDEX[pass_name]
            less = contained(medians, op, pass_name)  # from every repeat
            scale = (moe_ratios if moe_ratios and op in MOE_OWN else ratios)[pass_name]
            median = add_row(table, op, pass_name, [(r[index] - less) * scale for r in raw[op]])
            print(f"[host] {op}/{pass_name}: median {median:.1f} us", flush=True)


# The ops Strata lowers a LLaMA layer into (UnitLowering.layer), by host.csv row: what it
# charges the host for one layer without tensor parallelism.
LLAMA_LAYER = ["rms_norm", "gemm", "rope", "attention", "gemm", "add",
               "rms_norm", "gemm", "gemm", "swiglu", "gemm", "add"]


def alone(runner):
    """A process group of this rank by itself (no collectives), as the runner makes one."""
    return runner.Group(None, [0], 0, DEVICE != "cuda")


# The same layer with a MoE MLP, as Strata lowers one (UnitLowering.moe): the router's
# product, the permute, the experts' three grouped products around SwiGLU, the unpermute.
# MOE_OWN are its rows no dense layer has; the rest cost what the LLaMA layer's ratio says.
MOE_LAYER = ["rms_norm", "gemm", "rope", "attention", "gemm", "add", "rms_norm",
             "gemm", "moe_permute", "grouped_gemm", "grouped_gemm", "swiglu", "grouped_gemm", "moe_unpermute", "add"]
MOE_OWN = ("moe_permute", "grouped_gemm", "moe_unpermute")
# The runner's MoE at this script's sizes: EXPERTS experts, top-2, uniform routing, the
# experts as torch._grouped_mm (16 rows apiece: the kernel's alignment).
MOE_CONFIG = {"experts": EXPERTS, "top_k": 2, "expert_ffn": 4 * HIDDEN, "routing_shares": [1 / EXPERTS] * EXPERTS,
              "expert_kernel": "torch._grouped_mm", "shared_experts": 0, "capacity_factor": None}


def runner_blocks(runner, family, tp, k, ep=None, moe=False, sizes=None, sp=False, param_dtype=None):
    """k of the runner's own transformer layers (run.Block) at this script's sizes (or
    `sizes`: plan model fields and `micro_batch` to use instead), on the tensor-parallel
    group `tp` (a run.Group, or `alone`), with sequence parallelism over it where `sp`;
    with `moe`, MoE layers whose experts are spread over the expert-parallel group `ep`
    (default: alone). Parameters in bf16, or `param_dtype` (FSDP keeps fp32 ones)."""
    sizes = dict(sizes or {})
    plan = {"model": {"family": family, "hidden": HIDDEN, "heads": HEADS, "kv_heads": HEADS // 2,
                      "ffn": 4 * HIDDEN, "vocab": VOCAB, "seq": SEQ, "tied_embeddings": False},
            "training": {"dropout": 0.0, "micro_batch": sizes.pop("micro_batch", BATCH)},
            "parallel": {"recompute": "none"}}
    plan["model"].update(sizes)
    if moe:
        plan["model"]["moe"] = dict(MOE_CONFIG)
    c = runner.Config(plan, types.SimpleNamespace(sequence_parallel=sp), tp, ep or alone(runner),
                      torch.device(DEVICE), param_dtype or torch.bfloat16)
    rope = runner.rope_tables(c) if family == "llama" else None
    return torch.nn.ModuleList(runner.Block(c, rope, i) for i in range(k))


def chain_slopes(c, run, repeats, busy, lengths, what):
    """[(forward us, backward us)] per repeat of one layer in a chain of them: the slope
    between `lengths` (short, long) of `run(k, x, ahead)`, which times a k-layer chain on
    the input `x` (`timed_graph` behind `ahead`) from fresh gradients, `x` of the layers'
    shape `c`, behind a busy GPU (`busy`: True, or the BusyGPU to use; False: from an idle
    one); `what` names the chain in the BusyGPU's warning."""
    x = torch.randn(c.local_seq, c.micro_batch, c.hidden, device=DEVICE, dtype=torch.bfloat16).requires_grad_(True)
    ahead = busy if isinstance(busy, BusyGPU) else (BusyGPU() if busy else None)
    samples = slopes(lambda k: run(k, x, ahead), repeats, lengths)
    if ahead is not None:
        ahead.warn(what)
    return samples


def layer_slopes(blocks, repeats, busy=True):
    """[(forward us, backward us)] per repeat of one of `blocks` in a chain of them: the
    slope between LAYER_SHORT and LAYER_LONG layers, each graph built from fresh gradients
    (a first micro-batch, as the chain rows are) on an input of the layers' own shape,
    behind a busy GPU (`busy`: True, or the BusyGPU to use; False: from an idle one)."""
    def run(k, x, ahead):
        blocks.zero_grad(set_to_none=True)

        def forward():
            y = x
            for b in blocks[:k]:
                y = b(y)
            return y
        return timed_graph(forward, ahead)
    return chain_slopes(blocks[0].c, run, repeats, busy, (LAYER_SHORT, LAYER_LONG), f"{len(blocks)} layers")


# An FSDP layer issues more kernels than a plain one (its gather's copy-in, all-gather and
# copy-out, again in backward, then chunk_cat and reduce-scatter): shorter chains keep all
# of them in CUDA's launch queue behind the busy GPU.
FSDP_SHORT, FSDP_LONG = 2, 6


def fsdp_chains(runner, group, sizes=None):
    """{length: module}: chains of FSDP_SHORT and FSDP_LONG of the runner's LLaMA layers with
    fp32 parameters, each layer an FSDP2 unit over `group`'s GPUs under a root unit of its
    own, as run.py's `_wrap_fsdp` wraps a model under `fsdp { unit = layer }`: bf16 gathers
    and reduction, resharded after forward."""
    from torch.distributed.device_mesh import DeviceMesh
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
    mesh = DeviceMesh.from_group(group.pg, DEVICE)
    policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.bfloat16)
    chains = {}
    for k in (FSDP_SHORT, FSDP_LONG):
        chain = torch.nn.Sequential(*runner_blocks(runner, "llama", alone(runner), k, sizes=sizes,
                                                   param_dtype=torch.float32))
        for layer in chain:
            fully_shard(layer, mesh=mesh, mp_policy=policy, reshard_after_forward=True)
        fully_shard(chain, mesh=mesh, mp_policy=policy, reshard_after_forward=True)
        chains[k] = chain
    return chains


def fsdp_slopes(chains, repeats, busy=True, sync=True):
    """[(forward us, backward us)] per repeat of one FSDP layer in a chain of them
    (`fsdp_chains`), timed as `layer_slopes` times plain layers. `sync`: the backward
    reduce-scatters each unit's gradients, as on a step's last micro-batch; without it
    they stay unsharded, as on the micro-batches before (`set_requires_gradient_sync`)."""
    def run(k, x, ahead):
        module = chains[k]
        module.zero_grad(set_to_none=True)
        module.set_requires_gradient_sync(sync)
        return timed_graph(lambda: module(x), ahead)
    return chain_slopes(chains[FSDP_SHORT][0].c, run, repeats, busy, (FSDP_SHORT, FSDP_LONG), f"{FSDP_LONG} FSDP layers")


def measure_layers(table, repeats, medians, busy=True):
    """The runner's LLaMA layer in a chain of layers, against what its ops' rows add up to:
    an op costs the host more among a layer's other ops than in a chain of itself (a chain
    keeps one op's code and data warm; scripts/validate/host_probe.py found the runner's
    ops slowing down beside its collectives, too), so the rows are scaled by the ratio, per
    pass. Then the same layer with a MoE MLP: its own rows (MOE_OWN) take the ratio that
    makes the MoE layer, priced, cost what it measured (`moe_ratios`). Returns a namespace:
    `ratios` and `moe_ratios` by pass, and the layers' medians, `llama` and `moe`. The
    chains are timed behind a busy GPU, or with `busy=False` from an idle one."""
    runner = common.validation_runner()
    out = types.SimpleNamespace(ratios={}, moe_ratios={}, llama={}, moe={})
    blocks = runner_blocks(runner, "llama", alone(runner), LAYER_LONG)
    layer_slopes(blocks, 2, busy=False)  # warm-up: the first chains run cold and may outlast the queued sleep
    raw = layer_slopes(blocks, repeats, busy)
    for pass_name, index in PASS_INDEX.items():
        rows = sum(row_median(medians, op, pass_name) for op in LLAMA_LAYER)
        layer = out.llama[pass_name] = add_row(table, "layer_llama", pass_name, [r[index] for r in raw])
        out.ratios[pass_name] = layer / rows
        print(f"[host] layer_llama/{pass_name}: median {layer:.1f} us in context, "
              f"{rows:.1f} us from its ops' chains: x{out.ratios[pass_name]:.2f}", flush=True)
    del blocks
    blocks = runner_blocks(runner, "llama", alone(runner), LAYER_LONG, moe=True)
    layer_slopes(blocks, 2, busy=False)
    raw = layer_slopes(blocks, repeats, busy)
    for pass_name, index in PASS_INDEX.items():
        layer = out.moe[pass_name] = add_row(table, "layer_moe", pass_name, [r[index] for r in raw])
        out.moe_ratios[pass_name] = moe_ratio(layer, {op: row_median(medians, op, pass_name) for op in set(MOE_LAYER)},
                                              out.ratios[pass_name])
        print(f"[host] layer_moe/{pass_name}: median {layer:.1f} us in context: its own ops' rows "
              f"x{out.moe_ratios[pass_name]:.2f}", flush=True)
    return out


def moe_ratio(layer, rows, ratio):
    """The ratio for MOE_OWN's rows (`rows`: each op's chain figure, us) that makes the MoE
    layer's priced sum (the other ops at the LLaMA layer's `ratio`) equal to `layer`, the
    MoE layer measured in context; the LLaMA ratio where the MoE layer measured less than
    the other ops alone (noise: the MoE rows would go negative)."""
    own = sum(rows[op] for op in MOE_LAYER if op in MOE_OWN)
    rest = sum(rows[op] for op in MOE_LAYER if op not in MOE_OWN) * ratio
    return (layer - rest) / own if layer > rest and own > 0 else ratio


def collective_rank(rank, world, port, repeats, queue, device="cuda", sizes=None, busy=True):
    global DEVICE
    DEVICE = device
    import torch.distributed as dist
    common.apply_safe_env()
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    if DEVICE == "cuda":
        torch.cuda.set_device(rank)
        dist.init_process_group("nccl", rank=rank, world_size=world, device_id=torch.device("cuda", rank))
    else:  # tests: gloo on CPU
        dist.init_process_group("gloo", rank=rank, world_size=world)
    pg = dist.group.WORLD
    runner = common.validation_runner()
    results = {}
    for nbytes in sizes or COLLECTIVE_BYTES:
        for name, samples in collective_samples(runner, dist, pg, world, nbytes // 2, repeats).items():
            results[(name, nbytes)] = samples
    # The runner's LLaMA layer with and without tensor parallelism over the group, in a
    # chain of layers: what its two all-reduces a pass cost the host in context; with
    # sequence parallelism instead, its two all-gathers and two reduce-scatters a pass; as
    # an FSDP unit over the group, with and without its gradients' reduce-scatter, FSDP2's
    # hooks. The MoE layer with and without its experts spread over the group: its four
    # all-to-alls (dispatch and combine, each pass) in context. The seven chains are timed in turn
    # within each repeat (the order reversed every other one), so that each layer with
    # collectives has a twin without them timed on the same stretch of the host's drift.
    tp = runner.Group(pg, range(world), rank, DEVICE != "cuda")
    timers = {name: build() for name, build in paired_layers(runner, tp, layer_sizes(world))}
    for timer in timers.values():
        timer(2, False)  # warm-up
    names = list(timers)
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else names[::-1]:
            results.setdefault((name, 0), []).extend(timers[name](1, busy))
    del timers
    dist.destroy_process_group()
    if rank == 0:
        queue.put(results)


def layer_sizes(world):
    """Model fields the paired layers need over `world` GPUs: this script's sizes split 4
    heads and 2 key-value heads, enough for 2; more GPUs take one head of each a GPU. A
    layer's host cost does not follow its width (docs/accuracy.md), and each pair is timed
    at one size and carried onto its baseline row by its ratio."""
    return {} if world <= 2 else {"heads": 2 * world, "kv_heads": world}


def paired_layers(runner, group, sizes=None):
    """(name, builder) of the layer chains `collective_rank` times in turn: each layer with
    collectives over `group` and its twin without, at `sizes` (`runner_blocks`). A builder
    makes its chains and returns their timer, (repeats, busy) -> [(forward us, backward us)]."""
    def blocks(tp, **kw):
        made = runner_blocks(runner, "llama", tp, LAYER_LONG, sizes=sizes, **kw)
        return lambda repeats, busy: layer_slopes(made, repeats, busy)

    def fsdp(sync):
        made = fsdp_chains(runner, group, sizes)
        return lambda repeats, busy: fsdp_slopes(made, repeats, busy, sync)
    return (("layer_llama_tp", lambda: blocks(group)),
            ("layer_llama", lambda: blocks(alone(runner))),
            ("layer_llama_sp", lambda: blocks(group, sp=True)),
            ("layer_llama_fsdp", lambda: fsdp(True)),
            ("layer_llama_fsdp_no_sync", lambda: fsdp(False)),
            ("layer_moe_ep", lambda: blocks(alone(runner), ep=group, moe=True)),
            ("layer_moe", lambda: blocks(alone(runner), moe=True)))


def paired_onto(pairs, baseline):
    """By pass, a layer with collectives carried onto `baseline` (the row its ops are priced
    at, us by pass): each repeat's (with, without) pair timed in turn gives with / without
    × baseline, so the host's drift between the pair and the baseline's own timing cancels.
    Pairs whose twin timed nothing (a slope at or below zero: noise) are left out; where
    none is left, the layer's own samples stand."""
    out = {}
    for pass_name, index in PASS_INDEX.items():
        carried = [w[index] / a[index] * baseline[pass_name] for w, a in pairs if a[index] > 0]
        out[pass_name] = carried or [w[index] for w, _ in pairs]
    return out


def collective_samples(runner, dist, pg, world, n, repeats):
    """{case: [(forward us, backward us)]} for collectives of n bf16 elements; the
    all-reduces through the validation runner's autograd Functions around tensor-parallel
    all-reduces (Megatron's g: all-reduce forward; f: all-reduce of the gradient
    backward), so the calls timed here are the runner's own."""
    x = torch.randn(n, device=DEVICE, dtype=torch.bfloat16)
    out_gather = torch.empty(n * world, device=DEVICE, dtype=torch.bfloat16)
    out_scatter = torch.empty(n // world, device=DEVICE, dtype=torch.bfloat16)
    out_a2a = torch.empty(n, device=DEVICE, dtype=torch.bfloat16)

    def plain(kind, k):
        dist.barrier()
        synchronize()
        t0 = time.perf_counter()
        for _ in range(k):
            if kind == "all_gather":
                dist.all_gather_into_tensor(out_gather, x, group=pg)
            elif kind == "reduce_scatter":
                dist.reduce_scatter_tensor(out_scatter, x, group=pg)
            else:
                dist.all_to_all_single(out_a2a, x, group=pg)
        t1 = time.perf_counter()
        synchronize()
        return t1 - t0, 0.0

    def autograd(fn, k):
        """k calls of the autograd Function `fn` (None: the chain without collectives,
        subtracted from the autograd rows), each on its own input as in a layer."""
        y0 = torch.randn(n, device=DEVICE, dtype=torch.bfloat16, requires_grad=True)
        if fn is not None:
            dist.barrier()

        def forward():
            y = y0
            for _ in range(k):
                y = y * 1.0 if fn is None else fn.apply(y * 1.0, group)
            return y
        return timed_graph(forward)

    reduce_forward, reduce_backward = runner._ReduceFromTP, runner._CopyToTP
    group = types.SimpleNamespace(pg=pg)  # what the runner's Functions take: a Group's pg
    cases = {
        "all_reduce/fwd": lambda k: autograd(reduce_forward, k),
        "all_reduce/bwd": lambda k: autograd(reduce_backward, k),
        "all_gather/call": lambda k: plain("all_gather", k),
        "reduce_scatter/call": lambda k: plain("reduce_scatter", k),
        "all_to_all/call": lambda k: plain("all_to_all", k),
        "scale": lambda k: autograd(None, k),
    }
    results = {}
    for name, fn in cases.items():
        fn(SHORT), fn(LONG)  # warm-up
        results[name] = slopes(fn, repeats)
    return results


TP_LAYER_BYTES = SEQ * BATCH * HIDDEN * 2  # one all-reduce of the TP layer: bf16 [seq, batch, hidden]


def at_bytes(points, nbytes):
    """Linear interpolation in log bytes of [(bytes, us)], held flat beyond the ends."""
    points = sorted(points)
    x = math.log(nbytes)
    if x <= math.log(points[0][0]):
        return points[0][1]
    for (b0, v0), (b1, v1) in zip(points, points[1:]):
        if x <= math.log(b1):
            t = (x - math.log(b0)) / (math.log(b1) - math.log(b0))
            return v0 + t * (v1 - v0)
    return points[-1][1]


def in_context_ratios(layer, baseline, chain, calls=2):
    """{pass: ratio} of what one collective call costs the host in a layer that makes
    `calls` a pass (`layer[pass]`: the TP layer's two all-reduces, the EP MoE layer's two
    all-to-alls, the SP layer's two all-gathers and two reduce-scatters) to its chain figure
    `chain[pass]` (us at the layer's message size): what the layer costs beyond
    `baseline[pass]`, the same layer without the collectives as the op rows price it (the
    `layer_llama` or `layer_moe` row). Measuring against that baseline is what
    makes the simulator's layer cost what it was measured at; a plain layer timed again
    beside the TP one moved by up to a third between the two timings on one H100 host,
    and every such move went into the all-reduce."""
    return {p: (layer[p] - baseline[p]) / calls / chain[p] for p in PASS_INDEX}


def collective_ratios(tp_layer, plain_layer, chain):
    """The all-reduce's `in_context_ratios` in the TP layer, and "call", the mean of the
    two, for the calls no layer of theirs is timed for (all-gather, reduce-scatter)."""
    ratios = in_context_ratios(tp_layer, plain_layer, chain)
    ratios["call"] = (ratios["fwd"] + ratios["bwd"]) / 2
    return ratios


EP_LAYER_BYTES = 2 * SEQ * BATCH * HIDDEN * 2  # one all-to-all of the MoE layer: top-2 rows of bf16 [tokens, hidden]
SP_CALLS = 4  # an SP layer's collectives a pass: all-gather and reduce-scatter around attention and around the MLP


def sp_ratios(sp_layer, plain_layer, gather_chain, scatter_chain, fallback):
    """{pass: ratio} for the all-gather and reduce-scatter rows: what one of the SP layer's
    SP_CALLS collectives a pass costs the host in context (`in_context_ratios` against the
    plain layer) to the mean of the two calls' chain figures at the layer's sizes. A pass
    whose SP layer measured no more than the plain one (noise: the rows would go to zero or
    below) takes `fallback`, the mean of the all-reduce's ratios, as before the SP layer
    was timed."""
    chain = (gather_chain + scatter_chain) / 2
    ratios = in_context_ratios(sp_layer, plain_layer, {p: chain for p in PASS_INDEX}, calls=SP_CALLS)
    return {p: r if r > 0 else fallback for p, r in ratios.items()}


def measure_collectives(table, repeats, gpus, layers, sizes=None, busy=True):
    """Collective rows: each call's chain slope (by size), times the ratio of what an
    all-reduce costs in the runner's tensor-parallel layer, in context, to its chain
    figure at that layer's message size (`collective_ratios`, against `layers.llama`, the
    `layer_llama` row's medians by pass). All-gather and reduce-scatter are timed in the
    same layer with sequence parallelism over the GPUs (`sp_ratios`), and written per pass.
    The all-to-all is timed in
    the runner's MoE layer with its experts spread over the GPUs, against `layers.moe`
    (the `layer_moe` row), and written per pass (`all_to_all/fwd`, `/bwd`): what the
    layer costs beyond the MoE layer alone, per all-to-all (two a pass: dispatch and
    combine), against the call's chain at that layer's message size. Returns
    ({pass or "call": all-reduce ratio}, {pass: all-to-all ratio}, {pass: SP ratio}). Each layer with
    collectives is timed in turn with its twin without them and carried onto its baseline
    row by the pair's ratio (`paired_onto`), and written so (`layer_llama_tp<N>`,
    `layer_moe_ep<N>`, `layer_llama_sp<N>`). The layer as an FSDP unit over the GPUs is
    timed the same way, with and without its gradients' reduce-scatter, and carried onto
    the `layer_llama` row (`layer_llama_fsdp<N>`, `layer_llama_fsdp<N>_no_sync`); what it
    costs beyond that row is what FSDP2's hooks cost a unit (`fsdp_unit`,
    `fsdp_unit_no_sync`, per pass). `sizes`: the message sizes in bytes (default COLLECTIVE_BYTES),
    passed to the spawned ranks; `busy`: the layers timed behind a busy GPU, as
    `measure_layers` times them."""
    import torch.multiprocessing as mp
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = common.free_port()
    procs = [ctx.Process(target=collective_rank, args=(r, gpus, port, repeats, queue, DEVICE, sizes, busy)) for r in range(gpus)]
    for p in procs:
        p.start()
    results = common.first_result(queue, procs, "host.py: a collective rank", timeout_s=400)
    for p in procs:
        p.join(timeout=60)
    values = {}
    for (name, nbytes), samples in sorted(results.items()):
        if name == "scale" or name.startswith("layer_"):
            continue
        op, pass_name = name.split("/")
        if pass_name in PASS_INDEX:  # through autograd: less the chain without collectives
            index = PASS_INDEX[pass_name]
            less = common.percentile([s[index] for s in results[("scale", nbytes)]], 50)
            values[(op, pass_name, nbytes)] = [s[index] - less for s in samples]
        else:  # a plain call, timed in the forward slot
            values[(op, pass_name, nbytes)] = [f for f, _ in samples]

    def chain_at(op, pass_name, nbytes):
        return at_bytes([(b, common.percentile(v, 50)) for (o, p, b), v in values.items() if (o, p) == (op, pass_name)],
                        nbytes)
    tp_pairs = paired_onto(list(zip(results[("layer_llama_tp", 0)], results[("layer_llama", 0)])), layers.llama)
    ep_pairs = paired_onto(list(zip(results[("layer_moe_ep", 0)], results[("layer_moe", 0)])), layers.moe)
    sp_pairs = paired_onto(list(zip(results[("layer_llama_sp", 0)], results[("layer_llama", 0)])), layers.llama)
    fsdp_pairs = {name: paired_onto(list(zip(results[(name, 0)], results[("layer_llama", 0)])), layers.llama)
                  for name, _ in FSDP_ROWS}
    tp, ep, sp, chain = {}, {}, {}, {}
    for pass_name in PASS_INDEX:
        for name, unit in FSDP_ROWS:
            carried = fsdp_pairs[name][pass_name]
            layer = add_row(table, fsdp_layer_row(name, gpus), pass_name, carried)
            hooks = add_row(table, unit, pass_name, [c - layers.llama[pass_name] for c in carried])
            print(f"[host] {fsdp_layer_row(name, gpus)}/{pass_name}: {layer:.1f} us on the {layers.llama[pass_name]:.1f} us "
                  f"layer_llama row: {unit} {hooks:.1f} us a unit", flush=True)
        tp[pass_name] = add_row(table, f"layer_llama_tp{gpus}", pass_name, tp_pairs[pass_name])
        ep[pass_name] = add_row(table, f"layer_moe_ep{gpus}", pass_name, ep_pairs[pass_name])
        sp[pass_name] = add_row(table, f"layer_llama_sp{gpus}", pass_name, sp_pairs[pass_name])
        chain[pass_name] = chain_at("all_reduce", pass_name, TP_LAYER_BYTES)
    ratios = collective_ratios(tp, layers.llama, chain)
    a2a_chain = chain_at("all_to_all", "call", EP_LAYER_BYTES)
    a2a = in_context_ratios(ep, layers.moe, {p: a2a_chain for p in PASS_INDEX})
    # The SP layer gathers each rank's 1/gpus of the sequence and scatters the whole back.
    gather_chain = chain_at("all_gather", "call", TP_LAYER_BYTES // gpus)
    scatter_chain = chain_at("reduce_scatter", "call", TP_LAYER_BYTES)
    seq = sp_ratios(sp, layers.llama, gather_chain, scatter_chain, ratios["call"])
    for pass_name, index in PASS_INDEX.items():
        beside = {name: common.percentile([r[index] for r in results[(name, 0)]], 50)
                  for name in ("layer_llama_tp", "layer_llama", "layer_moe_ep", "layer_moe", "layer_llama_sp")}
        print(f"[host] layer_llama_tp{gpus}/{pass_name}: {tp[pass_name]:.1f} us on the {layers.llama[pass_name]:.1f} us "
              f"layer_llama row (timed in pairs: {beside['layer_llama_tp']:.1f} with TP, {beside['layer_llama']:.1f} "
              f"without): {(tp[pass_name] - layers.llama[pass_name]) / 2:.1f} us an all-reduce in context, "
              f"{chain[pass_name]:.1f} us in a chain: x{ratios[pass_name]:.2f}", flush=True)
        print(f"[host] layer_moe_ep{gpus}/{pass_name}: {ep[pass_name]:.1f} us on the {layers.moe[pass_name]:.1f} us "
              f"layer_moe row (timed in pairs: {beside['layer_moe_ep']:.1f} with EP, {beside['layer_moe']:.1f} without): "
              f"{(ep[pass_name] - layers.moe[pass_name]) / 2:.1f} us an all-to-all in context, {a2a_chain:.1f} us in a "
              f"chain: x{a2a[pass_name]:.2f}", flush=True)
        print(f"[host] layer_llama_sp{gpus}/{pass_name}: {sp[pass_name]:.1f} us on the {layers.llama[pass_name]:.1f} us "
              f"layer_llama row (timed in pairs: {beside['layer_llama_sp']:.1f} with SP, {beside['layer_llama']:.1f} "
              f"without): {(sp[pass_name] - layers.llama[pass_name]) / SP_CALLS:.1f} us an all-gather or "
              f"reduce-scatter in context, {(gather_chain + scatter_chain) / 2:.1f} us in a chain: "
              f"x{seq[pass_name]:.2f}", flush=True)
    per_pass = {"all_to_all": a2a, "all_gather": seq, "reduce_scatter": seq}  # rows per pass, by their own layer
    for (op, pass_name, nbytes), v in values.items():
        if op in per_pass:
            for p in PASS_INDEX:
                median = add_row(table, op, p, [x * per_pass[op][p] for x in v], nbytes)
                print(f"[host] {op}/{p} {nbytes} B ({gpus} GPUs): median {median:.1f} us", flush=True)
            continue
        median = add_row(table, op, pass_name, [x * ratios[pass_name] for x in v], nbytes)
        print(f"[host] {op}/{pass_name} {nbytes} B ({gpus} GPUs): median {median:.1f} us", flush=True)
    return ratios, a2a, seq


# The FSDP layer chains (paired_layers) and the rows of what FSDP2's hooks add to a layer:
# `fsdp_unit` with the backward's reduce-scatter, `fsdp_unit_no_sync` without.
FSDP_ROWS = (("layer_llama_fsdp", "fsdp_unit"), ("layer_llama_fsdp_no_sync", "fsdp_unit_no_sync"))


def fsdp_layer_row(name, gpus):
    """The host.csv row of an FSDP layer chain timed over `gpus` GPUs: `layer_llama_fsdp2`,
    `layer_llama_fsdp2_no_sync`."""
    return name.replace("layer_llama_fsdp", f"layer_llama_fsdp{gpus}")


COLLECTIVE_OPS = ("all_reduce", "all_gather", "reduce_scatter", "all_to_all")
COLLECTIVES_NOTE = "collectives_in_context"


def collectives_note(ratios):
    """The table's `collectives_in_context` note: the ratios its collective rows carry."""
    return (f"collective rows times the TP layer's in-context ratio: forward x{ratios['fwd']:.3f}, "
            f"backward x{ratios['bwd']:.3f}, other calls x{ratios['call']:.3f}")


def anchor_table(lines, reanchored_by):
    """A host.csv's lines with its collective rows scaled again, by `collective_ratios`
    against the table's own `layer_llama` row instead of the ratios its note names (the
    chain figures are the all-reduce rows divided by the note's ratios). The new ratios
    are rounded as the note writes them, so that the note names what the rows carry and a
    second pass changes nothing. Returns a namespace: `lines`, the `old` and `new` ratios,
    and by pass the `chain` figures, the `tp` and `plain` layers and `beside`, the plain
    layer the old ratios imply was timed beside the TP one; ValueError when the table has
    no collective note or no TP layer rows."""
    header = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    columns = lines[header].split(",")
    cell = {c: i for i, c in enumerate(columns)}
    rows = [(i, line.split(",")) for i, line in enumerate(lines) if i > header and line]
    note = next((i for i, line in enumerate(lines[:header]) if line.startswith(f"# {COLLECTIVES_NOTE}:")), None)
    named = re.search(r"forward x([0-9.]+), backward x([0-9.]+), other calls x([0-9.]+)", lines[note] if note is not None else "")
    if not named:
        raise ValueError(f"no '# {COLLECTIVES_NOTE}:' note naming its ratios")
    old = dict(zip(("fwd", "bwd", "call"), map(float, named.groups())))
    median = lambda r: float(r[cell["median_us"]])  # noqa: E731
    layer = {(r[cell["op"]], r[cell["pass"]]): median(r) for _, r in rows if r[cell["op"]].startswith("layer_llama")}
    tp_name = next((op for op, _ in layer if op.startswith("layer_llama_tp")), None)
    if tp_name is None or any((name, p) not in layer for name in ("layer_llama", tp_name) for p in PASS_INDEX):
        raise ValueError("no layer_llama and layer_llama_tp<N> rows for both passes")
    chain = {p: at_bytes([(int(r[cell["bytes"]]), median(r) / old[p]) for _, r in rows
                          if (r[cell["op"]], r[cell["pass"]]) == ("all_reduce", p)], TP_LAYER_BYTES) for p in PASS_INDEX}
    tp = {p: layer[(tp_name, p)] for p in PASS_INDEX}
    plain = {p: layer[("layer_llama", p)] for p in PASS_INDEX}
    new = collective_ratios(tp, plain, chain)
    new = {k: round(v, 3) for k, v in new.items()}
    out = list(lines)
    for i, r in rows:
        # Per-pass all-to-all, all-gather and reduce-scatter rows carry their own layers' ratios.
        anchored_elsewhere = r[cell["op"]] != "all_reduce" and r[cell["pass"]] in PASS_INDEX
        if r[cell["op"]] in COLLECTIVE_OPS and int(r[cell["bytes"]]) > 0 and not anchored_elsewhere:
            scale = new[r[cell["pass"]]] / old[r[cell["pass"]]]
            for c in ("median_us", "p10_us", "p90_us"):
                r[cell[c]] = common.format_value(float(r[cell[c]]) * scale)
            out[i] = ",".join(r)
    out[note] = f"# {COLLECTIVES_NOTE}: {collectives_note(new)}"
    stamp = f"# reanchored: {reanchored_by}; collective ratios were forward x{old['fwd']:.3f}, " \
            f"backward x{old['bwd']:.3f}, other calls x{old['call']:.3f}"
    if not out[note + 1].startswith("# reanchored:"):  # a second pass keeps the first's record
        out.insert(note + 1, stamp)
    beside = {p: tp[p] - 2 * old[p] * chain[p] for p in PASS_INDEX}
    return types.SimpleNamespace(lines=out, old=old, new=new, chain=chain, tp=tp, plain=plain, beside=beside)


def reanchor(path):
    """Rewrites the table at `path` with `anchor_table`; exit status 2 if it cannot."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
        a = anchor_table(lines, f"python3 scripts/profile/host.py --reanchor {path}")
    except OSError as e:
        print(f"{path}: error: cannot read the table: {e.strerror}; give a host.csv that host.py wrote", file=sys.stderr)
        return 2
    except (ValueError, StopIteration, KeyError, IndexError) as e:
        print(f"{path}: error: cannot re-anchor: {e}; give a host.csv that host.py wrote on 2 GPUs", file=sys.stderr)
        return 2
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(a.lines) + "\n")
    os.replace(path + ".tmp", path)
    for p in PASS_INDEX:
        print(f"[host] {p}: TP layer {a.tp[p]:.1f} us, layer_llama row {a.plain[p]:.1f} us (the old ratio implies "
              f"{a.beside[p]:.1f} us timed beside the TP layer); an all-reduce {a.chain[p]:.1f} us in a chain, "
              f"{(a.tp[p] - a.plain[p]) / 2:.1f} us in context")
    for p in ("fwd", "bwd", "call"):
        print(f"[host] collective rows, {p}: x{a.old[p]:.3f} -> x{a.new[p]:.3f}")
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--reanchor"]:
        if len(argv) != 2:
            print("usage: host.py --reanchor TABLE", file=sys.stderr)
            return 2
        return reanchor(argv[1])
    ap = common.family_parser(__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--collective-gpus", type=int, default=2, metavar="N",
                    help="GPUs the collectives and the layers with them are timed on (default 2; the rows "
                         "carry no group size, so a table taken on N prices every group as N's)")
    ap.add_argument("--layers-from-idle-gpu", action="store_true",
                    help="time the layer chains from an idle GPU, as before 2026-11-28 09:30 UTC (for comparison)")
    args = ap.parse_args(argv)
    busy = not args.layers_from_idle_gpu
    ctx = common.DeviceContext(args)
    table = ctx.table("host.csv", COLUMNS)
    table.note("notes", f"per op, host microseconds as scripts/validate/run.py issues it: slope of chains of "
               f"{SHORT} and {LONG} ops, of {LAYER_SHORT} and {LAYER_LONG} layers and of {FSDP_SHORT} and {FSDP_LONG} FSDP layers "
               + (f"behind {BUSY_AHEAD_S * 1e3:.0f} ms of queued GPU work" if busy else "from an idle GPU")
               + f"; sizes seq {SEQ}, hidden {HIDDEN}, heads {HEADS}; "
               f"collectives on {args.collective_gpus} GPUs")
    try:
        raw, medians = measure_ops(args.repeats)
        layers = measure_layers(table, args.repeats, medians, busy)
        write_ops(table, raw, medians, layers.ratios, layers.moe_ratios)
        table.note("in_context", f"op rows times the LLaMA layer's in-context ratio: forward x{layers.ratios['fwd']:.3f}, "
                   f"backward x{layers.ratios['bwd']:.3f}")
        table.note("moe_in_context", f"{', '.join(MOE_OWN)} rows times the MoE layer's in-context ratio: "
                   f"forward x{layers.moe_ratios['fwd']:.3f}, backward x{layers.moe_ratios['bwd']:.3f}")
        if torch.cuda.device_count() >= args.collective_gpus >= 2:
            c, a2a, seq = measure_collectives(table, args.repeats, args.collective_gpus, layers, busy=busy)
            table.note(COLLECTIVES_NOTE, collectives_note(c))
            table.note("all_to_all_in_context", f"all_to_all rows times the EP MoE layer's in-context ratio: "
                       f"forward x{a2a['fwd']:.3f}, backward x{a2a['bwd']:.3f}")
            table.note("sp_in_context", f"all_gather and reduce_scatter rows times the SP layer's in-context ratio: "
                       f"forward x{seq['fwd']:.3f}, backward x{seq['bwd']:.3f}")
        else:
            table.skip("collectives", f"fewer than {max(2, args.collective_gpus)} GPUs visible")
    finally:
        table.write()


if __name__ == "__main__":
    sys.exit(main())
