"""Execute training iterations of a Strata plan with PyTorch and measure them.

    python3 scripts/validate/run.py PLAN.json --out RESULT.json [--iterations 10] [--warmup 3]
    torchrun --nproc-per-node N scripts/validate/run.py PLAN.json --out RESULT.json

PLAN.json is what `simulate export FILE.strata` prints.  Started plainly, the script
spawns one process per GPU of the plan (the first `gpus` visible devices); under torchrun
it runs as the rank torchrun gives it.  Each rank builds its shard of the model (the
layers of its pipeline stage, its tensor-parallel slices, its experts) and runs the
plan's micro-batches, schedule and gradient synchronisation; see README.md for how each
parallelism maps onto PyTorch.  Rank 0 writes RESULT.json: per-iteration times (the
maximum over ranks), their median / p10 / p90, every rank's peak allocated and reserved
memory over the timed iterations, the losses and the software versions.

`--cpu` runs the same code on CPU with gloo (a test on machines without a GPU).
"""

import argparse
import contextlib
import gc
import glob
import json
import re
import os
import sys
import time
import traceback
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import plan as planlib  # noqa: E402  (imports scripts/profile/common.py, which sets SAFE_ENV first)
import profile_summary  # noqa: E402
from plan import common  # noqa: E402

common.apply_safe_env()

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ACT = torch.bfloat16
LR, BETAS, EPS, WEIGHT_DECAY = 1e-3, (0.9, 0.95), 1e-8, 0.1
INIT_STD = 0.02
SEED = 1234


# --------------------------------------------------------------------------
# Groups and collectives
# --------------------------------------------------------------------------

class Group:
    """One process group as this rank sees it: the torch group (None when alone), its
    global ranks, this rank's index and whether the backend is gloo (tests on CPU)."""

    def __init__(self, pg, ranks, rank, gloo):
        self.pg, self.ranks, self.gloo = pg, list(ranks), gloo
        self.size = len(self.ranks)
        self.index = self.ranks.index(rank)


def all_gather_seq(x, g):
    """Concatenate every member's x along dim 0 (the sequence), in group order."""
    x = x.contiguous()
    if g.gloo:
        parts = [torch.empty_like(x) for _ in range(g.size)]
        dist.all_gather(parts, x, group=g.pg)
        return torch.cat(parts, 0)
    out = x.new_empty((x.shape[0] * g.size,) + tuple(x.shape[1:]))
    dist.all_gather_into_tensor(out, x, group=g.pg)
    return out


