#!/usr/bin/env python3
"""How fast each of this machine's CPUs runs the host's kind of work, one CPU at a time.

The host-paced validation plans move with the process that ran them: four processes
started together ran the runner's LLaMA layer up to x1.9 apart, and a host table's single
process can draw either end (docs/accuracy.md, "The host's spread between processes").
A host's Python work is a chain of dependent, branchy steps that runs at one CPU's speed,
so if the CPUs a process can land on differ in speed (a virtual machine's CPUs that share
a physical core with another's, or that lose time to the hypervisor), the draw is which CPU
the scheduler gives it. This pins itself to each CPU in turn and times a fixed loop of
interpreter work there, over several rounds (a slow CPU that stays slow is a property of
the machine; one that moves between rounds is noise), and reads each CPU's steal time
(time the hypervisor ran something else) from /proc/stat over the sweep. With --layer K it
then times host.py's LLaMA layer chain (the runner's own layer, as host_spread.py does)
pinned to the K fastest and the K slowest CPUs, to see whether the layer follows the loop.
With --paired N it times the layer N more times where the scheduler puts it, the loop just
before and just after each, to see whether the loop tells the host's speed of the moment.
With --siblings A,B,... it keeps each CPU A busy in turn (a spinning process pinned there)
and sweeps the loop over the other CPUs several times: a CPU slow in every sweep while A
spins shares a physical core with A (a virtual machine's CPUs can be two hardware threads
of one core, which its own topology does not show), so two busy threads there each run at
about half speed.

    python3 scripts/profile/cpu_speed.py --out cpus.json [--rounds 3] [--repeats 5] [--layer 2] [--paired 20]
    python3 scripts/profile/cpu_speed.py --show cpus.json ...   (a saved run's lines, with each round's two levels)

JSON: {"cpus": [...], "loop_us": [{cpu: us} per round], "steal_s": {cpu: s},
"layer": [{"cpu", "loop_us", "fwd_us", "bwd_us"}], "paired": [{"loop_before_us",
"fwd_us", "bwd_us", "loop_after_us"}], "siblings": {A: [CPUs slow in every sweep]}}.
--cpu times the layer on the CPU (tests).
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402  (the NCCL/NVSHMEM safety variables first)


class _Node:
    __slots__ = ("value", "next")

    def __init__(self, value, nxt):
        self.value, self.next = value, nxt


def interpreter_work(n=2000):
    """A fixed amount of the interpreter's kind of work: calls, attribute and dict lookups,
    small allocations, a linked walk. Returns a checksum so that nothing is optimised away."""
    table, head, total = {}, None, 0
    for i in range(n):
        head = _Node(i, head)
        table[i & 255] = table.get(i & 255, 0) + i
    node = head
    while node is not None:
        total += node.value & 7
        node = node.next
    return total + len(table)


def loop_us(repeats, work=interpreter_work):
    """Median microseconds of `work()` over `repeats` timings, after one untimed call."""
    work()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        work()
        samples.append((time.perf_counter() - t0) * 1e6)
    return common.percentile(samples, 50)


def steal_jiffies(text=None):
    """{cpu index: steal jiffies} from /proc/stat (the eighth value of each `cpuN` line);
    {} where the file is missing (not Linux)."""
    if text is None:
        try:
            with open("/proc/stat") as f:
                text = f.read()
        except OSError:
            return {}
    out = {}
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0].startswith("cpu") and fields[0] != "cpu" and len(fields) > 8:
            out[int(fields[0][3:])] = int(fields[8])
    return out


def sweep(cpus, repeats, pin=os.sched_setaffinity, time_loop=loop_us):
    """{cpu: loop microseconds} with this process pinned to each CPU in turn; the process's
    own affinity is restored afterwards."""
    allowed = os.sched_getaffinity(0)
    out = {}
    try:
        for cpu in cpus:
            pin(0, {cpu})
            out[cpu] = time_loop(repeats)
    finally:
        pin(0, allowed)
    return out


def rank_correlation(a, b):
    """Spearman's rank correlation of two {cpu: value} maps over their common CPUs (ties
    broken by CPU number); None with fewer than 3 CPUs."""
    keys = sorted(set(a) & set(b))
    if len(keys) < 3:
        return None

    def ranks(m):
        order = sorted(keys, key=lambda k: (m[k], k))
        return {k: i for i, k in enumerate(order)}
    ra, rb, n = ranks(a), ranks(b), len(keys)
    d2 = sum((ra[k] - rb[k]) ** 2 for k in keys)
    return 1 - 6 * d2 / (n * (n * n - 1))


def levels(values, least_ratio=1.2):
    """(fast CPUs, their median us, slow CPUs, their median us) of one round's loop times:
    two groups split where each value is nearer (by ratio) to its own group's median than
    to the other's (two-means on the logarithm, from a split at the geometric middle of
    the range); None where the two medians are less than `least_ratio` apart (one level)."""
    v = sorted(values)
    if len(v) < 2 or v[0] <= 0:
        return None
    cut_at = (v[0] * v[-1]) ** 0.5
    for _ in range(20):
        fast, slow = [x for x in v if x < cut_at], [x for x in v if x >= cut_at]
        if not fast or not slow:
            return None
        a, b = common.percentile(fast, 50), common.percentile(slow, 50)
        if (a * b) ** 0.5 == cut_at:
            break
        cut_at = (a * b) ** 0.5
    if b / a < least_ratio:
        return None
    return len(fast), a, len(slow), b


def level_lines(out):
    """One line a round: how many CPUs ran the loop at each level, and the levels' ratio."""
    lines = []
    for i, r in enumerate(out["loop_us"]):
        split = levels(list(r.values()))
        lines.append(f"[cpus] round {i + 1} levels: " + ("one" if split is None else
                     f"{split[0]} CPUs at {split[1]:.0f} us, {split[2]} at {split[3]:.0f} us (x{split[3] / split[1]:.2f})"))
    return lines


