"""The pure-Python half of the validation runner: reading a plan, each rank's role,
the pipeline schedules, the MoE routing and the statistics.

A plan is what `simulate export FILE.strata` prints (format_version 1).  Nothing here
needs torch, so test_validate.py checks it on any machine; run.py (one process per GPU)
turns it into modules, process groups and a training loop.
"""

import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "profile"))

import common  # noqa: E402  (scripts/profile/common.py: safe environment, GPU naming, percentiles)

FORMAT_VERSION = 1
SCHEDULES = ("gpipe", "1f1b")


class PlanError(Exception):
    """A plan this runner cannot execute, with the reason and what to change."""


# --------------------------------------------------------------------------
# Reading and checking
# --------------------------------------------------------------------------

def load(path):
    """The plan in `path` as a dict (the JSON of `simulate export`), checked by `unsupported`.
    Raises PlanError, `file[:line:col]: error:` with the reason and the fix, for a file that
    cannot be read, is not JSON, or holds a plan this runner cannot execute."""
    export = "give the JSON that `simulate export STRATEGY --json` writes"
    try:
        with open(path) as f:
            plan = json.load(f)
    except OSError as exc:
        raise PlanError(f"{path}: error: cannot read the plan ({exc.strerror}); {export}") from None
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path}:{exc.lineno}:{exc.colno}: error: the plan is not JSON ({exc.msg}); {export}") from None
    if not isinstance(plan, dict):
        raise PlanError(f"{path}:1:1: error: the plan is a JSON {type(plan).__name__}, not an object; {export}")
    problems = unsupported(plan)
    if problems:
        raise PlanError(f"{path}: error: this runner cannot execute the plan exactly: " + "; ".join(problems))
    return plan


def load_for_run(path, small=False, seq=None):
    """The plan in `path` as a runner executes it: its small copy (`smoke`) with `small`,
    its model at sequence `seq` when given. A plan that cannot be loaded (`load`) is bad
    input: its located error goes to standard error and the process exits with status 2."""
    try:
        plan = load(path)
    except PlanError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    if small:
        plan = smoke(plan)
    if seq:
        plan["model"]["seq"] = seq
    return plan


def runs_ddp(plan):
    """Whether the runner wraps this plan's model in torch DDP: data parallelism on every
    rank, without FSDP, ZeRO-1 or a pipeline (the runner's own gradient sync handles those)."""
    role = Role(plan, 0)
    return (not plan["parallel"].get("fsdp") and not plan["parallel"].get("zero")
            and role.stages == 1 and role.dp_size > 1)