def reduce_scatter_seq(x, g):
    """Sum x over the group and keep this member's slice of dim 0."""
    x = x.contiguous()
    if g.gloo:
        y = x.clone()
        dist.all_reduce(y, group=g.pg)
        return y.chunk(g.size, 0)[g.index].contiguous()
    out = x.new_empty((x.shape[0] // g.size,) + tuple(x.shape[1:]))
    dist.reduce_scatter_tensor(out, x, group=g.pg)
    return out


class _CopyToTP(torch.autograd.Function):
    """Megatron's f: identity forward, all-reduce of the gradient backward."""

    @staticmethod
    def forward(ctx, x, g):
        ctx.g = g
        return x

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous()
        dist.all_reduce(grad, group=ctx.g.pg)
        return grad, None


class _ReduceFromTP(torch.autograd.Function):
    """Megatron's g: all-reduce forward (a row-parallel partial sum), identity backward."""

    @staticmethod
    def forward(ctx, x, g):
        x = x.contiguous()
        dist.all_reduce(x, group=g.pg)
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class _GatherSeq(torch.autograd.Function):
    """Sequence parallelism into a column-parallel op: all-gather, reduce-scatter back."""

    @staticmethod
    def forward(ctx, x, g):
        ctx.g = g
        return all_gather_seq(x, g)

    @staticmethod
    def backward(ctx, grad):
        return reduce_scatter_seq(grad, ctx.g), None


class _ScatterSeq(torch.autograd.Function):
    """Sequence parallelism out of a row-parallel op: reduce-scatter, all-gather back."""

    @staticmethod
    def forward(ctx, x, g):
        ctx.g = g
        return reduce_scatter_seq(x, g)

    @staticmethod
    def backward(ctx, grad):
        return all_gather_seq(grad, ctx.g), None


def enter_tp(x, tp, sp):
    """Residual stream -> input of column-parallel ops (full sequence on every rank)."""
    if tp.size == 1:
        return x
    return _GatherSeq.apply(x, tp) if sp else _CopyToTP.apply(x, tp)


def leave_tp(x, tp, sp):
    """Partial sums of row-parallel ops -> residual stream (sequence-split with SP)."""
    if tp.size == 1:
        return x
    return _ScatterSeq.apply(x, tp) if sp else _ReduceFromTP.apply(x, tp)


class _AllToAll(torch.autograd.Function):
    """all_to_all_single with uneven splits; backward sends the gradients the other way."""

    @staticmethod
    def forward(ctx, x, out_splits, in_splits, g):
        ctx.splits, ctx.g = (out_splits, in_splits), g
        out = x.new_empty((sum(out_splits),) + tuple(x.shape[1:]))
        dist.all_to_all_single(out, x.contiguous(), out_splits, in_splits, group=g.pg)
        return out

    @staticmethod
    def backward(ctx, grad):
        out_splits, in_splits = ctx.splits
        back = grad.new_empty((sum(in_splits),) + tuple(grad.shape[1:]))
        dist.all_to_all_single(back, grad.contiguous(), in_splits, out_splits, group=ctx.g.pg)
        return back, None, None, None


class _VocabParallelCrossEntropy(torch.autograd.Function):
    """Cross-entropy over logits split by vocabulary (Megatron-LM's
    _VocabParallelCrossEntropy): max, target logit and sum of exponentials are
    all-reduced over the tensor-parallel group; per-token losses come back."""

    @staticmethod
    def forward(ctx, logits, target, vocab_start, g):
        logits = logits - 0  # fp32 working copy
        m = logits.max(dim=-1).values
        dist.all_reduce(m, op=dist.ReduceOp.MAX, group=g.pg)
        logits.sub_(m.unsqueeze(-1))
        local_v = logits.shape[-1]
        outside = (target < vocab_start) | (target >= vocab_start + local_v)
        local_t = (target - vocab_start).masked_fill(outside, 0)
        rows = torch.arange(logits.shape[0], device=logits.device)
        picked = logits[rows, local_t].masked_fill(outside, 0.0)
        dist.all_reduce(picked, group=g.pg)
        logits.exp_()
        total = logits.sum(dim=-1)
        dist.all_reduce(total, group=g.pg)
        loss = total.log() - picked
        logits.div_(total.unsqueeze(-1))
        ctx.save_for_backward(logits, outside, local_t)
        return loss

    @staticmethod
    def backward(ctx, grad):
        softmax, outside, local_t = ctx.saved_tensors
        rows = torch.arange(softmax.shape[0], device=softmax.device)
        softmax[rows, local_t] -= (~outside).to(softmax.dtype)
        softmax.mul_(grad.unsqueeze(-1))
        return softmax, None, None, None


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

class Config:
    """Sizes and layout one rank builds its modules from."""

    def __init__(self, plan, role, tp, ep, device, param_dtype):
        m, t, p = plan["model"], plan["training"], plan["parallel"]
        self.gpt = m["family"] == "gpt"
        self.hidden, self.heads, self.kv_heads = m["hidden"], m["heads"], m["kv_heads"]
        self.head_dim = self.hidden // self.heads
        self.ffn, self.vocab, self.seq, self.tied = m["ffn"], m["vocab"], m["seq"], m["tied_embeddings"]
        self.moe = m.get("moe")
        self.dropout = float(t["dropout"])
        self.recompute = p["recompute"]
        self.micro_batch = t["micro_batch"]
        self.tp, self.ep, self.sp = tp, ep, role.sequence_parallel
        self.device, self.param_dtype = device, param_dtype
        for what, n in (("heads", self.heads), ("kv_heads", self.kv_heads), ("ffn", self.ffn), ("vocab", self.vocab)):
            if n % tp.size:
                raise planlib.PlanError(f"tensor parallelism {tp.size} does not divide {what} = {n}")
        if self.sp and self.seq % tp.size:
            raise planlib.PlanError(f"sequence parallelism {tp.size} does not divide seq = {self.seq}")
        self.local_seq = self.seq // tp.size if self.sp else self.seq

    def param(self, name, shape, init="normal", part=None):
        """The parameter `name` of the whole model (shape `shape`), drawn from a generator
        seeded by its name, cut to this rank's piece by `part`.  Every layout thus starts
        from the same model, so first losses agree across strategies."""
        with torch.no_grad():
            if init == "normal":
                g = torch.Generator(device=self.device)
                g.manual_seed(SEED + zlib.crc32(name.encode()))
                w = torch.empty(shape, device=self.device, dtype=torch.float32).normal_(0.0, INIT_STD, generator=g)
            else:
                w = (torch.ones if init == "ones" else torch.zeros)(shape, device=self.device, dtype=torch.float32)
            if part is not None:
                w = part(w)
            w = w.to(self.param_dtype).contiguous()
        return nn.Parameter(w)

    def rows(self, w):
        """This TP rank's block of dim 0 (column-parallel weights, vocabulary rows)."""
        return w.chunk(self.tp.size, 0)[self.tp.index]

    def cols(self, w):
        """This TP rank's block of dim 1 (row-parallel weights)."""
        return w.chunk(self.tp.size, 1)[self.tp.index]

    def replicated(self, p):
        """Mark a parameter whose gradient comes from sequence shards (norms and biases
        under sequence parallelism): its gradient is all-reduced over the TP group."""
        p.sp_partial = self.sp
        return p


class Norm(nn.Module):
    """LayerNorm with bias (gpt) or RMSNorm (llama)."""

    def __init__(self, c, name):
        super().__init__()
        self.gpt, self.h = c.gpt, c.hidden
        self.weight = c.replicated(c.param(name + ".weight", (c.hidden,), init="ones"))
        self.bias = c.replicated(c.param(name + ".bias", (c.hidden,), init="zeros")) if c.gpt else None

    def forward(self, x):
        if self.gpt:
            return F.layer_norm(x, (self.h,), self.weight, self.bias, 1e-5)
        return F.rms_norm(x, (self.h,), self.weight, 1e-5)


def rope_tables(c):
    """cos and sin of rotary embeddings (Su et al. 2021), [seq, head_dim], base 500000."""
    d = c.head_dim
    inv = 1.0 / (500000.0 ** (torch.arange(0, d, 2, device=c.device, dtype=torch.float32) / d))
    pos = torch.arange(c.seq, device=c.device, dtype=torch.float32)
    freqs = torch.outer(pos, inv)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos().to(ACT), emb.sin().to(ACT)


def apply_rope(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


class Attention(nn.Module):
    """Fused QKV (column-parallel, heads split), causal flash attention, output
    projection (row-parallel: returns partial sums when tensor-parallel)."""

    def __init__(self, c, rope, name):
        super().__init__()
        t = c.tp.size
        self.hl, self.kl, self.d = c.heads // t, c.kv_heads // t, c.head_dim
        widths = [c.heads * self.d, c.kv_heads * self.d, c.kv_heads * self.d]

        def heads(w):  # q, k and v each split by heads, then fused again
            return torch.cat([c.rows(part) for part in w.split(widths, 0)], 0)

        self.qkv_w = c.param(name + ".qkv", (sum(widths), c.hidden), part=heads)
        self.qkv_b = c.param(name + ".qkv_bias", (sum(widths),), init="zeros", part=heads) if c.gpt else None
        self.out_w = c.param(name + ".out", (c.hidden, c.heads * self.d), part=c.cols)
        self.rope = rope

    def forward(self, x):
        s, b, _ = x.shape
        qkv = F.linear(x, self.qkv_w, self.qkv_b)
        q, k, v = qkv.split([self.hl * self.d, self.kl * self.d, self.kl * self.d], dim=-1)
        q = q.view(s, b, self.hl, self.d).permute(1, 2, 0, 3)
        k = k.view(s, b, self.kl, self.d).permute(1, 2, 0, 3)
        v = v.view(s, b, self.kl, self.d).permute(1, 2, 0, 3)
        if self.rope is not None:
            cos, sin = self.rope
            q, k = apply_rope(q, cos[:s], sin[:s]), apply_rope(k, cos[:s], sin[:s])
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.hl != self.kl)
        o = o.permute(2, 0, 1, 3).reshape(s, b, self.hl * self.d)
        return F.linear(o, self.out_w)


class MLP(nn.Module):
    """GELU MLP with biases (gpt) or SwiGLU without (llama); the expanding layers
    column-parallel and the last row-parallel when `tp` is given."""

    def __init__(self, c, ffn, name, split=True):
        super().__init__()
        self.gpt = c.gpt
        rows, cols = (c.rows, c.cols) if split else (None, None)
        h = c.hidden
        if c.gpt:
            self.fc1_w = c.param(name + ".fc1", (ffn, h), part=rows)
            self.fc1_b = c.param(name + ".fc1_bias", (ffn,), init="zeros", part=rows)
            self.fc2_w = c.param(name + ".fc2", (h, ffn), part=cols)
        else:
            self.gate_w = c.param(name + ".gate", (ffn, h), part=rows)
            self.up_w = c.param(name + ".up", (ffn, h), part=rows)
            self.down_w = c.param(name + ".down", (h, ffn), part=cols)

    def forward(self, x):
        if self.gpt:
            return F.linear(F.gelu(F.linear(x, self.fc1_w, self.fc1_b), approximate="tanh"), self.fc2_w)
        return F.linear(F.silu(F.linear(x, self.gate_w)) * F.linear(x, self.up_w), self.down_w)


class LoopedExperts(nn.Module):
    """The local experts as separate MLPs, each run on its slice of the expert-sorted rows:
    eager PyTorch's loop, three products (two for gpt) launched per expert."""

    def __init__(self, c, ffn, names, rows):
        super().__init__()
        self.rows = rows
        self.mlps = nn.ModuleList(MLP(c, ffn, n, split=False) for n in names)

    def forward(self, x):
        return torch.cat([e(piece) for e, piece in zip(self.mlps, x.split(self.rows))], dim=0)


class GroupedExperts(nn.Module):
    """The local experts' weights stacked [experts, out, in] and run as one
    torch._grouped_mm per product over the expert-sorted rows (the plan's
    `expert_kernel = "torch._grouped_mm"`, as torchtitan runs MoE): one launch per product
    for all experts.  Each expert's weights are drawn exactly as LoopedExperts draws them,
    so both start from the same model."""

    def __init__(self, c, ffn, names, rows):
        super().__init__()
        self.gpt = c.gpt
        h = c.hidden

        def stack(part, shape, init="normal"):
            return nn.Parameter(torch.stack([c.param(f"{n}.{part}", shape, init=init).detach() for n in names]))

        if c.gpt:
            self.fc1_w, self.fc1_b, self.fc2_w = stack("fc1", (ffn, h)), stack("fc1_bias", (ffn,), "zeros"), stack("fc2", (h, ffn))
            self.row_expert = torch.repeat_interleave(torch.arange(len(rows), device=c.device),
                                                      torch.tensor(rows, device=c.device))
        else:
            self.gate_w, self.up_w, self.down_w = stack("gate", (ffn, h)), stack("up", (ffn, h)), stack("down", (h, ffn))
        self.offs = torch.tensor(rows, device=c.device, dtype=torch.int32).cumsum(0, dtype=torch.int32)

    def _mm(self, x, w):
        if x.device.type == "cuda":
            return torch._grouped_mm(x, w.transpose(1, 2), offs=self.offs)
        # CPU (tests): the same products one expert at a time.
        ends = self.offs.tolist()
        starts = [0] + ends[:-1]
        return torch.cat([x[a:b] @ w[e].t() for e, (a, b) in enumerate(zip(starts, ends))], dim=0)

    def forward(self, x):
        if self.gpt:
            a = self._mm(x, self.fc1_w) + self.fc1_b.index_select(0, self.row_expert)
            return self._mm(F.gelu(a, approximate="tanh"), self.fc2_w)
        return self._mm(F.silu(self._mm(x, self.gate_w)) * self._mm(x, self.up_w), self.down_w)


class MoE(nn.Module):
    """Router, deterministic top-k routing that follows the plan's routing shares
    exactly (plan.slot_experts), expert-parallel dispatch and combine with
    all_to_all_single, per-expert MLPs on their slices, shared experts."""

    def __init__(self, c, name):
        super().__init__()
        moe, ep = c.moe, c.ep
        self.E, self.k = moe["experts"], moe["top_k"]
        if self.E % ep.size:
            raise planlib.PlanError(f"expert parallelism {ep.size} does not divide {self.E} experts")
        self.tokens = c.seq * c.micro_batch
        self.router_w = c.param(name + ".router", (self.E, c.hidden))
        counts = planlib.expert_counts(moe["routing_shares"], self.tokens, self.k, moe.get("capacity_factor"))
        slots = planlib.slot_experts(counts, self.tokens)
        dev = c.device
        self.slot_expert = torch.tensor(slots, device=dev, dtype=torch.long)
        self.slot_token = torch.arange(len(slots), device=dev, dtype=torch.long) % self.tokens
        self.ep = ep
        if ep.size > 1:
            self.send = planlib.ep_splits(counts, ep.size)
            self.recv = [self.send[ep.index]] * ep.size
            order, self.rows = planlib.ep_regroup(counts, ep.size, ep.index)
            self.order = torch.tensor(order, device=dev, dtype=torch.long)
            self.back = torch.tensor(planlib.inverse(order), device=dev, dtype=torch.long)
        else:
            self.rows = counts
        local = self.E // ep.size
        names = [f"{name}.experts.{ep.index * local + j}" for j in range(local)]
        if moe.get("expert_kernel") == "torch._grouped_mm":
            self.experts = GroupedExperts(c, moe["expert_ffn"], names, self.rows)
        else:
            self.experts = LoopedExperts(c, moe["expert_ffn"], names, self.rows)
        for p in self.experts.parameters():
            p.expert = True
        shared = moe.get("shared_experts", 0)
        self.shared = MLP(c, shared * moe["expert_ffn"], name + ".shared", split=False) if shared else None

    def forward(self, x):
        s, b, h = x.shape
        xt = x.reshape(s * b, h)
        probs = torch.softmax(F.linear(xt, self.router_w).float(), dim=-1)
        gate = probs[self.slot_token, self.slot_expert]
        xd = xt.index_select(0, self.slot_token)
        if self.ep.size > 1:
            xd = _AllToAll.apply(xd, self.recv, self.send, self.ep).index_select(0, self.order)
        y = self.experts(xd)
        if self.ep.size > 1:
            y = _AllToAll.apply(y.index_select(0, self.back), self.send, self.recv, self.ep)
        y = y * gate.unsqueeze(1).to(y.dtype)
        out = torch.zeros_like(xt).index_add(0, self.slot_token, y)
        if self.shared is not None:
            out = out + self.shared(xt)
        return out.view(s, b, h)


class Block(nn.Module):
    """One transformer layer in Strata's op order (UnitLowering.layer)."""

    def __init__(self, c, rope, index):
        super().__init__()
        self.c = c
        name = f"layers.{index}"
        self.norm1, self.norm2 = Norm(c, name + ".attention_norm"), Norm(c, name + ".mlp_norm")
        self.attn = Attention(c, rope, name + ".attention")
        self.out_b = c.replicated(c.param(name + ".attention.out_bias", (c.hidden,), init="zeros")) if c.gpt else None
        if c.moe:
            self.mlp = MoE(c, name + ".mlp")
            self.mlp_b = None
        else:
            self.mlp = MLP(c, c.ffn, name + ".mlp")
            self.mlp_b = c.replicated(c.param(name + ".mlp.fc2_bias", (c.hidden,), init="zeros")) if c.gpt else None

    def forward(self, x):
        c = self.c
        a = leave_tp(self.attn(enter_tp(self.norm1(x), c.tp, c.sp)), c.tp, c.sp)
        if self.out_b is not None:
            a = a + self.out_b
        if c.dropout:
            a = F.dropout(a, c.dropout, training=True)
        x = x + a
        h = self.norm2(x)
        if c.moe:
            m = self.mlp(h)
        else:
            m = leave_tp(self.mlp(enter_tp(h, c.tp, c.sp)), c.tp, c.sp)
        if self.mlp_b is not None:
            m = m + self.mlp_b
        if c.dropout:
            m = F.dropout(m, c.dropout, training=True)
        return x + m


class Embedding(nn.Module):
    """Vocabulary-parallel token embedding (+ learned positions for gpt), output in the
    residual layout [seq (or its SP shard), batch, hidden]."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.local_vocab = c.vocab // c.tp.size
        self.start = c.tp.index * self.local_vocab
        self.word = c.param("embedding.word", (c.vocab, c.hidden), part=c.rows)
        self.pos = c.replicated(c.param("embedding.positions", (c.seq, c.hidden))) if c.gpt else None

    def forward(self, tokens):
        c = self.c
        ids = tokens.t()
        if c.tp.size > 1:
            outside = (ids < self.start) | (ids >= self.start + self.local_vocab)
            e = F.embedding((ids - self.start).masked_fill(outside, 0), self.word)
            e = leave_tp(e.masked_fill(outside.unsqueeze(-1), 0.0), c.tp, c.sp)
        else:
            e = F.embedding(ids, self.word)
        if self.pos is not None:
            lo = c.tp.index * c.local_seq if c.sp else 0
            e = e + self.pos[lo:lo + c.local_seq].unsqueeze(1)
        return e


class Head(nn.Module):
    """Final norm, (vocabulary-parallel) head and cross-entropy on fp32 logits."""

    def __init__(self, c, tied_weight):
        super().__init__()
        self.c = c
        self.norm = Norm(c, "final_norm")
        self.local_vocab = c.vocab // c.tp.size
        if tied_weight is not None:
            self.weight = tied_weight
        else:
            # Untied, or tied to the first stage's embedding: then this copy starts equal.
            self.weight = c.param("embedding.word" if c.tied else "head", (c.vocab, c.hidden), part=c.rows)

    def forward(self, x, targets):
        c = self.c
        h = enter_tp(self.norm(x), c.tp, c.sp)
        logits = F.linear(h, self.weight).float().reshape(-1, self.local_vocab)
        target = targets.t().reshape(-1)
        if c.tp.size > 1:
            return _VocabParallelCrossEntropy.apply(logits, target, c.tp.index * self.local_vocab, c.tp).mean()
        return F.cross_entropy(logits, target)


class Stage(nn.Module):
    """The modules of one pipeline stage: embedding on the first, its layers, final
    norm, head and loss on the last.  forward returns the loss on the last stage and
    the boundary activation elsewhere."""

    def __init__(self, c, role):
        super().__init__()
        rope = None if c.gpt else rope_tables(c)
        self.embedding = Embedding(c) if role.is_first else None
        self.layers = nn.ModuleList(Block(c, rope, role.first_layer + i) for i in range(role.layer_count))
        self.head = None
        if role.is_last:
            tied = self.embedding.word if (c.tied and self.embedding is not None) else None
            self.head = Head(c, tied)
        # full: every op of the layer again (Megatron-LM's checkpointing); full_early_stop:
        # only as far as the layer's saved tensors (torch.utils.checkpoint's default).
        self.full_recompute = c.recompute in ("full", "full_early_stop")
        self.early_stop = c.recompute == "full_early_stop"

    def forward(self, x, targets=None):
        if self.embedding is not None:
            x = self.embedding(x)
        for layer in self.layers:
            if self.full_recompute and torch.is_grad_enabled():
                with torch.utils.checkpoint.set_checkpoint_early_stop(self.early_stop):
                    x = torch.utils.checkpoint.checkpoint(layer, x, use_reentrant=False)
            else:
                x = layer(x)
        if self.head is not None:
            return self.head(x, targets)
        return x


# --------------------------------------------------------------------------
# Optimizers
# --------------------------------------------------------------------------

class MixedAdamW:
    """AdamW on fp32 master copies of bf16 parameters: fp32 moments and masters (12 bytes
    a parameter) beside the bf16 weights and gradients (4), 16 bytes in all as Strata
    assumes.  Each step converts a chunk of gradients to fp32 into one transient buffer
    (so the copy stays small), runs torch.optim.AdamW(fused=True) on the chunk and copies
    the masters back into the bf16 parameters.  The conversions and copies are multi-tensor
    (`torch._foreach_copy_`), as Megatron-LM's optimizer applies them: a handful of kernel
    launches per chunk, not three per parameter tensor, so the step's host cost does not
    grow with the number of tensors (GPT-350M has 292)."""

    def __init__(self, params, fused, weight_decay, chunk=1 << 26):
        self.chunks = []
        group, size = [], 0
        for p in params:
            group.append(p)
            size += p.numel()
            if size >= chunk:
                self.chunks.append(group)
                group, size = [], 0
        if group:
            self.chunks.append(group)
        self.masters = [[p.detach().float() for p in g] for g in self.chunks]
        self.opts = [torch.optim.AdamW(ms, lr=LR, betas=BETAS, eps=EPS, weight_decay=weight_decay, fused=fused)
                     for ms in self.masters]

    @torch.no_grad()
    def step(self):
        for ps, ms, opt in zip(self.chunks, self.masters, self.opts):
            flat = torch.empty(sum(m.numel() for m in ms), dtype=torch.float32, device=ms[0].device)
            views = [v.view_as(m) for v, m in zip(flat.split([m.numel() for m in ms]), ms)]
            with_grad = [(v, p.grad) for v, p in zip(views, ps) if p.grad is not None]
            if len(with_grad) < len(views):
                flat.zero_()  # parameters without a gradient step on zeros
            if with_grad:
                torch._foreach_copy_([v for v, _ in with_grad], [g for _, g in with_grad])
            for m, v in zip(ms, views):
                m.grad = v
            opt.step()
            torch._foreach_copy_(ps, ms)
            for m in ms:
                m.grad = None
            del flat, views


class BucketTimer:
    """A DDP comm hook that all-reduces each gradient bucket as DDP's default hook does
    (the bucket divided by the replicas, then summed), and records, as CUDA events, when the
    bucket was ready on the compute stream and when its all-reduce ended (an event on a
    stream of its own that waits for the collective and nothing else). With `began`, an
    event recorded as the iteration starts on an idle GPU, and each rank's monotonic clock
    there, the ranks' buckets line up in one time: how far apart the replicas reach each
    bucket, and how long each all-reduce holds its GPU (`bucket_timing.py`). A diagnostic
    (`run.py --bucket-timing`): the Python hook replaces DDP's C++ one, and with it the
    division of each gradient as it lands (one division a bucket instead)."""

    def __init__(self, pg, replicas, device):
        self.pg, self.replicas = pg, replicas
        self.side = torch.cuda.Stream(device)
        self.began = None
        self.began_clock_s = None
        self.marks = []

    def begin(self):
        """Marks the iteration's start: the host's monotonic clock, then an event on the
        GPU, idle after the barrier, so the event's time is the clock's."""
        self.marks = []
        self.began_clock_s = time.clock_gettime(time.CLOCK_MONOTONIC)
        self.began = torch.cuda.Event(enable_timing=True)
        self.began.record()

    def hook(self, state, bucket):
        buffer = bucket.buffer()
        ready = torch.cuda.Event(enable_timing=True)
        ready.record()
        buffer.div_(self.replicas)
        work = dist.all_reduce(buffer, group=self.pg, async_op=True)
        done = torch.cuda.Event(enable_timing=True)
        with torch.cuda.stream(self.side):
            work.wait()  # this stream waits for the collective's end
            done.record()
        self.marks.append((ready, done))
        return work.get_future().then(lambda fut: fut.value()[0])

    def iteration(self):
        """The iteration just synchronised: its start on the monotonic clock and, per
        bucket in the order DDP reduced them, milliseconds from the start to ready and to
        done."""
        return {"began_clock_s": self.began_clock_s,
                "buckets_ms": [[self.began.elapsed_time(r), self.began.elapsed_time(d)] for r, d in self.marks]}


class DistributedOptimizer:
    """ZeRO-1 as Megatron-LM's distributed optimizer runs it, and as Strata lowers `zero = 1`
    (ProgramBuilder: bucketed reduce-scatters in the backward, the step on a shard, bucketed
    all-gathers after it). The bf16 parameters and gradients move into two flat buffers cut
    into buckets of whole tensors, in backward order, a bucket closing at the tensor that
    fills it (GradientBuckets); each bucket is padded to a multiple of the replicas. Once the
    synchronised micro-batch has accumulated every gradient of a bucket, the bucket is
    divided by the replicas (the averaging pass) and reduce-scattered, so each replica holds
    the summed gradients of its own contiguous slice of every bucket. The optimizer keeps
    fp32 masters and moments for those slices only and steps them; then every bucket's
    parameters are all-gathered from the slices. On gloo (CPU tests) the reduce-scatter is
    an all-reduce and the all-gather a list gather: the same numbers."""

    def __init__(self, params, group, bucket_bytes, fused, weight_decay):
        self.group, self.n, self.index = group, group.size, group.index
        dtype, device = params[0].dtype, params[0].device
        buckets, bucket, size = [], [], 0
        for q in reversed(params):
            bucket.append(q)
            size += q.numel() * q.element_size()
            if size >= bucket_bytes:
                buckets.append(bucket)
                bucket, size = [], 0
        if bucket:
            buckets.append(bucket)
        self.spans, total = [], 0
        for b in buckets:
            padded = -(-sum(q.numel() for q in b) // self.n) * self.n
            self.spans.append((total, padded))
            total += padded
        self.param_buffer = torch.zeros(total, dtype=dtype, device=device)
        self.grad_buffer = torch.zeros(total, dtype=dtype, device=device)
        self.bucket_of = {}
        for i, ((start, _), b) in enumerate(zip(self.spans, buckets)):
            for q in b:
                k = q.numel()
                with torch.no_grad():
                    self.param_buffer[start:start + k].copy_(q.detach().reshape(-1))
                q.data = self.param_buffer[start:start + k].view_as(q)
                q.grad = self.grad_buffer[start:start + k].view_as(q)
                self.bucket_of[q] = i
                q.register_post_accumulate_grad_hook(self._accumulated)
                start += k
        self.sizes = [len(b) for b in buckets]
        self.sync = True
        self.ready = [0] * len(buckets)
        self.works = []
        self.launched = [False] * len(buckets)
        shards = []
        for start, padded in self.spans:
            shard = self.param_buffer[start:start + padded].view(self.n, -1)[self.index]
            shard.grad = self.grad_buffer[start:start + padded].view(self.n, -1)[self.index]
            shards.append(shard)
        self.optimizer = MixedAdamW(shards, fused, weight_decay)

    def _bucket(self, buffer, i):
        start, padded = self.spans[i]
        return buffer[start:start + padded]

    def _accumulated(self, q):
        """A gradient is accumulated: reduce-scatter its bucket once all of the bucket's are
        (the synchronised micro-batch only)."""
        if not self.sync:
            return
        i = self.bucket_of[q]
        self.ready[i] += 1
        if self.ready[i] == self.sizes[i]:
            self._reduce_scatter(i)

    @torch.no_grad()
    def _reduce_scatter(self, i):
        bucket = self._bucket(self.grad_buffer, i)
        bucket.div_(self.n)
        if self.group.gloo:
            dist.all_reduce(bucket, group=self.group.pg)
        else:
            shard = bucket.view(self.n, -1)[self.index]
            self.works.append(dist.reduce_scatter_tensor(shard, bucket, group=self.group.pg, async_op=True))
        self.launched[i] = True

    @torch.no_grad()
    def step(self):
        """Waits for the reduce-scatters (launching any bucket whose gradients did not all
        arrive), steps this replica's slices and all-gathers the parameters."""
        for i, done in enumerate(self.launched):
            if not done:
                self._reduce_scatter(i)
        for work in self.works:
            work.wait()
        self.works, self.ready, self.launched = [], [0] * len(self.sizes), [False] * len(self.sizes)
        self.optimizer.step()
        gathers = []
        for i in range(len(self.spans)):
            bucket = self._bucket(self.param_buffer, i)
            shard = bucket.view(self.n, -1)[self.index]
            if self.group.gloo:
                dist.all_gather(list(bucket.view(self.n, -1).unbind(0)), shard.clone(), group=self.group.pg)
            else:
                gathers.append(dist.all_gather_into_tensor(bucket, shard, group=self.group.pg, async_op=True))
        for work in gathers:
            work.wait()

    def zero_grad(self):
        """Megatron-LM's zero_grad_buffer: the whole gradient buffer written with zeros."""
        self.grad_buffer.zero_()


# --------------------------------------------------------------------------
# One rank
# --------------------------------------------------------------------------

def make_batches(c, role, device):
    """This replica's micro-batches ([micro_batch, seq] inputs and shifted targets), cut
    from one seeded global batch, so every layout trains on the same sequences.  Three
    quarters of the ids fall in the first 512, so a learning model's loss drops below
    ln(vocab)."""
    g = torch.Generator(device=device)
    g.manual_seed(SEED)
    rows = role.dp_size * role.micro_batches * c.micro_batch
    ids = torch.randint(0, c.vocab, (rows, c.seq + 1), generator=g, device=device)
    small = torch.rand((rows, c.seq + 1), generator=g, device=device) < 0.75
    ids = torch.where(small, ids % 512, ids)
    mine = ids.chunk(role.dp_size, 0)[role.dp_index]
    return [(b[:, :-1].contiguous(), b[:, 1:].contiguous()) for b in mine.split(c.micro_batch, 0)]


class Runner:
    """Builds this rank's model, optimizer and gradient synchronisation from the plan and
    runs iterations."""

    def __init__(self, plan, rank, device, gloo, time_buckets=False):
        self.plan, self.rank, self.device = plan, rank, device
        self.role = role = planlib.Role(plan, rank)
        p = plan["parallel"]
        self.groups = {}
        for kind, ranks in planlib.process_groups(plan):
            pg = dist.new_group(list(ranks))
            if rank in ranks:
                self.groups[kind] = Group(pg, ranks, rank, gloo)

        def group(kind, ranks):
            return self.groups.get(kind) or Group(None, ranks, rank, gloo)

        self.tp = group("tp", role.tp_group)
        self.dp = group("dp", role.dp_group)
        self.ep = group("ep", role.ep_group)
        self.edp = group("edp", role.edp_group) if p.get("expert_parallel") else self.dp
        self.tie = self.groups.get("tie")
        self.fsdp = p.get("fsdp")
        self.pipelined = role.stages > 1
        torch.manual_seed(SEED + role.rank)  # dropout masks
        c = self.cfg = Config(plan, role, self.tp, self.ep, device,
                              torch.float32 if self.fsdp else torch.bfloat16)
        self.model = Stage(c, role)
        self.batches = make_batches(c, role, device)
        self.local_parameters = sum(q.numel() for q in self.model.parameters())
        fused = device.type == "cuda"
        wd = WEIGHT_DECAY if plan["training"]["optimizer"] == "adamw" else 0.0
        params = list(self.model.parameters())
        self.sp_params = [q for q in params if getattr(q, "sp_partial", False)]
        self.expert_params = [q for q in params if getattr(q, "expert", False) and self.ep.size > 1]
        if self.tie is not None:
            # The first stage's embedding and the last stage's head start equal and stay so:
            # their gradients are summed after every backward (Megatron-LM's embedding group).
            w = self.model.embedding.word if role.is_first else self.model.head.weight
            with torch.no_grad():
                dist.broadcast(w, src=self.tie.ranks[0], group=self.tie.pg)
            self.tied_param = w
        self.ddp = None
        self.skip_grad_sync = False  # run.py --skip-grad-sync (a diagnostic)
        self.bucket_timer = None  # run.py --bucket-timing (a diagnostic)
        # run.py --gpu-ahead (a diagnostic): GPU sleep cycles queued before each backward, and
        # how many backwards the host finished issuing only after that sleep had ended.
        self.gpu_ahead_cycles = 0
        self.gpu_ahead_outlasted = 0
        self.after_forward_bytes = 0  # _note_after_forward, over the timed iterations
        # CUDA events before the optimizer step, after it, and after the gradients' zeroing.
        self.step_marks = (tuple(torch.cuda.Event(enable_timing=True) for _ in range(3))
                           if device.type == "cuda" else None)
        self.zero_gradients = plan["training"].get("zero_gradients", "memset")
        self.distributed_optimizer = None
        if self.fsdp:
            self._wrap_fsdp()
            self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=LR, betas=BETAS, eps=EPS,
                                               weight_decay=wd, fused=fused)
            self.step = self.optimizer.step
            return
        if planlib.runs_ddp(plan):  # what main() checks --skip-grad-sync against
            from torch.nn.parallel import DistributedDataParallel as DDP
            if self.expert_params:
                ignore = [n for n, q in self.model.named_parameters() if getattr(q, "expert", False)]
                self.model._ddp_params_and_buffers_to_ignore = ignore  # what DDP's helper sets
            self.ddp = DDP(self.model, device_ids=[device.index] if device.type == "cuda" else None,
                           process_group=self.dp.pg, bucket_cap_mb=p["gradient_bucket_bytes"] / 2 ** 20,
                           gradient_as_bucket_view=True)
            if time_buckets:
                self.bucket_timer = BucketTimer(self.dp.pg, self.dp.size, device)
                self.ddp.register_comm_hook(None, self.bucket_timer.hook)
        elif self.dp.size > 1:
            for q in params:  # replicas start equal (DDP would broadcast them)
                with torch.no_grad():
                    dist.broadcast(q, src=self.dp.ranks[0], group=self.dp.pg)
        if p["zero"] == 1 and self.dp.size > 1:
            self.distributed_optimizer = DistributedOptimizer(params, self.dp, p["gradient_bucket_bytes"], fused, wd)
            self.optimizer = self.distributed_optimizer
        else:
            self.optimizer = MixedAdamW(params, fused, wd)
        self.params = params
        self.step = self.optimizer.step

    def _wrap_fsdp(self):
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
        from torch.distributed.device_mesh import DeviceMesh, init_device_mesh
        kind = self.device.type
        if self.dp.size == dist.get_world_size():
            mesh = init_device_mesh(kind, (self.dp.size,))
        else:
            mesh = DeviceMesh.from_group(self.dp.pg, kind)
        policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.bfloat16)
        reshard = self.fsdp["reshard_after_forward"]
        layers = list(self.model.layers)
        if self.fsdp["unit"] == "layer":
            for layer in layers:
                fully_shard(layer, mesh=mesh, mp_policy=policy, reshard_after_forward=reshard)
            ahead = self.fsdp["prefetch"]
            if ahead > 1:
                for i, layer in enumerate(layers):
                    layer.set_modules_to_forward_prefetch(layers[i + 1:i + 1 + ahead])
                    layer.set_modules_to_backward_prefetch(layers[max(0, i - ahead):i][::-1])
        fully_shard(self.model, mesh=mesh, mp_policy=policy, reshard_after_forward=reshard)

    @torch.no_grad()
    def _sync_extra_gradients(self):
        """Gradients torch DDP does not handle: sequence-parallel norms and biases over the
        TP group, experts over their replicas (then averaged like the rest), the
        data-parallel all-reduce of a pipeline stage, the tied embedding's two copies."""
        for q in self.sp_params:
            if q.grad is not None:
                dist.all_reduce(q.grad, group=self.tp.pg)
        if self.expert_params:
            for q in self.expert_params:
                if q.grad is None:
                    continue
                if self.edp.size > 1:
                    dist.all_reduce(q.grad, group=self.edp.pg)
                q.grad.div_(self.dp.size)
        if self.pipelined and self.dp.size > 1:
            grads = [q.grad for q in self.params if q.grad is not None]
            works = [dist.all_reduce(g, group=self.dp.pg, async_op=True) for g in grads]
            for w in works:
                w.wait()
            torch._foreach_div_(grads, float(self.dp.size))
        if self.tie is not None and self.tied_param.grad is not None:
            dist.all_reduce(self.tied_param.grad, group=self.tie.pg)

    def zero_grad(self):
        """The plan's `zero_gradients`: `memset` writes the kept gradients with zeros (one
        multi-tensor pass, as Megatron-LM zeroes its gradient buffer), `set_to_none` drops
        them (PyTorch's default), so the next first micro-batch's become the kept ones."""
        drop = self.zero_gradients == "set_to_none"
        if self.distributed_optimizer is not None:  # plan.unsupported refuses set_to_none with it
            self.distributed_optimizer.zero_grad()
            return
        if self.fsdp:
            self.optimizer.zero_grad(set_to_none=drop)
            return
        if drop:
            for q in self.params:
                q.grad = None
            return
        grads = [q.grad for q in self.params if q.grad is not None]
        if grads:
            torch._foreach_zero_(grads)

    def iteration(self):
        """One training iteration; returns the summed loss (a 0-d tensor) on the last
        stage and None elsewhere."""
        role = self.role
        M = role.micro_batches
        self.host_forward_s = self.host_backward_s = 0.0
        if self.pipelined:
            loss = self._pipeline(M)
        else:
            loss = torch.zeros((), device=self.device)
            last_only = self.plan["parallel"]["gradient_sync_after_last_micro_batch"]
            for m, (tokens, targets) in enumerate(self.batches):
                sync = (m == M - 1 or not last_only) and not self.skip_grad_sync
                if self.fsdp:
                    self.model.set_requires_gradient_sync(sync)
                if self.distributed_optimizer is not None:
                    self.distributed_optimizer.sync = sync
                ctx = self.ddp.no_sync() if (self.ddp is not None and not sync) else contextlib.nullcontext()
                with ctx:
                    module = self.ddp if self.ddp is not None else self.model
                    t0 = time.perf_counter()
                    out = module(tokens, targets) / M
                    self._note_after_forward()
                    ahead = self._queue_gpu_ahead()
                    t1 = time.perf_counter()
                    out.backward()
                    self.host_forward_s += t1 - t0
                    self.host_backward_s += time.perf_counter() - t1
                    if ahead is not None and ahead.query():
                        self.gpu_ahead_outlasted += 1
                loss += out.detach()
        if not self.fsdp:
            self._sync_extra_gradients()
        if self.step_marks is not None:
            self.step_marks[0].record()
        self.step()
        if self.step_marks is not None:
            self.step_marks[1].record()
        self.zero_grad()
        if self.step_marks is not None:
            self.step_marks[2].record()
        return loss if role.is_last else None

    def _note_after_forward(self):
        """Keeps the most memory allocated just after a micro-batch's forward (the loss's
        included): the weights, gradients and optimizer state with every activation the
        backward will read, before the backward's own buffers. Set beside the prediction's
        memory at the same point, it tells the activations apart from the backward's peak
        (`allocated_after_forward_bytes` of the result). The caching allocator's counter,
        read on the host: no sync."""
        if self.device.type == "cuda":
            self.after_forward_bytes = max(self.after_forward_bytes, torch.cuda.memory_allocated(self.device))

    def _queue_gpu_ahead(self):
        """With --gpu-ahead, queue the GPU sleep before a backward and return an event that
        marks its end; None otherwise. The host then issues the backward behind a GPU that
        has work, so its issue time is its own cost, not the pace of a GPU it waits on."""
        return common.queue_sleep(torch, self.gpu_ahead_cycles) if self.gpu_ahead_cycles else None

    def step_gpu_s(self):
        """GPU seconds from the optimizer step's first kernel to its last in the iteration
        just synchronised (ZeRO-1's gathers included; time the GPU waited for the host
        inside the step counts too), or None on the CPU."""
        return self.step_marks[0].elapsed_time(self.step_marks[1]) / 1e3 if self.step_marks is not None else None

    def zero_grad_gpu_s(self):
        """GPU seconds of the gradients' zeroing in the iteration just synchronised (from the
        step's last kernel to the zeroing's last), or None on the CPU."""
        return self.step_marks[1].elapsed_time(self.step_marks[2]) / 1e3 if self.step_marks is not None else None

    def _pipeline(self, M):
        role, c = self.role, self.cfg
        steps = planlib.pipeline_steps(role.schedule, role.stages, role.stage, M)
        shape = (c.local_seq, c.micro_batch, c.hidden)
        inputs, outputs, grad_out, grad_in = {}, {}, {}, {}
        loss = torch.zeros((), device=self.device)
        for step in steps:
            if step[0] == "comm":
                ops, keep = [], []
                for op, m in step[1]:
                    if op == "recv_act":
                        buf = torch.empty(shape, dtype=ACT, device=self.device)
                        inputs[m] = buf
                        ops.append(dist.P2POp(dist.irecv, buf, role.prev_rank))
                    elif op == "send_act":
                        ops.append(dist.P2POp(dist.isend, outputs[m].detach(), role.next_rank))
                    elif op == "recv_grad":
                        buf = torch.empty(shape, dtype=ACT, device=self.device)
                        grad_out[m] = buf
                        ops.append(dist.P2POp(dist.irecv, buf, role.next_rank))
                    else:
                        g = grad_in.pop(m)
                        keep.append(g)
                        ops.append(dist.P2POp(dist.isend, g, role.prev_rank))
                for req in dist.batch_isend_irecv(ops):
                    req.wait()
                continue
            kind, m = step
            tokens, targets = self.batches[m]
            t0 = time.perf_counter()
            if kind == "F":
                x = tokens if role.is_first else inputs[m].requires_grad_()
                out = self.model(x, targets if role.is_last else None)
                if role.is_last:
                    out = out / M
                    loss += out.detach()
                outputs[m] = out
                self._note_after_forward()
                self.host_forward_s += time.perf_counter() - t0
            else:
                out = outputs.pop(m)
                if role.is_last:
                    out.backward()
                else:
                    torch.autograd.backward(out, grad_out.pop(m))
                if not role.is_first:
                    grad_in[m] = inputs.pop(m).grad
                self.host_backward_s += time.perf_counter() - t0
        return loss