def saved_lines(out):
    """A saved run's lines (`summary_lines`, its rounds' levels, the paired timings and
    the siblings), from its JSON, whose CPU keys are strings."""
    shown = dict(out, loop_us=[{int(c): us for c, us in r.items()} for r in out["loop_us"]],
                 steal_s={int(c): v for c, v in out.get("steal_s", {}).items()})
    return summary_lines(shown) + level_lines(shown) + paired_lines(out.get("paired", [])) + sibling_lines(out)


def sibling_lines(out):
    """One line a busy CPU of `--siblings`: the CPUs slow in every sweep beside it."""
    return [f"[cpus] slow in every sweep while cpu {a} spins: {v if v else 'none'}" for a, v in out.get("siblings", {}).items()]


def show(paths):
    """Print each saved run's lines and its rounds' levels; exit status 2 with a located
    error for a file that is not cpu_speed.py's JSON."""
    return common.show_saved(paths, saved_lines, "a cpu_speed.py result", "give a file its --out wrote")


def summary_lines(out):
    """What a run prints: the loop's spread over CPUs per round, how the rounds agree, the
    CPUs 20% or more above the median in every round, steal, and the layer pinned."""
    lines = []
    for i, r in enumerate(out["loop_us"]):
        v = sorted(r.values())
        mid = common.percentile(v, 50)
        lines.append(f"[cpus] round {i + 1}: loop {v[0]:.1f} / {mid:.1f} / {v[-1]:.1f} us (fastest / median / slowest CPU), "
                     f"slowest x{v[-1] / mid:.2f} the median")
    rounds = out["loop_us"]
    for i in range(1, len(rounds)):
        rho = rank_correlation(rounds[0], rounds[i])
        lines.append(f"[cpus] rank correlation of round 1 and round {i + 1}: " + ("-" if rho is None else f"{rho:.2f}"))
    slow = sorted(set.intersection(*[{c for c, us in r.items() if us >= 1.2 * common.percentile(list(r.values()), 50)}
                                     for r in rounds])) if rounds else []
    lines.append(f"[cpus] slow (x1.2 the median or more) in every round: {slow if slow else 'none'}")
    steal = out.get("steal_s") or {}
    if steal:
        worst = sorted(steal.items(), key=lambda kv: -kv[1])[:4]
        lines.append(f"[cpus] steal over the sweep: {sum(steal.values()):.2f} s in all; most: "
                     + ", ".join(f"cpu {c} {s:.2f} s" for c, s in worst))
    for row in out.get("layer", []):
        lines.append(f"[cpus] cpu {row['cpu']} (loop {row['loop_us']:.1f} us): layer {row['fwd_us']:.1f} us forward, "
                     f"{row['bwd_us']:.1f} us backward")
    return lines