def unsupported(plan):
    """Every reason this runner cannot execute `plan` exactly, as sentences (empty: it can)."""
    out = []
    if plan.get("format_version") != FORMAT_VERSION:
        out.append(f"format_version is {plan.get('format_version')!r}, this runner reads {FORMAT_VERSION}: "
                   "export the plan again with this repository's simulate")
    if not plan.get("uniform", False):
        out.append("the strategy's subtrees differ from the model as a whole "
                   f"({', '.join(plan.get('differences', []))}): the runner executes uniform layouts only")
    t, p, m = plan["training"], plan["parallel"], plan["model"]
    if t["precision"] != "bf16":
        out.append(f"precision {t['precision']}: only bf16 is implemented")
    if t["gradient_precision"] != "bf16":
        out.append(f"gradient_precision {t['gradient_precision']}: only bf16 gradients are implemented")
    if t["optimizer"] not in ("adam", "adamw"):
        out.append(f"optimizer {t['optimizer']}: only adam and adamw are implemented")
    if t["optimizer_state"] != "fp32" or not t["master_weights"]:
        out.append("only fp32 optimizer state with fp32 master weights is implemented")
    if t.get("master_copies", "separate") != "separate":
        out.append(f"master_copies = {t['master_copies']}: the runner's optimizer (MixedAdamW) casts "
                   "gradients and weights in kernels of their own (separate)")
    if t.get("zero_gradients", "memset") not in ("memset", "set_to_none"):
        out.append(f"zero_gradients = {t['zero_gradients']}: the runner zeroes gradients by memset "
                   "(foreach_zero_) or drops them (set_to_none)")
    average = p.get("gradient_average", "pass")
    if average == "per_tensor" and not runs_ddp(plan):
        out.append("gradient_average = per_tensor: the runner divides each gradient apart only through DDP's "
                   "reducer (data parallelism without FSDP, ZeRO-1 or a pipeline); FSDP2, its distributed "
                   "optimizer and its pipelines divide in a pass (pass)")
    elif average not in ("pass", "per_tensor"):
        out.append(f"gradient_average = {average}: the runner averages gradients in kernels of their own "
                   "(per_tensor: DDP's reducer; pass: FSDP2, the distributed optimizer, the pipeline's division)")
    if p["zero"] == 1 and (p.get("tensor_parallel") or p.get("pipeline") or p.get("expert_parallel")):
        out.append("zero = 1 (the distributed optimizer) is implemented with data parallelism alone "
                   "(not with tensor, pipeline or expert parallelism)")
    if p["zero"] == 1 and t.get("zero_gradients", "memset") == "set_to_none":
        out.append("zero = 1 keeps its gradients in one flat buffer, which it zeroes: use zero_gradients = memset")
    if p["zero"] not in (0, 1):
        out.append(f"zero = {p['zero']}: only 0 and 1 are implemented (use fsdp for ZeRO-3)")
    if p.get("fsdp") and (p.get("tensor_parallel") or p.get("pipeline") or p.get("expert_parallel")):
        out.append("fsdp is implemented alone (not with tensor, pipeline or expert parallelism)")
    if p.get("context_parallel"):
        out.append("context parallelism (ring attention) is not implemented")
    # A plan exported before the field existed said nothing, and Strata then kept the slice.
    if p.get("sequence_parallel") and p.get("sequence_parallel_inputs", "sliced") != "gathered":
        out.append(f"sequence_parallel_inputs = {p.get('sequence_parallel_inputs', 'sliced')}: the runner's "
                   "column-parallel products keep their gathered input (autograd), with no all-gather in the "
                   "backward: write training { sequence_parallel_inputs = gathered }")
    pipe = p.get("pipeline")
    if pipe:
        if pipe["schedule"] not in SCHEDULES:
            out.append(f"pipeline schedule {pipe['schedule']}: only {', '.join(SCHEDULES)} are implemented")
        if pipe["virtual_stages"] != 1:
            out.append("interleaved pipelines (virtual_stages > 1) are not implemented")
        if sum(pipe["layers_per_chunk"]) != m["layers"]:
            out.append("layers_per_chunk does not add up to the model's layers")
    moe = m.get("moe")
    if moe:
        if p.get("tensor_parallel") and axis_size(plan, p["tensor_parallel"]) > 1:
            out.append("MoE with tensor parallelism is not implemented")
        if moe.get("every", 1) != 1 or moe.get("first_dense", 0) != 0:
            out.append("MoE in only some layers (every, first_dense) is not implemented")
    return out


def axis_size(plan, name):
    """Size of mesh axis `name` (1 for None)."""
    if name is None:
        return 1
    for a in plan["mesh"]:
        if a["name"] == name:
            return a["size"]
    raise PlanError(f"axis {name!r} is not in the mesh {[a['name'] for a in plan['mesh']]}")


# --------------------------------------------------------------------------
# One rank's role
# --------------------------------------------------------------------------