def versions():
    return {"torch": str(torch.__version__), "cuda": str(torch.version.cuda),
            "nccl": common.nccl_version_string(torch) if torch.cuda.is_available() else "none"}


def gpu_local_cpus(device):
    """The CPUs on the GPU's own NUMA node (sysfs's local_cpulist of its PCI device), or
    None where they cannot be read."""
    try:
        props = torch.cuda.get_device_properties(device)
        pci = f"{props.pci_domain_id:04x}:{props.pci_bus_id:02x}:{props.pci_device_id:02x}.0"
        with open(f"/sys/bus/pci/devices/{pci}/local_cpulist") as f:
            return common.parse_cpulist(f.read())
    except (AttributeError, OSError, ValueError):
        return None


def compact_cpulist(cpus):
    """[0, 1, 2, 3, 8] -> '0-3,8'."""
    runs, start, last = [], None, None
    for c in sorted(cpus):
        if start is not None and c == last + 1:
            last = c
            continue
        if start is not None:
            runs.append(f"{start}-{last}" if last > start else str(start))
        start = last = c
    if start is not None:
        runs.append(f"{start}-{last}" if last > start else str(start))
    return ",".join(runs)


def bind_to_gpu_cpus(device):
    """Pin this process (and the threads it starts later: NCCL's, the sampler) to the CPUs
    of its GPU's NUMA node, as `torchrun --numa-binding` or numactl do in production; a
    rank left free can be scheduled across the socket from its GPU, where every launch
    costs more. Returns the CPU list it bound to, or None where it could not."""
    cpus = gpu_local_cpus(device)
    allowed = os.sched_getaffinity(0)
    if not cpus or not (cpus & allowed):
        return None
    os.sched_setaffinity(0, cpus & allowed)
    return sorted(cpus & allowed)