def layer_on(cpu, rounds, on_cpu):
    """(forward us, backward us): medians of host.py's LLaMA layer chain timed with this
    process pinned to `cpu` (its affinity restored afterwards)."""
    import host_spread
    allowed = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {cpu})
        samples = host_spread.layer_rounds(rounds, lambda: None, on_cpu)
    finally:
        os.sched_setaffinity(0, allowed)
    return common.percentile([f for f, _ in samples], 50), common.percentile([b for _, b in samples], 50)


def _spin(cpu, stop):
    """A busy thread of work pinned to `cpu` until `stop` is set (run in its own process)."""
    os.sched_setaffinity(0, {cpu})
    while not stop.is_set():
        interpreter_work()


def slowed_beside(rounds, fast_ratio=1.4):
    """The CPUs slow in every one of `rounds` ({cpu: loop us} each): at least `fast_ratio`
    times that round's fastest CPU. A CPU that shares a core with a busy one is slow in all
    of them; one slow by chance (the hypervisor's other work) seldom is."""
    slow = None
    for r in rounds:
        fastest = min(r.values())
        these = {c for c, us in r.items() if us >= fast_ratio * fastest}
        slow = these if slow is None else slow & these
    return sorted(slow or [])


def siblings(anchors, cpus, sweeps, repeats):
    """{anchor: CPUs slow in each of `sweeps` sweeps of the others while `anchor` spins}."""
    import multiprocessing
    out = {}
    ctx = multiprocessing.get_context("spawn")
    for anchor in anchors:
        stop = ctx.Event()
        spinner = ctx.Process(target=_spin, args=(anchor, stop), daemon=True)
        spinner.start()
        time.sleep(0.2)  # let it reach its CPU
        try:
            rounds = [sweep([c for c in cpus if c != anchor], repeats) for _ in range(sweeps)]
        finally:
            stop.set()
            spinner.join(timeout=10)
        out[anchor] = slowed_beside(rounds)
    return out


def paired_rounds(rounds, on_cpu, time_loop=loop_us):
    """[{loop_before_us, fwd_us, bwd_us, loop_after_us}]: host.py's LLaMA layer chain timed
    `rounds` times (one slope each) as host_spread.py times it, the loop timed (3 repeats)
    just before and just after each, on whatever CPU the scheduler gives this process."""
    import host_spread
    time_layer = host_spread.layer_timer(on_cpu)
    out = []
    for _ in range(rounds):
        before = time_loop(3)
        fwd, bwd = time_layer()
        out.append({"loop_before_us": before, "fwd_us": fwd, "bwd_us": bwd, "loop_after_us": time_loop(3)})
    return out


def pearson(xs, ys):
    """Pearson's correlation of two equal-length lists; None with fewer than 3 or no spread."""
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx, syy = sum((x - mx) ** 2 for x in xs), sum((y - my) ** 2 for y in ys)
    return sxy / (sxx * syy) ** 0.5 if sxx > 0 and syy > 0 else None