class Role:
    """What one rank does: its groups (global ranks, in group order), its index in each,
    its pipeline stage and the layers it holds."""

    def __init__(self, plan, rank):
        entry = plan["ranks"][rank]
        assert entry["rank"] == rank, "ranks are listed in order"
        p, t = plan["parallel"], plan["training"]
        groups = entry["groups"]
        self.rank = rank
        self.world = plan["gpus"]
        self.dp_group = groups["data_parallel"]
        self.dp_index = self.dp_group.index(rank)
        self.dp_size = len(self.dp_group)
        tp_axis = p.get("tensor_parallel")
        self.tp_group = groups[tp_axis] if tp_axis else [rank]
        self.tp_index = self.tp_group.index(rank)
        self.tp_size = len(self.tp_group)
        self.sequence_parallel = bool(p.get("sequence_parallel")) and self.tp_size > 1
        pipe = p.get("pipeline")
        self.pp_group = groups[pipe["axis"]] if pipe else [rank]
        self.stage = entry["stage"] if pipe else 0
        self.stages = pipe["stages"] if pipe else 1
        chunks = pipe["layers_per_chunk"] if pipe else [plan["model"]["layers"]]
        self.first_layer = sum(chunks[: self.stage])
        self.layer_count = chunks[self.stage]
        self.schedule = pipe["schedule"] if pipe else None
        ep_axis = p.get("expert_parallel")
        self.ep_group = groups[ep_axis] if ep_axis else [rank]
        self.ep_index = self.ep_group.index(rank)
        self.ep_size = len(self.ep_group)
        if not set(self.ep_group) <= set(self.dp_group):
            raise PlanError(f"rank {rank}: the expert-parallel group {self.ep_group} is not inside the "
                            f"data-parallel group {self.dp_group}")
        # Replicas of this rank's experts: data-parallel ranks at the same place in their EP group.
        self.edp_group = expert_data_group(plan, rank) if ep_axis else list(self.dp_group)
        self.micro_batch = t["micro_batch"]
        self.micro_batches = t["micro_batches_per_replica"]
        self.is_first = self.stage == 0
        self.is_last = self.stage == self.stages - 1

    @property
    def prev_rank(self):
        return self.pp_group[self.stage - 1] if self.stage > 0 else None

    @property
    def next_rank(self):
        return self.pp_group[self.stage + 1] if self.stage < self.stages - 1 else None


def expert_data_group(plan, rank):
    """Data-parallel ranks holding the same experts as `rank` (same coordinate on the EP axis)."""
    ep_axis = plan["parallel"]["expert_parallel"]
    me = plan["ranks"][rank]
    return [r for r in me["groups"]["data_parallel"]
            if plan["ranks"][r]["coordinates"][ep_axis] == me["coordinates"][ep_axis]]


def process_groups(plan):
    """Every group of two or more ranks any rank needs, as sorted tuples in one fixed order:
    torch.distributed.new_group must be called by all ranks for all groups in the same order."""
    kinds = {}
    for rank in range(plan["gpus"]):
        role = Role(plan, rank)
        found = [("tp", role.tp_group), ("dp", role.dp_group), ("ep", role.ep_group), ("pp", role.pp_group)]
        if plan["parallel"].get("expert_parallel"):
            found.append(("edp", role.edp_group))
        if role.stages > 1 and plan["model"]["tied_embeddings"]:
            found.append(("tie", [role.pp_group[0], role.pp_group[-1]]))
        for kind, g in found:
            if len(g) > 1:
                kinds.setdefault(kind, set()).add(tuple(g))
    out = []
    for kind in ("tp", "dp", "ep", "edp", "pp", "tie"):
        for g in sorted(kinds.get(kind, ())):
            out.append((kind, g))
    return out


def smoke(plan, seq=256):
    """A small copy of `plan` for a quick end-to-end check: the same mesh, groups and
    schedule, one layer per stage (two without a pipeline) and a short sequence."""
    import copy
    p = copy.deepcopy(plan)
    pipe = p["parallel"].get("pipeline")
    if pipe:
        pipe["layers_per_chunk"] = [1] * pipe["stages"]
        p["model"]["layers"] = pipe["stages"]
    else:
        p["model"]["layers"] = 2
    p["model"]["seq"] = min(seq, p["model"]["seq"])
    p["strategy"] = p["strategy"] + " (smoke)"
    return p


# --------------------------------------------------------------------------
# Pipeline schedules
# --------------------------------------------------------------------------