def join(rank, world, cpu, bind_cpus=False):
    """Join the process group as `rank` of `world`: NCCL on this rank's GPU, or gloo on CPU
    (`cpu`, or no GPU); with `bind_cpus`, first pin the process to its GPU's NUMA node's
    CPUs (`bind_to_gpu_cpus`). Returns (device, gloo)."""
    common.apply_safe_env()
    gloo = cpu or not torch.cuda.is_available()
    if gloo:
        dist.init_process_group("gloo", rank=rank, world_size=world)
        return torch.device("cpu"), True
    local = int(os.environ.get("LOCAL_RANK", rank))
    torch.cuda.set_device(local)
    device = torch.device("cuda", local)
    if bind_cpus:
        bound = bind_to_gpu_cpus(device)
        print(f"[run] rank {rank}: {'bound to CPUs ' + compact_cpulist(bound) if bound else 'not bound (no NUMA information)'}",
              flush=True)
    dist.init_process_group("nccl", rank=rank, world_size=world, device_id=device)
    common.flash_attention_only(torch)
    return device, False


class GpuSampler:
    """Samples the GPU's SM clock (MHz) and power draw (W) from a background thread while
    the timed iterations run (NVML through torch.cuda.clock_rate / power_draw), so that a
    run slower than its kernels' tables can be told from a GPU running below its clocks.
    Sampling never touches the CUDA stream; where NVML is missing it records nothing.
    `read` (tests) returns one (MHz, W) sample."""

    def __init__(self, device, interval_s=0.05, read=None):
        self.read = read or (lambda: (float(torch.cuda.clock_rate(device)), float(torch.cuda.power_draw(device)) / 1e3))
        self.interval_s, self.samples = interval_s, []
        self._stop = None
        self._thread = None

    def start(self):
        import threading
        self._stop = threading.Event()

        def loop():
            while not self._stop.is_set():
                try:
                    self.samples.append(self.read())
                except Exception:  # no NVML (pynvml) here: nothing to record
                    return
                self._stop.wait(self.interval_s)
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def medians(self):
        """(median SM clock MHz, median power W), or (None, None) without samples."""
        if not self.samples:
            return None, None
        return (planlib.summarize([c for c, _ in self.samples])["median_s"],
                planlib.summarize([w for _, w in self.samples])["median_s"])