def paired_lines(pairs):
    """How the layer's samples follow the loop timed around them: the correlation of each
    pass with the loop (the mean of before and after), and the layer's median where the
    loop ran at most 1.2x its fastest sample against where it ran slower."""
    if not pairs:
        return []
    loop = [(p["loop_before_us"] + p["loop_after_us"]) / 2 for p in pairs]
    fast = min(loop)
    lines = []
    for key, name in (("fwd_us", "forward"), ("bwd_us", "backward")):
        values = [p[key] for p in pairs]
        rho = pearson(loop, values)
        quick = [v for v, l in zip(values, loop) if l <= 1.2 * fast]
        slow = [v for v, l in zip(values, loop) if l > 1.2 * fast]
        lines.append(f"[cpus] paired {name}: correlation with the loop " + ("-" if rho is None else f"{rho:.2f}")
                     + f"; layer median {common.percentile(quick, 50):.1f} us over {len(quick)} samples with the loop fast"
                     + (f", {common.percentile(slow, 50):.1f} us over {len(slow)} with it slow" if slow else ""))
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", nargs="+", metavar="JSON", help="print saved runs' lines and their levels, and stop")
    ap.add_argument("--out")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--layer", type=int, default=0, metavar="K",
                    help="then time host.py's LLaMA layer pinned to the K fastest and K slowest CPUs")
    ap.add_argument("--layer-rounds", type=int, default=3)
    ap.add_argument("--paired", type=int, default=0, metavar="N",
                    help="then time the layer N times unpinned, the loop just before and after each")
    ap.add_argument("--siblings", default="", metavar="A,B,...",
                    help="then keep each CPU A busy in turn and list the CPUs slow in every sweep beside it")
    ap.add_argument("--sibling-sweeps", type=int, default=4)
    ap.add_argument("--cpu", action="store_true", help="time the layer on the CPU (tests)")
    args = ap.parse_args(argv)
    if args.show:
        return show(args.show)
    if not args.out:
        ap.error("give --out FILE to measure, or --show FILE... to print saved runs")
    if args.rounds < 1 or args.repeats < 1 or args.layer < 0 or args.paired < 0:
        print("cpu_speed.py: error: give a round, a repeat or more, and a layer count of 0 or more", file=sys.stderr)
        return 2
    cpus = sorted(os.sched_getaffinity(0))
    before = steal_jiffies()
    t0 = time.monotonic()
    rounds = [sweep(cpus, args.repeats) for _ in range(args.rounds)]
    after = steal_jiffies()
    tick = os.sysconf("SC_CLK_TCK")
    out = {"cpus": cpus, "rounds": args.rounds, "repeats": args.repeats, "sweep_s": time.monotonic() - t0,
           "loop_us": [{str(c): us for c, us in r.items()} for r in rounds],
           "steal_s": {str(c): (after[c] - before.get(c, 0)) / tick for c in after if c in cpus}}
    if args.layer:
        if not args.cpu:
            import torch
            torch.cuda.set_device(0)
        first = rounds[0]
        order = sorted(first, key=lambda c: (first[c], c))
        chosen = order[:args.layer] + [c for c in order[-args.layer:] if c not in order[:args.layer]]
        out["layer"] = []
        for cpu in chosen:
            fwd, bwd = layer_on(cpu, args.layer_rounds, args.cpu)
            out["layer"].append({"cpu": cpu, "loop_us": first[cpu], "fwd_us": fwd, "bwd_us": bwd})
    if args.paired:
        if not args.cpu:
            import torch
            torch.cuda.set_device(0)
        out["paired"] = paired_rounds(args.paired, args.cpu)
    if args.siblings:
        anchors = [int(a) for a in args.siblings.split(",") if a]
        if not set(anchors) <= set(cpus):
            print(f"cpu_speed.py: error: --siblings names CPUs this process may not use; it may use {cpus[0]}-{cpus[-1]}",
                  file=sys.stderr)
            return 2
        out["siblings"] = {str(a): v for a, v in siblings(anchors, cpus, args.sibling_sweeps, args.repeats).items()}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    common.save_and_print(args.out, out, saved_lines(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