def pipeline_steps(schedule, stages, stage, micro_batches):
    """The steps of one stage for one iteration, in issue order.

    A step is ("F", m) or ("B", m) (forward or backward of micro-batch m) or
    ("comm", [(op, m), ...]), a batch of point-to-point transfers issued together
    (torch.distributed.batch_isend_irecv) where op is send_act / recv_act (to the next /
    from the previous stage) or send_grad / recv_grad (to the previous / from the next).
    Combined batches follow Megatron-LM's schedules (forward_backward_no_pipelining's
    siblings in megatron/core/pipeline_parallel/schedules.py), so that no stage waits on a
    send its neighbour posts only after a receive of its own.

    - gpipe: all forwards, then all backwards in the same order (Huang et al. 2019).
    - 1f1b: min(stages - stage - 1, m) warm-up forwards, then one forward and one
      backward in turn, then the remaining backwards (Narayanan et al. 2021, PipeDream-flush).
    """
    first, last = stage == 0, stage == stages - 1
    M = micro_batches
    steps = []

    def comm(*ops):
        ops = [op for op in ops if op is not None]
        if ops:
            steps.append(("comm", ops))

    recv_act = (lambda m: None) if first else (lambda m: ("recv_act", m))
    send_act = (lambda m: None) if last else (lambda m: ("send_act", m))
    recv_grad = (lambda m: None) if last else (lambda m: ("recv_grad", m))
    send_grad = (lambda m: None) if first else (lambda m: ("send_grad", m))

    if schedule == "gpipe":
        for m in range(M):
            comm(recv_act(m))
            steps.append(("F", m))
            comm(send_act(m))
        for m in range(M):
            comm(recv_grad(m))
            steps.append(("B", m))
            comm(send_grad(m))
        return steps
    if schedule != "1f1b":
        raise PlanError(f"unknown pipeline schedule {schedule!r}")
    warmup = min(stages - stage - 1, M)
    remaining = M - warmup
    for m in range(warmup):
        comm(recv_act(m))
        steps.append(("F", m))
        comm(send_act(m))
    if remaining > 0:
        comm(recv_act(warmup))
    for i in range(remaining):
        fwd, bwd = warmup + i, i
        steps.append(("F", fwd))
        comm(send_act(fwd), recv_grad(bwd))
        steps.append(("B", bwd))
        if i == remaining - 1:
            comm(send_grad(bwd))
        else:
            comm(send_grad(bwd), recv_act(fwd + 1))
    for bwd in range(remaining, M):
        comm(recv_grad(bwd))
        steps.append(("B", bwd))
        comm(send_grad(bwd))
    return steps


def check_schedules(schedule, stages, micro_batches):
    """Run every stage's steps against each other with blocking batches and return the
    largest number of micro-batches any stage holds activations for; raise PlanError on a
    deadlock or a mismatched transfer.

    A batch leaves the head of its stage's queue once each of its transfers has met its
    counterpart (the same micro-batch, the opposite op) at the head of the neighbour's
    queue; compute steps always proceed.  This is how NCCL group calls behave: a grouped
    kernel finishes when all its sends and receives are matched.
    """
    queues = [list(pipeline_steps(schedule, stages, s, micro_batches)) for s in range(stages)]
    matched = [set() for _ in range(stages)]
    live = [0] * stages
    peak = [0] * stages
    counterpart = {"send_act": (1, "recv_act"), "recv_act": (-1, "send_act"),
                   "send_grad": (-1, "recv_grad"), "recv_grad": (1, "send_grad")}
    while any(queues):
        progress = False
        for s in range(stages):
            while queues[s] and queues[s][0][0] != "comm":
                kind, m = queues[s].pop(0)
                live[s] += 1 if kind == "F" else -1
                peak[s] = max(peak[s], live[s])
                progress = True
        for s in range(stages):
            if not queues[s]:
                continue
            _, ops = queues[s][0]
            for op in ops:
                if op in matched[s]:
                    continue
                delta, other = counterpart[op[0]]
                peer = s + delta
                if not 0 <= peer < stages:
                    raise PlanError(f"stage {s} transfers {op} past the end of the pipeline")
                head = queues[peer][0] if queues[peer] else None
                if head and head[0] == "comm" and (other, op[1]) in head[1]:
                    matched[s].add(op)
                    matched[peer].add((other, op[1]))
                    progress = True
        for s in range(stages):
            if queues[s] and queues[s][0][0] == "comm" and all(op in matched[s] for op in queues[s][0][1]):
                for op in queues[s].pop(0)[1]:
                    matched[s].discard(op)
                progress = True
        if not progress:
            heads = {s: q[0] for s, q in enumerate(queues) if q}
            raise PlanError(f"{schedule} with {stages} stages and {micro_batches} micro-batches deadlocks at {heads}")
    return max(peak)


# --------------------------------------------------------------------------
# MoE routing
# --------------------------------------------------------------------------