class BackToBack:
    """run.py --back-to-back: the timed iterations issued one after another with no sync
    between them, as a training loop issues them, each timed on the GPU from a CUDA event
    recorded as its host began it to the next one's. The host then starts each iteration as
    far ahead of its GPU as it ended the last (CUDA's launch queue bounds the lead), where a
    loop that syncs to time each iteration makes every rank's host start it behind an idle
    GPU, a cost a training run pays once (docs/accuracy.md, "A head start for the host")."""

    def __init__(self):
        self.marks = []

    def mark(self):
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        self.marks.append(event)

    def finish(self, sync):
        """Marks the last iteration's end, waits for the GPU, and returns each timed
        iteration's seconds."""
        self.mark()
        sync()
        return [a.elapsed_time(b) / 1e3 for a, b in zip(self.marks, self.marks[1:])]


class HeadStart:
    """run.py --gpu-head-start: a GPU sleep queued before an iteration, so the host issues
    the iteration's first kernels while the GPU is busy and starts ahead of it. The
    iteration is timed on the GPU from the sleep's end to after its last kernel: a plan's
    time where the host does not hold its GPU back at the start, which a runner that syncs
    every iteration (as this one does without --back-to-back, to time it) otherwise pays on
    every rank."""

    def __init__(self, ms):
        self.cycles = int(ms / 1e3 * common.sleep_cycles_per_second(torch))
        self.outlasted = 0
        self.started = self.finished = None

    def begin(self):
        self.started = common.queue_sleep(torch, self.cycles, timing=True)

    def end(self):
        if not self.started.query():
            self.outlasted += 1
        self.finished = torch.cuda.Event(enable_timing=True)
        self.finished.record()

    def seconds(self):
        return self.started.elapsed_time(self.finished) / 1e3


class GcPauses:
    """Records the garbage collector's pauses inside the timed iterations (through
    `gc.callbacks`). A full collection stalls a rank's host for milliseconds; its GPU
    drains, and on a data-parallel or pipelined run the other ranks wait for it. So a run
    slower than its GPU work can be told from one whose host stalled. `clock` (tests)
    replaces time.perf_counter."""

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.iterations = []  # per timed iteration: [(generation, seconds), ...]
        self.counting = False
        self._started = None

    def _callback(self, phase, info):
        if phase == "start":
            self._started = self.clock() if self.counting else None
        elif phase == "stop" and self._started is not None:
            self.iterations[-1].append((info["generation"], self.clock() - self._started))
            self._started = None

    def __enter__(self):
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self._callback)

    def begin_iteration(self):
        self.iterations.append([])
        self.counting = True

    def end_iteration(self):
        self.counting = False

    def summary(self):
        """Per timed iteration the seconds paused, the longest pause, and how many
        collections of each generation (0, 1, 2) ran in all the timed iterations."""
        pauses = [p for it in self.iterations for p in it]
        return {"pause_s": [sum((s for _, s in it), 0.0) for it in self.iterations],
                "longest_s": max((s for _, s in pauses), default=0.0),
                "collections": [sum(1 for g, _ in pauses if g == gen) for gen in range(3)]}


def worker(rank, world, plan, args):
    """One rank: set up, warm up, time, gather, and (rank 0) write the result."""
    device, gloo = join(rank, world, args.cpu, args.bind_cpus)
    try:
        runner = Runner(plan, rank, device, gloo, time_buckets=args.bucket_timing)
        runner.skip_grad_sync = args.skip_grad_sync  # main() has checked that DDP runs this plan
        if args.gpu_ahead:
            runner.gpu_ahead_cycles = int(args.gpu_ahead / 1e3 * common.sleep_cycles_per_second(torch))
        cuda = device.type == "cuda"
        head_start = HeadStart(args.gpu_head_start) if args.gpu_head_start else None
        back_to_back = BackToBack() if args.back_to_back else None

        def sync():
            if cuda:
                torch.cuda.synchronize(device)

        times, host_times, host_split, losses, step_times, zero_times, buckets = [], [], [], [], [], [], []
        sampler = GpuSampler(device) if cuda else None
        if args.manual_gc:
            gc.disable()
        with GcPauses() as collector:
            for it in range(args.warmup + args.iterations):
                timed = it >= args.warmup
                chained = back_to_back is not None and timed  # timed back to back
                if it == args.warmup and cuda:
                    sync()
                    torch.cuda.reset_peak_memory_stats(device)
                    runner.after_forward_bytes = 0
                    sampler.start()
                if args.manual_gc:
                    gc.collect()  # between iterations, untimed, as Megatron-LM's --manual-gc does
                # Back to back, the timed iterations follow each other as in a training loop:
                # no sync and no barrier between them, only before the first.
                if not (chained and it > args.warmup):
                    sync()
                    dist.barrier()
                    sync()
                if timed:
                    collector.begin_iteration()
                    if args.sync_debug and cuda:
                        torch.cuda.set_sync_debug_mode("warn")
                if runner.bucket_timer is not None:
                    runner.bucket_timer.begin()
                t0 = time.perf_counter()
                if head_start is not None:
                    head_start.begin()
                if chained:
                    back_to_back.mark()
                loss = runner.iteration()
                issued = time.perf_counter()
                if head_start is not None:
                    head_start.end()
                if args.sync_debug and cuda:
                    torch.cuda.set_sync_debug_mode("default")
                if not chained:
                    sync()
                t1 = time.perf_counter()
                collector.end_iteration()
                if timed:
                    if not chained:
                        times.append(t1 - t0 if head_start is None else head_start.seconds())
                        step_times.append(runner.step_gpu_s())
                        zero_times.append(runner.zero_grad_gpu_s())
                    host_times.append(issued - t0)
                    host_split.append((runner.host_forward_s, runner.host_backward_s))
                    if runner.bucket_timer is not None:
                        buckets.append(runner.bucket_timer.iteration())
                losses.append(loss)
            if back_to_back is not None:
                times = back_to_back.finish(sync)
                step_times.append(runner.step_gpu_s())  # the last iteration's: the events are reused
                zero_times.append(runner.zero_grad_gpu_s())
        if sampler is not None:
            sampler.stop()
        if args.manual_gc:
            gc.enable()
        clock_mhz, power_w = sampler.medians() if sampler is not None else (None, None)
        if args.profile and cuda:
            profile_iteration(runner, sync, f"{args.profile}.rank{rank}", args.profile_lean,
                              args.profile_iterations if args.back_to_back else 1)
        mine = {
            "rank": rank,
            "times": times,
            "host_times": host_times,
            "host_split": host_split,
            "step_times": step_times,
            "zero_times": zero_times,
            "buckets": buckets,
            "losses": [float(x) for x in losses] if runner.role.is_last else None,
            "peak_allocated": torch.cuda.max_memory_allocated(device) if cuda else 0,
            "peak_reserved": torch.cuda.max_memory_reserved(device) if cuda else 0,
            "after_forward": runner.after_forward_bytes,
            "local_parameters": runner.local_parameters,
            "device": torch.cuda.get_device_name(device) if cuda else "cpu",
            "sm_clock_mhz": clock_mhz,
            "power_w": power_w,
            "gc": collector.summary(),
            "gpu_ahead_outlasted": runner.gpu_ahead_outlasted,
            "head_start_outlasted": head_start.outlasted if head_start is not None else 0,
        }
        if args.host_speed:
            import host_spread  # scripts/profile/ (plan.py put it on the path)
            speed = host_spread.layer_rounds(args.host_speed, dist.barrier, not cuda)
            mine["host_layer"] = [planlib.summarize([s[i] for s in speed])["median_s"] for i in (0, 1)]
        everyone = [None] * world
        dist.all_gather_object(everyone, mine)
        if rank == 0:
            write_result(plan, args, everyone)
    except Exception:
        with open(f"{args.out}.rank{rank}.error", "w") as f:
            f.write(traceback.format_exc())
        raise
    finally:
        try:
            dist.destroy_process_group()
        except Exception:
            pass


def union_us(intervals):
    """The time covered by at least one of the sorted (start, end, ...) intervals."""
    total, end = 0.0, None
    for s, t, *_ in intervals:
        if end is None or s > end:
            total += t - s
            end = t
        elif t > end:
            total += t - end
            end = t
    return total


def idle_split_us(gpu, launches):
    """Split the GPU's idle gaps (between the union of its busy intervals) into the part
    spent waiting for the host to launch the next kernel, and the rest (a dependency: a
    peer's collective, another stream). `gpu` holds sorted (start, end, name, cat,
    correlation, ...) tuples, `launches` maps a correlation id to its launch call's end."""
    waiting_host, other, end = 0.0, 0.0, None
    for s, t, _, _, corr, *_ in gpu:
        if end is not None and s > end:
            launched = launches.get(corr)
            host = min(s, launched) - end if launched is not None and launched > end else 0.0
            waiting_host += host
            other += (s - end) - host
        end = t if end is None else max(end, t)
    return waiting_host, other


def write_timeline(path, gpu, launches, t0):
    """PATH: a compact gzipped JSON timeline of one rank's profiled iteration, small enough
    to bring back from a device run for every rank: kernel names once, then per GPU event
    [start, duration, stream, name index, launch call end] in microseconds from t0."""
    import gzip
    names, rows = {}, []
    for s, t, name, _, corr, stream in gpu:
        index = names.setdefault(re.sub(r"<.*", "", name)[:120], len(names))
        launched = launches.get(corr)
        rows.append([round(s - t0, 1), round(t - s, 1), stream, index,
                     None if launched is None else round(launched - t0, 1)])
    with gzip.open(path, "wt") as f:
        json.dump({"names": list(names), "events": rows}, f)


SPIN_MARKER = "spin_kernel"  # torch.cuda._sleep's kernel: marks where an iteration begins on the GPU