def expert_counts(shares, tokens, top_k, capacity_factor=None):
    """Token-expert assignments each expert gets from `tokens` tokens, as Strata prices them
    (ExpertRouting.assignmentsPerExpert): round(share * tokens * top_k), capped at
    floor(capacity_factor * tokens * top_k / experts).  A count above `tokens` (a token
    picks an expert once) is cut to `tokens`, and if rounding gave more than
    tokens * top_k in all, the largest counts give the excess back."""
    experts = len(shares)
    total = tokens * top_k
    cap = math.inf if capacity_factor is None else math.floor(capacity_factor * total / experts)
    counts = [int(min(_round_half_away(s * total), cap, tokens)) for s in shares]
    while sum(counts) > total:
        counts[counts.index(max(counts))] -= 1
    return counts


def _round_half_away(x):
    """Swift's rounded(): to nearest, ties away from zero (Python's round() ties to even)."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def slot_experts(counts, tokens):
    """The expert of each routed slot, deterministically: slot s is choice s // tokens of
    token s % tokens, and the slots are dealt to experts in order (expert 0 takes the
    first counts[0] slots, and so on).  Since no count exceeds `tokens`, a token's
    choices, `tokens` slots apart, always fall to different experts; and the slots come
    out sorted by expert, ready to be cut into per-expert (and per-GPU) slices."""
    if any(c > tokens for c in counts):
        raise PlanError(f"an expert count above the {tokens} tokens: {counts}")
    out = []
    for e, c in enumerate(counts):
        out.extend([e] * c)
    return out


def ep_splits(counts, group_size):
    """Rows one GPU sends to each member of its expert-parallel group (by group index),
    experts laid out in blocks of experts / group_size: Strata's assignmentsPerDestination.
    Every GPU routes its tokens alike, so it also receives this many from each member."""
    per = len(counts) // group_size
    return [sum(counts[g * per:(g + 1) * per]) for g in range(group_size)]


def ep_regroup(counts, group_size, index):
    """Order that turns what GPU `index` receives (source-major: from each member, its
    local experts' rows) into expert-major order, plus the rows per local expert.
    received[order[i]] is row i of the expert-major buffer."""
    per = len(counts) // group_size
    local = counts[index * per:(index + 1) * per]
    block = sum(local)
    order = []
    for e, c in enumerate(local):
        start = sum(local[:e])
        for src in range(group_size):
            base = src * block + start
            order.extend(range(base, base + c))
    return order, [c * group_size for c in local]


def inverse(order):
    """The inverse of a permutation given as a list."""
    out = [0] * len(order)
    for i, j in enumerate(order):
        out[j] = i
    return out


# --------------------------------------------------------------------------
# Parameters and statistics
# --------------------------------------------------------------------------

def parameter_count(model):
    """Parameters of the whole model, as Strata counts them (to check the built model)."""
    h, L, V, S = model["hidden"], model["layers"], model["vocab"], model["seq"]
    d = h // model["heads"]
    gpt = model["family"] == "gpt"
    qkv = h * (model["heads"] + 2 * model["kv_heads"]) * d + (h + 2 * model["kv_heads"] * d if gpt else 0)
    attn_out = h * h + (h if gpt else 0)
    norm = 2 * h if gpt else h

    def mlp(f, gpt_style):
        return 2 * h * f + f + h if gpt_style else 3 * h * f

    moe = model.get("moe")
    if moe:
        block = moe["experts"] * mlp(moe["expert_ffn"], gpt) + h * moe["experts"]
        block += moe.get("shared_experts", 0) * mlp(moe["expert_ffn"], gpt)
    else:
        block = mlp(model["ffn"], gpt)
    layer = qkv + attn_out + 2 * norm + block
    total = L * layer + V * h + norm
    if gpt:
        total += S * h
    if not model["tied_embeddings"]:
        total += V * h
    return total


def summarize(seconds):
    """median, p10 and p90 of per-iteration times (seconds), linear interpolation."""
    return {"median_s": common.percentile(seconds, 50), "p10_s": common.percentile(seconds, 10),
            "p90_s": common.percentile(seconds, 90), "iterations": len(seconds)}


def loss_is_sane(losses, vocab):
    """Finite, positive and below twice ln(vocab) (a fresh model sits near ln(vocab))."""
    return bool(losses) and all(math.isfinite(x) and 0 < x < 2 * math.log(vocab) for x in losses)