def steady_window(gpu, launched, iterations):
    """The GPU events (sorted (start, end, name, cat, correlation, stream) tuples) and
    launch-call ends (correlation -> us) of the iterations after the first, where each
    iteration began with a SPIN_MARKER kernel: so that iterations profiled back to back are
    read as a training loop runs them, the first one's start behind an idle GPU left out.
    With one iteration, everything as given."""
    if iterations < 2:
        return gpu, launched
    marks = [g for g in gpu if SPIN_MARKER in g[2]]
    if len(marks) < 2:
        raise RuntimeError(f"profiled {iterations} iterations but found {len(marks)} of their {SPIN_MARKER} markers "
                           "among the GPU's events; profile without --back-to-back for one synchronised iteration")
    begin = marks[1][0]
    kept = [g for g in gpu if g[0] >= begin and SPIN_MARKER not in g[2]]
    corr = {g[4] for g in kept}
    return kept, {c: t for c, t in launched.items() if c in corr}


def per_iteration(summary, n):
    """A profile summary over `n` iterations back to back, as figures per iteration: the
    wall is the GPU's span (the host's clock also timed the first iteration), every other
    time and count divided by n; `iterations` says n."""
    out = {k: (v / n if isinstance(v, (int, float)) and k != "launch_call_mean_us" else v) for k, v in summary.items()}
    out["wall_us"] = summary["gpu_span_us"] / n
    out["by_name"] = {k: dict(v, count=v["count"] / n, us=v["us"] / n) for k, v in summary["by_name"].items()}
    out["iterations"] = n
    return out


def profile_iteration(runner, sync, path, lean=False, iterations=1):
    """One more iteration under torch.profiler: where the GPU's time goes, kernel by kernel.
    With `iterations` N > 1, N iterations back to back, no sync between them, each marked on
    the GPU by a SPIN_MARKER kernel; the figures are then per iteration over the last N - 1
    (`steady_window`), as a training loop runs them.

    Writes PATH.json: the iteration's wall time, the time some kernel (or copy/memset)
    ran (the union of their intervals), split into compute, NCCL and both at once, the
    GPU's idle time inside its span, the host's time blocked in synchronize calls, the
    kernel count, the host's launch calls, and per kernel name its count and total time;
    and PATH.trace.json.gz, the full trace. With `lean`, only the GPU's activity and the
    launch calls are recorded, so the host runs nearly as fast as unprofiled, and the
    GPU's idle time is split into waiting for the host and the rest; the trace is then
    PATH.timeline.json.gz (`write_timeline`). Answers whether a gap to Strata's prediction
    is extra GPU work, communication left exposed, or an idle GPU.
    """
    import gzip
    from torch.profiler import ProfilerActivity, profile
    sync()
    activities = [ProfilerActivity.CUDA] if lean else [ProfilerActivity.CPU, ProfilerActivity.CUDA]
    with profile(activities=activities, record_shapes=not lean) as prof:
        t0 = time.perf_counter()
        for _ in range(iterations):
            if iterations > 1:
                torch.cuda._sleep(1)  # the iteration's marker (SPIN_MARKER) on the compute stream
            runner.iteration()
        sync()
        t1 = time.perf_counter()
    trace = path + ".trace.json"
    prof.export_chrome_trace(trace)
    with open(trace) as f:
        events = json.load(f)["traceEvents"]
    if not lean:
        with open(trace, "rb") as f, gzip.open(trace + ".gz", "wb") as g:
            g.write(f.read())
    os.remove(trace)
    runtime = [e for e in events if e.get("ph") == "X" and e.get("cat") == "cuda_runtime"]
    launched = {e["args"]["correlation"]: e["ts"] + e["dur"] for e in runtime
                if "correlation" in e.get("args", {})}
    gpu = [(e["ts"], e["ts"] + e["dur"], e["name"], e.get("cat"), e.get("args", {}).get("correlation"),
            e.get("args", {}).get("stream")) for e in events
           if e.get("ph") == "X" and e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")]
    gpu.sort(key=lambda g: (g[0], g[1]))
    gpu, launched = steady_window(gpu, launched, iterations)
    if iterations > 1:  # the launch calls of the kept iterations only
        runtime = [e for e in runtime if e.get("args", {}).get("correlation") in launched]
    if lean and gpu:
        write_timeline(path + ".timeline.json.gz", gpu, launched, gpu[0][0])
    busy = union_us(gpu)
    idle_host, idle_other = idle_split_us(gpu, launched)
    nccl = union_us([g for g in gpu if "nccl" in g[2].lower()])
    compute = union_us([g for g in gpu if "nccl" not in g[2].lower()])
    waits = [e for e in runtime if "Synchronize" in e["name"]]
    names = {}
    for s, t, name, cat, *_ in gpu:
        key = re.sub(r"<.*", "", name)[:120]
        entry = names.setdefault(key, {"count": 0, "us": 0.0, "cat": cat})
        entry["count"] += 1
        entry["us"] += t - s
    launches = [e for e in runtime if e["name"] in ("cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC", "cuLaunchKernelEx")]
    summary = {
        "wall_us": (t1 - t0) * 1e6,
        "gpu_busy_us": busy,
        "gpu_span_us": (gpu[-1][1] - gpu[0][0]) if gpu else 0,
        "kernels": sum(1 for g in gpu if g[3] == "kernel"),
        "copies_and_sets": sum(1 for g in gpu if g[3] != "kernel"),
        "kernel_us": sum(t - s for s, t, _, c, *_ in gpu if c == "kernel"),
        "compute_busy_us": compute,
        "nccl_busy_us": nccl,
        "overlap_us": compute + nccl - busy,
        "idle_us": ((gpu[-1][1] - gpu[0][0]) - busy) if gpu else 0,
        "idle_waiting_host_us": idle_host,
        "idle_waiting_other_us": idle_other,
        "host_sync_wait_us": sum(e["dur"] for e in waits),
        "launch_calls": len(launches),
        "launch_call_mean_us": (sum(e["dur"] for e in launches) / len(launches)) if launches else 0,
        "by_name": dict(sorted(names.items(), key=lambda kv: -kv[1]["us"])),
    }
    if iterations > 1:
        summary = per_iteration(summary, iterations - 1)
    with open(path + ".json", "w") as f:
        json.dump(summary, f, indent=1)
    print(profile_summary.line(summary), flush=True)


def gpu_median_s(times):
    """The median of a rank's per-iteration GPU times (CUDA events), or None on the CPU,
    where every time is None."""
    return planlib.summarize(times)["median_s"] if times[:1] != [None] else None


def write_result(plan, args, everyone):
    per_iteration = [max(r["times"][i] for r in everyone) for i in range(args.iterations)]
    # Loss per iteration: the mean over data-parallel replicas of the last stages' losses.
    last = [r["losses"] for r in everyone if r["losses"] is not None]
    losses = [sum(x[i] for x in last) / len(last) for i in range(len(last[0]))]
    result = {
        "strategy": plan["strategy"],
        "gpus": plan["gpus"],
        "gpu": everyone[0]["device"],
        "driver": common.driver_version() if everyone[0]["device"] != "cpu" else "none",
        **versions(),
        "date": args.date or common.utc_now_iso(),
        "command": args.command or " ".join([os.path.basename(sys.executable)] + sys.argv),
        "warmup": args.warmup,
        "iteration_times_s": per_iteration,
        **planlib.summarize(per_iteration),
        # Per rank, the median time its host took to issue an iteration (the GPU runs
        # behind it): close to the iteration time means that rank's host bounds it.
        "host_issue_s": [planlib.summarize(r["host_times"])["median_s"] for r in everyone],
        # Of which the forward and backward calls of the micro-batches (not pipelined runs;
        # the rest is gradient synchronisation, the optimizer step and zeroing).
        "host_forward_s": [planlib.summarize([f for f, _ in r["host_split"]])["median_s"] for r in everyone],
        "host_backward_s": [planlib.summarize([b for _, b in r["host_split"]])["median_s"] for r in everyone],
        # Per rank, the median GPU time of the optimizer step (CUDA events around it; null on
        # the CPU): what Strata's optimizer tasks price.
        "optimizer_step_gpu_s": [gpu_median_s(r["step_times"]) for r in everyone],
        # Per rank and timed iteration (run.py --bucket-timing): the iteration's start on the
        # monotonic clock and each gradient bucket's ready and done, in ms from it.
        **({"bucket_timing": [r["buckets"] for r in everyone]} if args.bucket_timing else {}),
        # Per rank, the median GPU time of the gradients' zeroing (`zero_gradients`; CUDA
        # events after the step and after the zeroing): what Strata's "gradients zero" prices.
        "zero_grad_gpu_s": [gpu_median_s(r["zero_times"]) for r in everyone],
        # run.py --host-speed: per rank, its process's host speed after the iterations, the
        # median us of host.py's LLaMA layer (the runner's own) in a chain behind a busy GPU,
        # forward and backward, each round started at a barrier with the other ranks: a
        # process's host differs from the next one's by up to 1.6x (docs/accuracy.md).
        **({"host_layer_us": [r["host_layer"] for r in everyone]} if args.host_speed else {}),
        "cpu_binding": "gpu_numa_node" if args.bind_cpus else "none",
        "garbage_collection": "between_iterations" if args.manual_gc else "automatic",
        # run.py --gpu-ahead: the GPU sleep queued before each backward (ms), and per rank how
        # many timed and warm-up backwards outlasted it (their host times are partly paced by the GPU).
        **({"gpu_ahead_ms": args.gpu_ahead, "gpu_ahead_outlasted": [r["gpu_ahead_outlasted"] for r in everyone]}
           if args.gpu_ahead else {}),
        # run.py --gpu-head-start: the GPU sleep queued before each iteration (ms), the
        # iteration then timed on the GPU from the sleep's end; per rank, how many iterations
        # the host had issued whole before the sleep ended (those ran with no host in the way).
        **({"gpu_head_start_ms": args.gpu_head_start,
            "head_start_outlasted": [r["head_start_outlasted"] for r in everyone]} if args.gpu_head_start else {}),
        # How the iterations were timed: each started behind an idle GPU after a sync and
        # timed by the host's clock, or back to back on the GPU (run.py --back-to-back).
        "timing": "back_to_back" if args.back_to_back else ("gpu_head_start" if args.gpu_head_start else "synchronised"),
        "gradient_sync": "skipped" if args.skip_grad_sync else ("plan, timed by a Python comm hook" if args.bucket_timing else "plan"),
        # Per rank, the garbage collector's pauses inside the timed iterations: the median
        # and the largest total per iteration, the longest single pause, and the count of
        # collections by generation (0, 1, 2).
        "gc_pause_median_s": [planlib.summarize(r["gc"]["pause_s"])["median_s"] for r in everyone],
        "gc_pause_max_s": [max(r["gc"]["pause_s"], default=0.0) for r in everyone],
        "gc_longest_pause_s": [r["gc"]["longest_s"] for r in everyone],
        "gc_collections": [r["gc"]["collections"] for r in everyone],
        # Per rank, the median SM clock and power over the timed iterations (null without
        # NVML): a GPU held below its clocks (power or heat) runs every kernel slower.
        "sm_clock_mhz": [r["sm_clock_mhz"] for r in everyone],
        "power_w": [r["power_w"] for r in everyone],
        "peak_allocated_bytes": [r["peak_allocated"] for r in everyone],
        # The most allocated just after a micro-batch's forward, per rank: the activations
        # apart from the backward's own buffers (Runner._note_after_forward).
        "allocated_after_forward_bytes": [r["after_forward"] for r in everyone],
        "peak_reserved_bytes": [r["peak_reserved"] for r in everyone],
        "local_parameters": [r["local_parameters"] for r in everyone],
        "losses": losses,
        "loss_sane": planlib.loss_is_sane(losses, plan["model"]["vocab"]),
        "loss_decreased": len(losses) > 1 and losses[-1] < losses[0],
        "parameters": plan["model"]["parameters"],
    }
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, args.out)
    print(f"[run] {plan['strategy']}: median {result['median_s']:.4f} s, host issue "
          f"{'/'.join(f'{h:.4f}' for h in result['host_issue_s'])} s, "
          f"peak {max(result['peak_allocated_bytes']) / 2**30:.2f} GiB allocated, "
          f"gc pauses up to {max(result['gc_pause_max_s']) * 1e3:.1f} ms an iteration "
          f"({'/'.join(str(sum(c)) for c in result['gc_collections'])} collections), "
          f"loss {losses[0]:.3f} -> {losses[-1]:.3f}", flush=True)


def _spawned(rank, world, plan, args):
    """A spawned rank: its work, then an exit that skips the interpreter's teardown. Once
    the result is written nothing is left to clean up, and PyTorch's CPU builds can abort
    in a C++ destructor at that point ("terminate called without an active exception",
    SIGABRT), which turned finished CPU runs into failures (scripts/validate's TestOnCPU)."""
    worker(rank, world, plan, args)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("plan", help="plan JSON from `simulate export`")
    ap.add_argument("--out", required=True, help="result JSON (written by rank 0)")
    ap.add_argument("--iterations", type=int, default=10, help="timed iterations (default 10)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed iterations first (default 3)")
    ap.add_argument("--smoke", action="store_true", help="a small copy of the plan (plan.smoke)")
    ap.add_argument("--seq", type=int, default=None, metavar="N",
                    help="run the plan's model at sequence length N: the GPU's work shrinks and the "
                         "host's does not, so the iteration time becomes the host's cost of issuing it")
    ap.add_argument("--cpu", action="store_true", help="run on CPU with gloo (tests)")
    ap.add_argument("--command", default=None, help="command line to record (default: this one)")
    ap.add_argument("--date", default=None, help="date to record (default: now)")
    ap.add_argument("--profile", default=None, metavar="PATH",
                    help="after timing, profile one more iteration: PATH.rankR.json (kernel summary) and .trace.json.gz")
    ap.add_argument("--bind-cpus", action="store_true",
                    help="pin each rank to the CPUs of its GPU's NUMA node (as torchrun --numa-binding does)")
    ap.add_argument("--host-speed", type=int, default=0, metavar="ROUNDS",
                    help="after timing, time each rank's host on host.py's LLaMA layer chain in ROUNDS rounds "
                         "(host_layer_us): how fast the host of the processes this launch got is")
    ap.add_argument("--skip-grad-sync", action="store_true",
                    help="a diagnostic: run every micro-batch of a DDP plan without its gradient "
                         "all-reduces, to measure what they cost the iteration (not a valid training run)")
    ap.add_argument("--bucket-timing", action="store_true",
                    help="a diagnostic: time every DDP gradient bucket, from ready on the compute stream to its "
                         "all-reduce's end, through a comm hook (bucket_timing.py reads the result's bucket_timing)")
    ap.add_argument("--gpu-ahead", type=float, default=0.0, metavar="MS",
                    help="a diagnostic: queue MS milliseconds of GPU sleep before every micro-batch's backward, so "
                         "host_backward_s is what the host needs to issue it and not the pace of a GPU it waits on "
                         "(not a valid training run; pipelines not supported)")
    ap.add_argument("--back-to-back", action="store_true",
                    help="time the iterations issued back to back, as a training loop runs them (no sync between "
                         "them; each timed on the GPU from its start to the next one's), instead of each started "
                         "behind an idle GPU")
    ap.add_argument("--gpu-head-start", type=float, default=0.0, metavar="MS",
                    help="a diagnostic: queue MS milliseconds of GPU sleep before every iteration on every rank and "
                         "time the iteration on the GPU from the sleep's end, so the host starts ahead of its GPU: "
                         "what the plan takes where no host holds its GPUs back at the start (not a training run's pace)")
    ap.add_argument("--sync-debug", action="store_true",
                    help="a diagnostic: after warm-up, warn at every CUDA call that makes the host wait for the GPU "
                         "(torch.cuda.set_sync_debug_mode), to find what stops a host from running ahead")
    ap.add_argument("--manual-gc", action="store_true",
                    help="no automatic garbage collection during iterations, one collection between them "
                         "(Megatron-LM's --manual-gc): a collection inside an iteration stalls that rank's host")
    ap.add_argument("--profile-lean", action="store_true",
                    help="with --profile: record only the GPU's activity and launch calls, which costs the host "
                         "far less than recording every op, and write PATH.rankR.timeline.json.gz, not the full trace")
    ap.add_argument("--profile-iterations", type=int, default=4, metavar="N",
                    help="with --profile and --back-to-back: profile N iterations back to back and report the "
                         "last N - 1 per iteration (default 4)")
    args = ap.parse_args(argv)
    if args.profile_lean and not args.profile:
        ap.error("--profile-lean changes how --profile PATH profiles; give --profile PATH too")
    if args.profile_iterations < 2:
        ap.error("--profile-iterations must be at least 2: the first is left out as a start behind an idle GPU")
    if args.iterations < 1 or args.warmup < 0:
        ap.error("--iterations must be at least 1 and --warmup at least 0")
    return args


def diagnostic_refusal(args, plan):
    """Why a diagnostic flag cannot run on this plan or machine, with the fix; None where
    every flag given can."""
    ddp = planlib.runs_ddp(plan)
    no_ddp = ("DDP's gradient all-reduces, and this plan has none (it needs data parallelism without FSDP, ZeRO-1 "
              "or a pipeline); drop the flag")
    refusals = [
        (args.skip_grad_sync and not ddp, "--skip-grad-sync skips " + no_ddp),
        (args.bucket_timing and not ddp, "--bucket-timing times " + no_ddp),
        (args.gpu_ahead and (args.cpu or plan["parallel"].get("pipeline")),
         "--gpu-ahead queues GPU sleep before each micro-batch's backward, which needs GPUs and a plan without a "
         "pipeline; drop --cpu or the flag"),
        (args.bucket_timing and args.cpu, "--bucket-timing times CUDA events and needs GPUs; drop --cpu or the flag"),
        (args.back_to_back and args.cpu, "--back-to-back times iterations with CUDA events, which needs GPUs; "
         "drop --cpu or the flag"),
        (args.back_to_back and (args.gpu_head_start or args.bucket_timing),
         "--back-to-back times iterations that follow each other without a sync, which --gpu-head-start and "
         "--bucket-timing need between them; give one of them"),
        (args.gpu_head_start and args.cpu, "--gpu-head-start queues GPU sleep and times CUDA events, which needs GPUs; "
         "drop --cpu or the flag"),
    ]
    return next((why for refused, why in refusals if refused), None)


def main(argv=None):
    args = parse(argv)
    plan = planlib.load_for_run(args.plan, args.smoke, args.seq)
    refused = diagnostic_refusal(args, plan)
    if refused:
        print(f"{args.plan}: error: {refused}", file=sys.stderr)
        return 2
    if args.seq:
        plan["strategy"] = f"{plan['strategy']} (seq {args.seq})"  # the result says it is not the plan as exported
    world = plan["gpus"]
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        if int(os.environ["WORLD_SIZE"]) != world:
            print(f"{args.plan}: error: the plan needs {world} processes, torchrun started {os.environ['WORLD_SIZE']}; "
                  f"run it with torchrun --nproc-per-node {world}", file=sys.stderr)
            return 2
        worker(int(os.environ["RANK"]), world, plan, args)
        return 0
    if not args.cpu and torch.cuda.is_available() and torch.cuda.device_count() < world:
        print(f"{args.plan}: error: the plan needs {world} GPUs, {torch.cuda.device_count()} are visible; run it on a "
              f"machine with {world} (CUDA_VISIBLE_DEVICES may hide some), or export a strategy of at most "
              f"{torch.cuda.device_count()}", file=sys.stderr)
        return 2
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    import torch.multiprocessing as mp
    chosen = "MASTER_PORT" not in os.environ
    for attempt in range(3):
        if chosen:
            os.environ["MASTER_PORT"] = str(common.free_port())
        try:
            mp.spawn(_spawned, args=(world, plan, args), nprocs=world, join=True)
            return 0
        except Exception as exc:  # torch.multiprocessing.ProcessRaisedException
            # The port was free when chosen and taken before the store bound it: nothing
            # ran yet, so run again on another (a port the caller named is theirs to fix).
            if not (chosen and attempt < 2 and common.address_in_use(exc)):
                raise
            print(f"[run] rendezvous port {os.environ['MASTER_PORT']} was taken; trying another", flush=True)
            for stale in glob.glob(args.out + ".rank*.error"):
                os.remove(stale)


if __name__ == "__main__":
    sys.exit(main())
