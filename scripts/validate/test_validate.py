"""Unit tests of the validation runner's pure-Python parts (no torch, no GPU needed).

    python3 -m unittest discover -s scripts/validate -p 'test_*.py'

They pin down the plan reading, each rank's groups, the pipeline schedules (order,
matching transfers, no deadlock, micro-batches in flight), the deterministic MoE routing
and its expert-parallel exchange, the parameter count and the results table.  When torch
is importable, one more test runs small copies of three plans on CPU with gloo and checks
that their first losses agree.
"""

import glob
import gzip
import importlib.util
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bucket_timing  # noqa: E402
import host_layer_slope  # noqa: E402
import host_layer_table  # noqa: E402
import host_ops  # noqa: E402
import kernel_gaps  # noqa: E402
import plan as planlib  # noqa: E402
import run_all  # noqa: E402
import trace_tasks  # noqa: E402

PLANS = os.path.join(HERE, "..", "..", "traces", "validation", "h100-sxm", "plans")


def load_runner():
    """scripts/validate/run.py, loaded by path: scripts/profile has a run.py too, and both
    folders are on sys.path when the two suites run in one process."""
    return planlib.common.validation_runner()


def load_plan(name):
    with open(os.path.join(PLANS, name + ".json")) as f:
        return json.load(f)


class TestPlans(unittest.TestCase):
    def test_every_exported_plan_is_supported_and_counts_its_parameters(self):
        paths = sorted(glob.glob(os.path.join(PLANS, "*.json")))
        strategies = glob.glob(os.path.join(PLANS, "..", "..", "..", "..", "strategies", "validation", "*.strata"))
        # One plan for every validation strategy, and none without one.
        self.assertEqual({os.path.basename(p)[:-len(".json")] for p in paths},
                         {os.path.basename(s)[:-len(".strata")] for s in strategies})
        self.assertGreaterEqual(len(paths), 15)
        for path in paths:
            plan = planlib.load(path)
            self.assertEqual(planlib.parameter_count(plan["model"]), plan["model"]["parameters"], path)
            for rank in range(plan["gpus"]):
                role = planlib.Role(plan, rank)
                self.assertEqual(role.dp_size * role.micro_batches * role.micro_batch,
                                 plan["training"]["global_batch"], path)

    def test_unsupported_features_are_named(self):
        plan = load_plan("gpt-350m-1f1b4")
        plan["parallel"]["pipeline"]["schedule"] = "zb_h1"
        plan["parallel"]["zero"] = 2
        plan["uniform"] = False
        plan["differences"] = ["layers[0]"]
        problems = planlib.unsupported(plan)
        self.assertIn("pipeline schedule zb_h1: only gpipe, 1f1b are implemented", problems)
        self.assertIn("zero = 2: only 0 and 1 are implemented (use fsdp for ZeRO-3)", problems)
        self.assertTrue(any("layers[0]" in p for p in problems))
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(plan, f)
        try:
            with self.assertRaises(planlib.PlanError):
                planlib.load(f.name)
        finally:
            os.remove(f.name)

    def test_averaging_each_gradient_apart_is_ddp_s(self):
        """gradient_average = per_tensor is what DDP's reducer does; the runner's FSDP2,
        distributed optimizer and pipelines divide in a pass, so they refuse it."""
        ddp = load_plan("gpt-350m-ddp2")
        self.assertEqual(ddp["parallel"]["gradient_average"], "per_tensor")
        self.assertEqual(planlib.unsupported(ddp), [])
        fsdp = load_plan("llama-1b-fsdp4")
        fsdp["parallel"]["gradient_average"] = "per_tensor"
        self.assertTrue(any(p.startswith("gradient_average = per_tensor: the runner divides each gradient apart "
                                         "only through DDP's reducer") for p in planlib.unsupported(fsdp)))
        fsdp["parallel"]["gradient_average"] = "in_collective"
        self.assertTrue(any(p.startswith("gradient_average = in_collective") for p in planlib.unsupported(fsdp)))

    def test_sequence_parallel_plans_keep_their_gathered_inputs(self):
        """The runner's column-parallel products keep the all-gathered input (autograd) and
        gather nothing in the backward: a plan that says so runs; one that keeps the slice
        (Megatron-LM's, and what a plan exported before the field existed meant) is refused."""
        sp = load_plan("llama-1b-tp4-sp")
        self.assertEqual(sp["parallel"]["sequence_parallel_inputs"], "gathered")
        self.assertEqual(planlib.unsupported(sp), [])
        sp["parallel"]["sequence_parallel_inputs"] = "sliced"
        self.assertTrue(any(p.startswith("sequence_parallel_inputs = sliced") for p in planlib.unsupported(sp)))
        del sp["parallel"]["sequence_parallel_inputs"]
        self.assertTrue(any(p.startswith("sequence_parallel_inputs = sliced") for p in planlib.unsupported(sp)))

    def test_unreadable_plans_are_located_errors(self):
        """A missing file, broken JSON or a JSON that is not an object: `file[:line:col]:
        error:` with the reason and what to give instead."""
        with tempfile.TemporaryDirectory() as d:
            missing = os.path.join(d, "missing.json")
            with self.assertRaises(planlib.PlanError) as caught:
                planlib.load(missing)
            self.assertTrue(str(caught.exception).startswith(f"{missing}: error: cannot read the plan"))
            broken = os.path.join(d, "broken.json")
            with open(broken, "w") as f:
                f.write('{"gpus": 2,\n  "mesh": [}\n')
            with self.assertRaises(planlib.PlanError) as caught:
                planlib.load(broken)
            self.assertTrue(str(caught.exception).startswith(f"{broken}:2:12: error: the plan is not JSON"),
                            str(caught.exception))
            self.assertIn("simulate export", str(caught.exception))
            array = os.path.join(d, "array.json")
            with open(array, "w") as f:
                f.write("[]")
            with self.assertRaises(planlib.PlanError) as caught:
                planlib.load(array)
            self.assertIn(f"{array}:1:1: error: the plan is a JSON list", str(caught.exception))

    def test_roles_of_tp_dp(self):
        plan = load_plan("llama-1b-tp2-dp2")
        r3 = planlib.Role(plan, 3)
        self.assertEqual((r3.tp_group, r3.tp_index, r3.dp_group, r3.dp_index), ([2, 3], 1, [1, 3], 1))
        self.assertEqual(planlib.process_groups(plan),
                         [("tp", (0, 1)), ("tp", (2, 3)), ("dp", (0, 2)), ("dp", (1, 3))])

    def test_roles_of_pipeline_and_experts(self):
        plan = load_plan("gpt-350m-1f1b4")
        roles = [planlib.Role(plan, r) for r in range(4)]
        self.assertEqual([(r.first_layer, r.layer_count) for r in roles], [(0, 6), (6, 6), (12, 6), (18, 6)])
        self.assertEqual([r.prev_rank for r in roles], [None, 0, 1, 2])
        self.assertEqual(planlib.process_groups(plan), [("pp", (0, 1, 2, 3)), ("tie", (0, 3))])
        ep = load_plan("moe-ep4")
        role = planlib.Role(ep, 2)
        self.assertEqual((role.ep_group, role.ep_index, role.edp_group), ([0, 1, 2, 3], 2, [2]))

    def test_smoke_keeps_the_layout(self):
        plan = load_plan("gpt-350m-1f1b4")
        small = planlib.smoke(plan)
        self.assertEqual(small["parallel"]["pipeline"]["layers_per_chunk"], [1, 1, 1, 1])
        self.assertEqual((small["model"]["layers"], small["model"]["seq"]), (4, 256))
        self.assertEqual(small["ranks"], plan["ranks"])
        self.assertEqual(plan["model"]["layers"], 24)  # the original is untouched


class TestSchedules(unittest.TestCase):
    def compute(self, steps):
        return [s for s in steps if s[0] != "comm"]

    def test_gpipe_runs_all_forwards_then_all_backwards(self):
        steps = planlib.pipeline_steps("gpipe", 2, 1, 3)
        self.assertEqual(self.compute(steps), [("F", 0), ("F", 1), ("F", 2), ("B", 0), ("B", 1), ("B", 2)])
        self.assertEqual(steps[0], ("comm", [("recv_act", 0)]))

    def test_1f1b_order_of_each_stage(self):
        got = [self.compute(planlib.pipeline_steps("1f1b", 4, s, 6)) for s in range(4)]
        self.assertEqual(got[0][:4], [("F", 0), ("F", 1), ("F", 2), ("F", 3)])
        self.assertEqual(got[0][4:8], [("B", 0), ("F", 4), ("B", 1), ("F", 5)])
        self.assertEqual(got[3][:4], [("F", 0), ("B", 0), ("F", 1), ("B", 1)])
        for s in range(4):
            self.assertEqual(sorted(got[s]), sorted([("F", m) for m in range(6)] + [("B", m) for m in range(6)]))

    def test_1f1b_combines_transfers_like_megatron(self):
        steps = planlib.pipeline_steps("1f1b", 2, 0, 3)
        self.assertIn(("comm", [("send_act", 1), ("recv_grad", 0)]), steps)
        mid = planlib.pipeline_steps("1f1b", 3, 1, 4)
        self.assertIn(("comm", [("send_grad", 0), ("recv_act", 2)]), mid)

    def test_schedules_never_deadlock_and_hold_what_they_should(self):
        for schedule in planlib.SCHEDULES:
            for stages in range(2, 7):
                for micro in range(1, 13):
                    peak = planlib.check_schedules(schedule, stages, micro)
                    if schedule == "gpipe":
                        self.assertEqual(peak, micro)
                    else:
                        self.assertEqual(peak, min(stages, micro), (stages, micro))

    def test_checker_finds_a_deadlock(self):
        real = planlib.pipeline_steps

        def naive(schedule, stages, stage, micro):
            # Send and receive as separate blocking batches: 1f1b deadlocks on big messages.
            out = []
            for step in real(schedule, stages, stage, micro):
                if step[0] == "comm":
                    out.extend(("comm", [op]) for op in step[1])
                else:
                    out.append(step)
            return out

        planlib.pipeline_steps = naive
        try:
            with self.assertRaises(planlib.PlanError):
                planlib.check_schedules("1f1b", 2, 4)
        finally:
            planlib.pipeline_steps = real


class TestRouting(unittest.TestCase):
    def test_uniform_counts_and_distinct_choices(self):
        counts = planlib.expert_counts([0.125] * 8, 4096, 2)
        self.assertEqual(counts, [1024] * 8)
        slots = planlib.slot_experts(counts, 4096)
        self.assertEqual(len(slots), 8192)
        self.assertEqual(slots, sorted(slots))
        for t in range(4096):
            self.assertNotEqual(slots[t], slots[4096 + t])

    def test_skewed_shares_with_capacity(self):
        shares = [0.4, 0.3, 0.2, 0.1]
        counts = planlib.expert_counts(shares, 100, 2)
        self.assertEqual(counts, [80, 60, 40, 20])
        capped = planlib.expert_counts(shares, 100, 2, capacity_factor=1.25)
        self.assertEqual(capped, [62, 60, 40, 20])
        slots = planlib.slot_experts(capped, 100)
        choices = {}
        for s, e in enumerate(slots):
            choices.setdefault(s % 100, []).append(e)
        for t, es in choices.items():
            self.assertEqual(len(es), len(set(es)), t)

    def test_rounding_never_exceeds_the_assignments(self):
        rng = random.Random(7)
        for seed in range(300):
            experts = rng.randint(2, 64)
            raw = [rng.random() ** 3 for _ in range(experts)]
            shares = [x / sum(raw) for x in raw]
            tokens, k = rng.randint(16, 4096), rng.randint(1, min(8, experts))
            counts = planlib.expert_counts(shares, tokens, k)
            self.assertLessEqual(sum(counts), tokens * k, f"seed {seed}")
            self.assertTrue(all(0 <= c <= tokens for c in counts), f"seed {seed}")

    def test_expert_parallel_exchange_delivers_each_row_to_its_expert(self):
        counts = [3, 1, 4, 1, 5, 0, 2, 6]
        G = 4
        per = len(counts) // G
        slots = planlib.slot_experts(counts, 6)
        send = planlib.ep_splits(counts, G)
        self.assertEqual(send, [4, 5, 5, 8])
        # Every source sends the same layout; tag rows (source, slot).
        for dest in range(G):
            received = []
            for src in range(G):
                lo = sum(send[:dest])
                received.extend((src, s) for s in range(lo, lo + send[dest]))
            order, rows = planlib.ep_regroup(counts, G, dest)
            grouped = [received[i] for i in order]
            self.assertEqual(rows, [c * G for c in counts[dest * per:(dest + 1) * per]])
            start = 0
            for j, n in enumerate(rows):
                for src, s in grouped[start:start + n]:
                    self.assertEqual(slots[s], dest * per + j)
                start += n
            back = planlib.inverse(order)
            self.assertEqual([grouped[i] for i in back], received)


class TestTraceTasks(unittest.TestCase):
    """trace_tasks.py on a small trace in simulate's format: GPU 0's compute tasks only,
    layers folded into one line per op and pass, `--match` keeping one word's tasks."""

    TRACE = {"traceEvents": [
        {"name": "thread_name", "ph": "M", "pid": 0, "tid": 0, "args": {"name": "compute"}},
        {"name": "thread_name", "ph": "M", "pid": 0, "tid": 7, "args": {"name": "critical path"}},
        {"name": "layers[0].mlp.gate recompute mb0", "ph": "X", "pid": 0, "tid": 0, "ts": 0, "dur": 100},
        {"name": "layers[1].mlp.gate recompute mb0", "ph": "X", "pid": 0, "tid": 0, "ts": 100, "dur": 100},
        {"name": "layers[1].mlp.gate recompute mb0", "ph": "X", "pid": 0, "tid": 7, "ts": 100, "dur": 100},
        {"name": "layers[0].mlp.gate forward mb0", "ph": "X", "pid": 0, "tid": 0, "ts": 200, "dur": 80},
        {"name": "optimizer step", "ph": "X", "pid": 0, "tid": 0, "ts": 300, "dur": 50},
        {"name": "optimizer step", "ph": "X", "pid": 1, "tid": 0, "ts": 300, "dur": 50},
    ]}

    def test_tasks_fold_by_op_and_pass(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.json")
            with open(path, "w") as f:
                json.dump(self.TRACE, f)
            tasks = trace_tasks.compute_tasks(path)
        self.assertEqual(len(tasks), 4, "GPU 0's compute thread only")
        self.assertEqual(trace_tasks.by_op(tasks), {("mlp.gate", "recompute"): (2, 200), ("mlp.gate", "forward"): (1, 80),
                                                    ("optimizer", "step"): (1, 50)})
        self.assertEqual(trace_tasks.by_op(tasks, "recompute"), {("mlp.gate", "recompute"): (2, 200)})

    def test_a_streams_span(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.json")
            with open(path, "w") as f:
                json.dump(self.TRACE, f)
            self.assertEqual(trace_tasks.span(trace_tasks.thread_tasks(path, 0, "compute")), (4, 0, 300, 350))
            self.assertEqual(trace_tasks.span(trace_tasks.thread_tasks(path, 0, "grad-sync")), (0, 0.0, 0.0, 0.0))

    def test_memory_after_a_task_is_taken_after_its_frees(self):
        """At the instant one task ends and the next begins, the trace holds the first's
        frees, then the second's allocation: the memory after the first is the lesser."""
        tasks = [("loss forward mb0", 10, 5), ("loss backward mb0", 15, 5), ("loss forward mb1", 580694.511, 3496.649)]
        # The trace rounds each time to a nanosecond: that task's end, 584191.160, was
        # written as 584191.159.
        samples = [(10, 14.0), (15, 12.5), (15, 16.0), (20, 11.0), (580694.511, 29.0), (584191.159, 26.0),
                   (584191.159, 30.0)]
        self.assertEqual(trace_tasks.memory_after(tasks, samples, "loss forward"),
                         [("loss forward mb0", 12.5), ("loss forward mb1", 26.0)])

    def test_the_peak_is_the_highest_sample_of_the_gpu(self):
        import contextlib
        import io
        trace = {"traceEvents": [
            {"name": "memory", "ph": "C", "pid": 0, "ts": 10, "args": {"GiB": 4.5}},
            {"name": "memory", "ph": "C", "pid": 0, "ts": 8416, "args": {"GiB": 4.995}},
            {"name": "memory", "ph": "C", "pid": 0, "ts": 9000, "args": {"GiB": 4.995}},
            {"name": "memory", "ph": "C", "pid": 1, "ts": 20, "args": {"GiB": 7.0}},
        ]}
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.json")
            with open(path, "w") as f:
                json.dump(trace, f)
            with contextlib.redirect_stdout(io.StringIO()) as out:
                self.assertEqual(trace_tasks.main([path, "--peak"]), 0)
            with contextlib.redirect_stderr(io.StringIO()) as err:
                self.assertEqual(trace_tasks.main([path, "--peak", "--gpu", "3"]), 2)
        self.assertEqual(out.getvalue(), "GPU 0: peak 4.995 GiB at 8.416 ms\n", "the first time it was reached")
        self.assertIn("no memory samples for GPU 3", err.getvalue())

    def test_an_unreadable_trace_is_a_located_error(self):
        with tempfile.TemporaryDirectory() as d:
            missing = os.path.join(d, "missing.json")
            with self.assertRaises(trace_tasks.TraceError) as caught:
                trace_tasks.compute_tasks(missing)
        self.assertTrue(str(caught.exception).startswith(f"{missing}: error: cannot read the trace"))


class TestBucketTiming(unittest.TestCase):
    """bucket_timing.py on two ranks' timings, worked by hand: rank 1 starts 0.5 ms after
    rank 0 on the shared clock, so its buckets, ready at the same ms from its own start,
    are 0.5 ms later, and rank 0's all-reduces wait for it."""

    # Per rank, per iteration: the start (s) and each bucket's [ready, done] in ms from it.
    RESULT = {"bucket_timing": [
        [{"began_clock_s": 100.0, "buckets_ms": [[10.0, 11.5], [20.0, 21.0]]},
         {"began_clock_s": 200.0, "buckets_ms": [[10.0, 11.5], [20.0, 21.0]]}],
        [{"began_clock_s": 100.0005, "buckets_ms": [[10.0, 11.0], [20.0, 20.5]]},
         {"began_clock_s": 200.0005, "buckets_ms": [[10.0, 11.0], [20.0, 20.5]]}],
    ]}

    def test_buckets_line_up_on_the_shared_clock(self):
        summary = bucket_timing.summarize(self.RESULT["bucket_timing"])
        self.assertAlmostEqual(summary["start_skew_ms"], 0.5, places=6)
        first = summary["per_bucket_ms"][0]
        # Rank 0 ready at 10.0, rank 1 at 10.5; both done at 11.5.
        self.assertAlmostEqual(first["ready_spread"], 0.5, places=6)
        self.assertAlmostEqual(first["held_max"], 1.5, places=6)
        self.assertAlmostEqual(first["held_min"], 1.0, places=6)
        self.assertAlmostEqual(first["after_last_ready"], 1.0, places=6)
        # The last replica (rank 1) ready with the first bucket at 10.5 ms, with the last
        # at 20.5; the last bucket done at 21.0 (both ranks).
        span = summary["span_ms"]
        self.assertAlmostEqual(span["first_ready"], 10.5, places=6)
        self.assertAlmostEqual(span["last_ready"], 20.5, places=6)
        self.assertAlmostEqual(span["last_done"], 21.0, places=6)
        t = summary["totals_ms"]
        self.assertAlmostEqual(t["held_max"], 1.5 + 1.0, places=6)
        self.assertAlmostEqual(t["after_last_ready"], 1.0 + 0.5, places=6)

    def test_results_without_timings_are_located_errors(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "r.json")
            with open(path, "w") as f:
                json.dump({"strategy": "x"}, f)
            with self.assertRaises(bucket_timing.TimingError) as caught:
                bucket_timing.load(path)
            self.assertTrue(str(caught.exception).startswith(f"{path}: error: no bucket_timing"))
            uneven = {"bucket_timing": [self.RESULT["bucket_timing"][0], self.RESULT["bucket_timing"][1][:1]]}
            with open(path, "w") as f:
                json.dump(uneven, f)
            with self.assertRaises(bucket_timing.TimingError) as caught:
                bucket_timing.load(path)
            self.assertIn("different numbers of iterations", str(caught.exception))
            done = subprocess.run([sys.executable, os.path.join(HERE, "bucket_timing.py"), path],
                                  capture_output=True, text=True)
            self.assertEqual(done.returncode, 2)
            self.assertNotIn("Traceback", done.stderr)


class TestOnThisMachine(unittest.TestCase):
    """on_this_machine.sh stops on bad arguments and missing inputs before running anything:
    a located message with the fix, exit status 2."""

    def run_script(self, *args, simulate=None):
        env = dict(os.environ)
        if simulate is not None:
            env["SIMULATE"] = simulate
        return subprocess.run(["bash", os.path.join(HERE, "on_this_machine.sh"), *args],
                              capture_output=True, text=True, env=env)

    def test_bad_arguments_and_a_missing_binary_are_refused(self):
        with tempfile.TemporaryDirectory() as d:
            for args, simulate, says in (((), None, "name an output folder"),
                                         ((d, "--bogus"), None, "unknown option --bogus"),
                                         ((d, d + "2"), None, "one output folder"),
                                         ((d, "--launches", "0"), None, "give a whole number of launches"),
                                         ((d,), os.path.join(d, "missing"), "no simulate binary")):
                done = self.run_script(*args, simulate=simulate)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertTrue(done.stderr.startswith("on_this_machine.sh: error: "), done.stderr)
                self.assertIn(says, done.stderr)
            self.assertEqual(os.listdir(d), [], "nothing written")


class TestHostLayer(unittest.TestCase):
    """A layer's host cost from the runner's step (worked by hand)."""

    PLAN = {"strategy": "x", "model": {"layers": 16, "hidden": 2048}, "parallel": {},
            "training": {"micro_batches_per_replica": 8}}

    def test_per_layer_takes_the_slowest_rank_over_layers_and_micro_batches(self):
        result = {"host_forward_s": [0.1024, 0.128], "host_backward_s": [0.256, 0.2]}
        fwd, bwd = host_layer_table.per_layer(result, self.PLAN)
        self.assertAlmostEqual(fwd, 1000.0)  # 128 ms over 16 layers x 8 micro-batches
        self.assertAlmostEqual(bwd, 2000.0)

    def test_slope_is_per_added_layer_and_micro_batch(self):
        # 2 layers: 10 ms; 8 layers: 58 ms; 8 micro-batches: 48 ms / (6 x 8) = 1 ms.
        self.assertAlmostEqual(host_layer_slope.slope(0.010, 0.058, (2, 8), 8), 1000.0)

    def test_copies_change_the_layer_count_and_refuse_a_pipeline(self):
        p = host_layer_slope.with_layers(self.PLAN, 2, {"hidden": 256})
        self.assertEqual((p["model"]["layers"], p["model"]["hidden"]), (2, 256))
        self.assertEqual(self.PLAN["model"], {"layers": 16, "hidden": 2048}, "the plan itself is left alone")
        with self.assertRaisesRegex(ValueError, "pipeline"):
            host_layer_slope.with_layers(dict(self.PLAN, parallel={"pipeline": {"stages": 2}}), 2, {})
        with self.assertRaisesRegex(ValueError, "FIELD=INTEGER"):
            host_layer_slope.parse_set(["hidden"])


class TestKernelGaps(unittest.TestCase):
    def test_gaps_split_by_whether_the_next_kernel_was_queued(self):
        # [start, duration, stream, name, launch end]: the second kernel was launched before
        # the first ended (a 1.5 us front-end gap), the third after (the GPU waited), the
        # fourth has no launch matched, and the fifth overlaps the fourth (no gap).
        events = [[0.0, 10.0, 7, 0, 1.0], [11.5, 5.0, 7, 0, 4.0], [30.0, 2.0, 7, 0, 29.0],
                  [34.0, 6.0, 7, 1, None], [39.0, 1.0, 7, 0, 30.0]]
        queued, waiting, unknown = kernel_gaps.gaps(events)
        self.assertEqual(queued, [1.5])
        self.assertEqual(waiting, [13.5])
        self.assertEqual(unknown, [2.0])

    def test_the_launch_row_is_the_median_of_mean_queued_gaps(self):
        # Queued gaps of 1.5 and 2.5 us (mean 2.0); the wait for the host is left out.
        events = [[0.0, 10.0, 7, 0, 1.0], [11.5, 5.0, 7, 0, 4.0], [19.0, 1.0, 7, 0, 5.0],
                  [30.0, 2.0, 7, 0, 29.0]]
        self.assertAlmostEqual(kernel_gaps.mean_queued_gap(events), 2.0)
        self.assertEqual(kernel_gaps.launch_row([2.0, 1.5, 1.6]), "gpu_kernel_gap_training,1.6000,1.5000,2.0000,1,3")

    def test_micro_batches_are_cut_at_the_embedding_and_the_step(self):
        """Worked by hand: two micro-batches, each starting with the embedding's gather, the
        second with an NCCL kernel beside it and an extra kernel, then the step; a 20 us
        wait is not a front-end gap."""
        names = ["vectorized_gather_kernel", "elementwise", "ncclDevKernel_AllReduce", "multi_tensor_apply_kernel"]
        events = [[0.0, 5.0, 7, 0, 0.0], [7.0, 10.0, 7, 1, 0.0],                       # micro-batch 1: gap 2
                  [37.0, 5.0, 7, 0, 0.0], [43.0, 10.0, 7, 1, 0.0], [56.0, 2.0, 7, 1, 0.0],  # 2: gaps 1 and 3
                  [44.0, 8.0, 21, 2, None],
                  [60.0, 4.0, 7, 3, 0.0], [65.0, 4.0, 7, 3, 0.0]]                      # step: gap 1
        parts = kernel_gaps.micro_batches(names, sorted(events))
        self.assertEqual(parts, [("micro-batch 1", 2, 15.0, 2.0, 0), ("micro-batch 2", 3, 17.0, 4.0, 8.0),
                                 ("step", 2, 8.0, 1.0, 0)])

    def test_waits_add_up_by_window(self):
        # Waits of 13.5 us beginning at 16.5 us and of 4 us at 40 us (the launch came at
        # 44): windows of 0.02 ms put them in the first and the third.
        events = [[0.0, 10.0, 7, 0, 1.0], [11.5, 5.0, 7, 0, 4.0], [30.0, 10.0, 7, 0, 29.0],
                  [44.0, 1.0, 7, 0, 44.0]]
        windows = kernel_gaps.waits_by_window(events, 0.02)
        self.assertEqual(sorted(windows), [0, 2])
        self.assertAlmostEqual(windows[0], 0.0135)
        self.assertAlmostEqual(windows[2], 0.004)

    def test_longest_waits_say_when_and_before_which_kernel(self):
        events = [[0.0, 10.0, 7, 0, 1.0], [11.5, 5.0, 7, 0, 4.0], [30.0, 2.0, 7, 1, 29.0],
                  [34.0, 6.0, 7, 1, None], [45.0, 1.0, 7, 0, 44.0]]
        waits = kernel_gaps.longest_waits(["gemm", "adam"], events, 5)
        self.assertEqual(waits, [(0.0135, 0.0165, "adam"), (0.005, 0.04, "gemm")])
        self.assertEqual(kernel_gaps.longest_waits(["gemm", "adam"], events, 1), [(0.0135, 0.0165, "adam")])

    def test_spacing_is_between_launches_of_the_named_kernels(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "x.timeline.json.gz")
            events = [[0.0, 1.0, 7, 0, 0.5], [5.0, 1.0, 7, 1, 1.0], [9.0, 1.0, 7, 0, 2500.5], [12.0, 1.0, 7, 0, None]]
            with gzip.open(path, "wt") as f:
                json.dump({"names": ["gather", "gemm"], "events": events}, f)
            self.assertEqual(kernel_gaps.spacing(*kernel_gaps.load(path), "gather"), [2.5])

    def test_unreadable_timeline_is_a_located_error_with_status_2(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "x.timeline.json.gz")
            with open(path, "w") as f:
                f.write("not gzip")
            self.assertEqual(kernel_gaps.main([path]), 2)


class TestStatistics(unittest.TestCase):
    def test_summary_and_loss_sanity(self):
        s = planlib.summarize([1.0, 2.0, 3.0, 4.0, 5.0])
        self.assertEqual((s["median_s"], s["iterations"]), (3.0, 5))
        self.assertAlmostEqual(s["p10_s"], 1.4)
        self.assertTrue(planlib.loss_is_sane([10.9, 10.1], 50304))
        self.assertFalse(planlib.loss_is_sane([float("nan")], 50304))
        self.assertFalse(planlib.loss_is_sane([30.0], 50304))


class TestTable(unittest.TestCase):
    def test_aggregate_writes_header_rows_and_failures(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "results"))
            base = {"gpu": "NVIDIA H100 80GB HBM3", "driver": "580.159.04", "cuda": "13.0", "torch": "2.11.0",
                    "nccl": "2.28.9", "date": "2026-11-27T18:00:00Z", "command": "python3 run_all.py",
                    "gpus": 2, "median_s": 0.25, "p10_s": 0.2, "p90_s": 0.3, "iterations": 10,
                    "peak_allocated_bytes": [100, 200], "peak_reserved_bytes": [300, 400],
                    "losses": [10.9, 9.5]}
            with open(os.path.join(d, "results", "b.json"), "w") as f:
                json.dump(base, f)
            with open(os.path.join(d, "results", "a.json"), "w") as f:
                json.dump(dict(base, gpus=1, median_s=1.0), f)
            path = run_all.aggregate(d, {"a": {"ok": True, "reason": "ok"}, "c": {"ok": False, "reason": "exit status 1"}})
            with open(path) as f:
                lines = f.read().splitlines()
        self.assertEqual(lines[0], "# gpu: NVIDIA H100 80GB HBM3")
        self.assertIn("# failed: c: exit status 1", lines)
        self.assertTrue(any(line.startswith("# timing: synchronised (") for line in lines),
                        "a result that does not say how it was timed was timed synchronised")
        header = lines.index(",".join(run_all.COLUMNS))
        self.assertEqual(lines[header + 1:], ["a,1,1,0.2,0.3,10,200,400,10.9,9.5,1",
                                              "b,2,0.25,0.2,0.3,10,200,400,10.9,9.5,1"])

    def test_one_table_holds_one_timing(self):
        """Back-to-back times and synchronised ones measure different things (a training
        loop's iteration, or one started behind an idle GPU), so one table refuses to mix them."""
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "results"))
            base = {"gpu": "NVIDIA H200", "driver": "580.159.04", "cuda": "13.0", "torch": "2.11.0",
                    "nccl": "2.28.9", "date": "2026-11-28T18:00:00Z", "command": "python3 run_all.py",
                    "gpus": 1, "median_s": 0.25, "p10_s": 0.2, "p90_s": 0.3, "iterations": 10,
                    "peak_allocated_bytes": [100], "peak_reserved_bytes": [300], "losses": [10.9, 9.5]}
            for name, timing in (("a", "back_to_back"), ("b", "back_to_back")):
                with open(os.path.join(d, "results", name + ".json"), "w") as f:
                    json.dump(dict(base, timing=timing), f)
            with open(run_all.aggregate(d, {})) as f:
                self.assertIn("# timing: back_to_back (", f.read())
            with open(os.path.join(d, "results", "c.json"), "w") as f:
                json.dump(dict(base, timing="synchronised"), f)
            with self.assertRaisesRegex(ValueError, "keep one timing in one table"):
                run_all.aggregate(d, {})

    def test_launch_rows_hold_their_invariants(self):
        """Seeded property: for any launches, the row's time is one of the launches' medians
        (odd counts) or between the middle two, inside its own p10..p90, which lie inside
        the pooled iterations; and the merged result is one of the launches, whole."""
        import random
        rng = random.Random(20261128)
        for _ in range(200):
            launches = []
            for _ in range(rng.randint(2, 5)):
                ts = [rng.uniform(0.05, 0.5) * rng.choice((1.0, 1.6)) for _ in range(rng.randint(1, 12))]
                launches.append(dict(iteration_times_s=ts, **planlib.summarize(ts)))
            merged = run_all.merge_launches(launches)
            median, p10, p90, iterations, count = run_all.row_times(merged)
            medians = sorted(r["median_s"] for r in launches)
            pooled = [t for r in launches for t in r["iteration_times_s"]]
            self.assertEqual((count, iterations), (len(launches), len(pooled)))
            self.assertTrue(medians[(len(medians) - 1) // 2] <= median <= medians[len(medians) // 2])
            self.assertTrue(min(pooled) <= p10 <= median <= p90 <= max(pooled))
            self.assertIn({k: merged[k] for k in ("median_s", "iteration_times_s")},
                          [{k: r[k] for k in ("median_s", "iteration_times_s")} for r in launches])

    def test_launches_merge_into_the_middle_launch_and_a_pooled_row(self):
        """--launches: results/NAME.json is the launch with the middle median, keeping every
        launch's times; the row is the median of the medians over the pooled iterations, and a
        plan with a failed launch is still measured, its reason naming the launch."""
        base = {"gpu": "NVIDIA H200", "driver": "580.159.04", "cuda": "13.0", "torch": "2.11.0",
                "nccl": "2.28.9", "date": "2026-11-28T17:00:00Z", "command": "python3 run_all.py",
                "gpus": 2, "peak_allocated_bytes": [100, 200], "peak_reserved_bytes": [300, 400],
                "losses": [10.9, 9.5], "host_issue_s": [0.1, 0.2]}
        times = {1: [0.30, 0.31, 0.32], 2: [0.20, 0.21, 0.22], 3: [0.40, 0.41, 0.42]}
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "results", "launches"))
            for j, ts in times.items():
                with open(os.path.join(d, "results", "launches", f"a.launch{j}.json"), "w") as f:
                    json.dump(dict(base, iteration_times_s=ts, **planlib.summarize(ts)), f)
            with open(os.path.join(d, "results", "launches", "b.launch2.json"), "w") as f:
                json.dump(dict(base, iteration_times_s=[0.5, 0.5], **planlib.summarize([0.5, 0.5])), f)
            res = {"a.launch1": (True, "ok"), "a.launch2": (True, "ok"), "a.launch3": (True, "ok"),
                   "b.launch1": (False, "exit status 1"), "b.launch2": (True, "ok"),
                   "c.launch1": (False, "exit status 1")}
            merged = run_all.gather_launches(d, ["a", "b", "c"], 3, res)
            with open(os.path.join(d, "results", "a.json")) as f:
                a = json.load(f)
            path = run_all.aggregate(d, {n: {"ok": ok, "reason": why} for n, (ok, why) in merged.items()})
            with open(path) as f:
                lines = f.read().splitlines()
        self.assertEqual(merged["a"], (True, "3 of 3 launches"))
        self.assertEqual(merged["b"], (True, "1 of 3 launches (launch 1: exit status 1; launch 3: skipped: time limit reached)"))
        self.assertFalse(merged["c"][0])
        self.assertEqual(a["iteration_times_s"], times[1])
        self.assertEqual([r["median_s"] for r in a["launches"]], [0.31, 0.21, 0.41])
        header = lines.index(",".join(run_all.COLUMNS))
        row = lines[header + 1].split(",")
        self.assertEqual(row[0:3] + row[5:6] + row[10:], ["a", "2", "0.31", "9", "3"])
        self.assertAlmostEqual(float(row[3]), 0.208)
        self.assertAlmostEqual(float(row[4]), 0.412)
        self.assertEqual(lines[header + 2].split(",")[-1], "1")


class TestHostSpeed(unittest.TestCase):
    """host_speed.py: per result, the ranks' forward host beside their layer timing, and
    whether the slowest of each is the same rank; a result without the timing is refused."""

    def test_the_slowest_rank_of_each(self):
        import contextlib
        import io
        import host_speed
        result = {"median_s": 0.0742, "host_forward_s": [0.021, 0.0248], "host_layer_us": [[468.0, 837.0], [826.0, 1115.0]]}
        self.assertEqual(host_speed.summary("r.json", result),
                         "r.json: 74.2 ms; forward host / layer per rank: 21.0 ms / 468 us, 24.8 ms / 826 us; "
                         "slowest the same: yes")
        self.assertTrue(host_speed.summary("r.json", dict(result, host_forward_s=[0.03, 0.02])).endswith("no"))
        with tempfile.TemporaryDirectory() as d:
            bare = os.path.join(d, "bare.json")
            with open(bare, "w") as f:
                json.dump({"median_s": 0.1, "host_forward_s": [0.01]}, f)
            with contextlib.redirect_stderr(io.StringIO()) as err:
                self.assertEqual(host_speed.main([bare]), 2)
        self.assertTrue(err.getvalue().startswith(f"{bare}: error: not a run.py result with host_layer_us"))


class TestHostDraws(unittest.TestCase):
    """host_draws.sh reads only folders that measured their own host table, and stops on
    one that does not exist."""

    def draws(self, *args):
        return subprocess.run(["bash", os.path.join(HERE, "host_draws.sh"), *args], capture_output=True, text=True)

    def test_a_folder_without_host_tables_gives_the_header_alone(self):
        with tempfile.TemporaryDirectory() as d:
            done = self.draws(d)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(len(done.stdout.splitlines()), 1)
        self.assertTrue(done.stdout.startswith("results"))

    def test_a_missing_folder_is_an_error(self):
        done = self.draws("/nonexistent/run")
        self.assertEqual(done.returncode, 2)
        self.assertTrue(done.stderr.startswith("host_draws.sh: error: /nonexistent/run: no such folder"))


class TestProfileSummaryLine(unittest.TestCase):
    """profile_summary.py: the line run.py prints, from a saved summary, per iteration where
    iterations were profiled back to back; a file that is not one is a located error."""

    SUMMARY = {"wall_us": 118170.0, "gpu_busy_us": 113460.0, "compute_busy_us": 113460.0, "nccl_busy_us": 0.0,
               "overlap_us": 0.0, "idle_us": 4710.0, "idle_waiting_host_us": 0.0, "kernels": 2540.0,
               "kernel_us": 113050.0, "launch_calls": 1958.0, "launch_call_mean_us": 8.14}

    def test_the_line_says_over_how_many_iterations(self):
        import profile_summary
        self.assertEqual(profile_summary.line(self.SUMMARY),
                         "[profile] wall 118.17 ms, GPU busy 113.46 ms (compute 113.46, NCCL 0.00, both 0.00, "
                         "idle 4.71: host 0.00), 2540 kernels (113.05 ms), 1958 launches of 8.1 us")
        self.assertTrue(profile_summary.line(dict(self.SUMMARY, iterations=3)).endswith(
            "of 8.1 us a GPU iteration, over 3 back to back"))

    def test_a_file_that_is_not_a_summary_is_an_error(self):
        import contextlib
        import io
        import profile_summary
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.json")
            with open(path, "w") as f:
                json.dump({"wall_us": 1.0}, f)
            with contextlib.redirect_stderr(io.StringIO()) as err:
                self.assertEqual(profile_summary.main([path]), 2)
        self.assertTrue(err.getvalue().startswith(f"{path}: error: cannot read a run.py profile summary"))


class TestAttributeKernels(unittest.TestCase):
    """attribute_kernels.py --list: the matching kernels in the order they ran, each with
    its own time; --kernels-of: one op's kernels by name, and a located error for an op
    that launched none."""

    def test_list_in_launch_order(self):
        import contextlib
        import io
        import attribute_kernels

        def kernel(name, ts, dur):
            return {"ph": "X", "cat": "kernel", "name": name, "ts": ts, "dur": dur, "args": {"correlation": ts}}
        with tempfile.TemporaryDirectory() as d:
            trace = os.path.join(d, "t.json")
            with open(trace, "w") as f:
                json.dump({"traceEvents": [kernel("nvjet_b", 20, 45.0), kernel("elementwise", 10, 3.0),
                                           kernel("nvjet_a", 5, 170.5), kernel("nvjet_c", 30, 60.0)]}, f)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = attribute_kernels.main([trace, "--list", "nvjet", "--top", "2"])
        self.assertEqual(code, 0)
        self.assertEqual([line.split() for line in out.getvalue().splitlines()],
                         [["170.5", "us", "nvjet_a"], ["45.0", "us", "nvjet_b"]])


    def test_kernels_of_one_op_by_name(self):
        import contextlib
        import io
        import attribute_kernels

        def op(name, ts, dur, tid=1):
            return {"ph": "X", "cat": "cpu_op", "name": name, "ts": ts, "dur": dur, "tid": tid}

        def launch(ts, corr, tid=1):
            return {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "ts": ts, "dur": 1,
                    "tid": tid, "args": {"correlation": corr}}

        def kernel(name, corr, dur):
            return {"ph": "X", "cat": "kernel", "name": name, "ts": 1000 + corr, "dur": dur,
                    "args": {"correlation": corr}}
        events = [op("autograd::engine::evaluate_function: SdpaBackward0", 0, 100),
                  launch(10, 1), launch(20, 2), launch(30, 3),
                  op("aten::add", 200, 10), launch(205, 4),
                  kernel("flash_bwd", 1, 40.0), kernel("copy", 2, 3.0), kernel("copy", 3, 2.0),
                  kernel("add", 4, 7.0)]
        with tempfile.TemporaryDirectory() as d:
            trace = os.path.join(d, "t.json")
            with open(trace, "w") as f:
                json.dump({"traceEvents": events}, f)
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out):
                code = attribute_kernels.main([trace, "--kernels-of", "SdpaBackward0"])
            with contextlib.redirect_stderr(err):
                missing = attribute_kernels.main([trace, "--kernels-of", "NoSuchOp"])
        self.assertEqual(code, 0)
        self.assertEqual([line.split()[:4] for line in out.getvalue().splitlines()],
                         [["attributed", "GPU", "time", "0.04"], ["0.04", "ms", "1", "flash_bwd"],
                          ["0.01", "ms", "2", "copy"]])
        self.assertEqual(missing, 2)
        self.assertIn("no kernel was launched by 'NoSuchOp'", err.getvalue())


class TestTransferCheck(unittest.TestCase):
    """transfer_check.py: each measured row becomes the `simulate cost` query Strata would
    answer, rows Strata does not price are skipped with the reason, and errors come out
    per family against a stand-in simulate."""

    def test_rows_become_queries(self):
        import transfer_check as tc
        self.assertEqual(tc.cost_query("gemm", {"m": "8", "n": "16", "k": "32", "dtype": "fp8_e4m3"}),
                         ("gemm fp8_e4m3", ["gemm", "m=8", "n=16", "k=32", "dtype=fp8_e4m3"]))
        row = {"pass": "bwd", "batch": "1", "seq": "4096", "heads": "16", "kv_heads": "4", "head_dim": "64",
               "causal": "1", "impl": "sdpa-flash"}
        self.assertEqual(tc.cost_query("attention", row)[1],
                         ["attention", "batch=1", "heads=16", "kv_heads=4", "seq=4096", "head_dim=64", "causal=true",
                          "pass=backward"])
        self.assertEqual(tc.cost_query("attention", dict(row, impl="sdpa-cudnn")),
                         (None, "attention sdpa-cudnn (Strata prices FlashAttention)"))
        self.assertEqual(tc.cost_query("elementwise", {"op": "embedding", "pass": "bwd", "tokens": "2048",
                                                        "hidden": "1024", "vocab": "32000"})[1],
                         ["embedding", "tokens=2048", "hidden=1024", "vocab=32000", "pass=backward"])
        self.assertEqual(tc.cost_query("elementwise", {"op": "rope", "pass": "fwd"}), (None, "rope (no simulate cost op)"))

    def test_errors_per_family_against_a_stand_in(self):
        import contextlib
        import io
        import transfer_check as tc
        with tempfile.TemporaryDirectory() as d:
            def table(name, header, rows):
                with open(os.path.join(d, name), "w") as f:
                    f.write("# gpu: test\n" + header + "\n" + "\n".join(rows) + "\n")
            table("gemm-x.csv", "m,n,k,dtype,impl,median_us", ["8,8,8,bf16,torch.mm,10", "8,8,16,bf16,torch.mm,20"])
            table("attention-x.csv", "pass,batch,seq,heads,kv_heads,head_dim,causal,gqa,dtype,impl,median_us",
                  ["fwd,1,128,2,2,64,1,,bf16,sdpa-cudnn,5"])
            table("elementwise-x.csv", "op,pass,tokens,hidden,vocab,numel,median_us", ["rope,fwd,8,8,0,64,1"])
            stand_in = os.path.join(d, "simulate")
            with open(stand_in, "w") as f:  # answers 11 us for every query
                f.write("#!/bin/sh\necho '{\"seconds\": 1.1e-05, \"costs\": \"transferred from x\"}'\n")
            os.chmod(stand_in, 0o755)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = tc.main([d, "--suffix=-x", "--topology", "t.xml", "--simulate", stand_in])
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                missing = tc.main([d, "--suffix=-y", "--topology", "t.xml", "--simulate", stand_in])
        self.assertEqual(code, 0)
        lines = out.getvalue().splitlines()
        self.assertEqual(lines[0], "priced by: transferred from x (2 rows)")
        # +10 % and -45 %: median of |error| 27.5 %, mean signed -17.5 %
        self.assertEqual(lines[2].split(), ["gemm", "bf16", "2", "27.5%", "41.5%", "-17.5%"])
        self.assertIn("skipped    1: rope (no simulate cost op)", lines)
        self.assertEqual(missing, 2)
        self.assertIn("gemm-y.csv: error: cannot read the table", err.getvalue())


class TestKernelDiff(unittest.TestCase):
    """kernel_diff.py: a rank's kernels against its share of the single-GPU run's, NCCL's
    left out, most added first; an unreadable summary is a located error."""

    def test_added_kernels_against_the_share(self):
        import kernel_diff
        run = {"copy_out": (68, 7600.0), "gemm": (10, 1200.0), "ncclDevKernel_AllGather": (68, 31000.0)}
        base = {"gemm": (40, 4000.0), "rope": (8, 80.0)}
        self.assertEqual(kernel_diff.added(run, base, 4),
                         [(7600.0, "copy_out", 68, 0.0), (200.0, "gemm", 10, 10.0), (-20.0, "rope", 0, 2.0)])

    def test_a_summary_that_cannot_be_read_is_bad_input(self):
        import contextlib
        import io
        import kernel_diff
        with tempfile.TemporaryDirectory() as d:
            broken = os.path.join(d, "x.rank0.json")
            with open(broken, "w") as f:
                f.write('{"wall_us": 1,\n  oops}')
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                code = kernel_diff.main([broken, broken])
        self.assertEqual(code, 2)
        self.assertTrue(err.getvalue().startswith(f"{broken}:2:3: error: not JSON"), err.getvalue())


class TestHostOps(unittest.TestCase):
    def test_nested_events_are_summed_per_call_on_the_same_thread(self):
        def x(name, ts, dur, tid=1, cat="cpu_op"):
            return {"ph": "X", "name": name, "ts": ts, "dur": dur, "tid": tid, "cat": cat}
        events = [x("f", 0, 100), x("f", 200, 60),
                  x("inner", 10, 50), x("inner", 210, 30), x("launch", 20, 10, cat="cuda_runtime"),
                  x("inner", 150, 5),            # between the calls: not counted
                  x("inner", 20, 70, tid=2)]     # another thread: not counted
        calls, mean, nested = host_ops.nested_times(events, "f")
        self.assertEqual((calls, mean), (2, 80))
        self.assertEqual(nested, {("cpu_op", "inner"): 40, ("cuda_runtime", "launch"): 5})

    def run_main(self, args):
        import contextlib
        import io
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = host_ops.main(args)
        return code, out.getvalue(), err.getvalue()

    def test_bad_input_is_an_error_that_says_where_and_what_to_give(self):
        with tempfile.TemporaryDirectory() as d:
            trace = os.path.join(d, "t.json")
            with open(trace, "w") as f:
                json.dump({"traceEvents": [
                    {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": 0, "dur": 5, "tid": 1},
                    {"ph": "X", "cat": "cpu_op", "name": "aten::add", "ts": 9, "dur": 5, "tid": 1},
                    {"ph": "X", "cat": "cpu_op", "name": "aten::add", "ts": 20, "dur": 5, "tid": 1}]}, f)
            code, out, err = self.run_main([trace, "_ReduceFromTP"])
            self.assertEqual((code, out), (2, ""))
            self.assertEqual(err, f"{trace}: error: no CPU op named '_ReduceFromTP' in the trace; name one it has, "
                                  "most calls first: aten::add, aten::mm\n")
            self.assertEqual(self.run_main([trace, "aten::add"])[:2], (0, "aten::add: 2 calls, 5.0 us each\n"))
            broken = os.path.join(d, "broken.json")
            with open(broken, "w") as f:
                f.write('{"traceEvents": [\n  {"ph": }\n')
            code, _, err = self.run_main([broken, "f"])
            self.assertEqual(code, 2)
            self.assertTrue(err.startswith(f"{broken}:2:10: error: not JSON ("), err)
            code, _, err = self.run_main([os.path.join(d, "missing.json.gz"), "f"])
            self.assertEqual(code, 2)
            self.assertIn("missing.json.gz: error: cannot read the trace: No such file or directory; check the path", err)


@unittest.skipUnless(importlib.util.find_spec("torch"), "torch is not installed")
class TestHostLayerSizes(unittest.TestCase):
    """host_layer_sizes.py on the CPU: each case's layer timed in a chain, forward and
    backward, and written as JSON with its sizes (the figures mean nothing on CPU)."""

    def test_cases_come_back_with_their_sizes(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "layers.json")
            result = subprocess.run([sys.executable, os.path.join(HERE, "host_layer_sizes.py"), "--cpu", "--out", out,
                                     "--repeats", "1", "--cases", "1"], capture_output=True, text=True, timeout=300)
            self.assertEqual(result.returncode, 0, result.stderr)
            with open(out) as f:
                rows = json.load(f)
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows[0]["family"], rows[0]["hidden"], rows[0]["seq"]), ("llama", 256, 32))
        self.assertTrue(all(math.isfinite(rows[0][k]) for k in ("fwd_us", "bwd_us", "fwd_p10_us", "bwd_p90_us")))
        self.assertIn("[layers] llama hidden 256 seq 32 batch 1", result.stdout)


@unittest.skipUnless(importlib.util.find_spec("torch"), "torch is not installed")
class TestHostBusy(unittest.TestCase):
    """host_busy.py on the CPU: a case's layer timed idle and "busy" in paired rounds (on
    the CPU nothing is queued, so the figures mean nothing), written as JSON with a ratio
    per pass; an unknown case is an error naming the known ones."""

    def run_main(self, *extra):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "busy.json")
            done = subprocess.run([sys.executable, os.path.join(HERE, "host_busy.py"), "--cpu", "--out", out,
                                   "--repeats", "2", *extra], capture_output=True, text=True, timeout=300)
            rows = json.load(open(out))["cases"] if os.path.exists(out) else None
        return done, rows

    def test_a_case_comes_back_idle_and_busy(self):
        done, rows = self.run_main("--cases", "llama-host.py")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual([r["case"] for r in rows], ["llama-host.py"])
        row = rows[0]
        for key in ("idle_fwd_us", "busy_fwd_us", "idle_bwd_us", "busy_bwd_us", "ratio_fwd", "ratio_bwd"):
            self.assertTrue(math.isfinite(row[key]), key)
        self.assertEqual((row["rounds"], row["outlasted"]), (2, 0))
        self.assertIn("[busy] llama-host.py: fwd", done.stdout)

    def test_an_unknown_case_is_named(self):
        done, rows = self.run_main("--cases", "nope")
        self.assertEqual(done.returncode, 2)
        self.assertIsNone(rows)
        self.assertIn("no case named nope; choose from llama-host.py", done.stderr)


@unittest.skipUnless(importlib.util.find_spec("torch"), "torch is not installed")
class TestGpuSampler(unittest.TestCase):
    """run.GpuSampler: samples while running, medians of what it read, nothing (and no
    error) where NVML cannot be read."""

    def test_samples_until_stopped_and_gives_medians(self):
        import time
        run = load_runner()
        readings = iter([(1980.0, 650.0), (1755.0, 700.0), (1980.0, 690.0)])

        def read():
            try:
                return next(readings)
            except StopIteration:
                raise RuntimeError("no more") from None
        sampler = run.GpuSampler(None, interval_s=0.001, read=read)
        sampler.start()
        time.sleep(0.2)
        sampler.stop()
        self.assertEqual(sampler.samples, [(1980.0, 650.0), (1755.0, 700.0), (1980.0, 690.0)])
        self.assertEqual(sampler.medians(), (1980.0, 690.0))

    def test_no_nvml_records_nothing(self):
        run = load_runner()

        def read():
            raise ModuleNotFoundError("pynvml")
        sampler = run.GpuSampler(None, read=read)
        sampler.start()
        sampler.stop()
        self.assertEqual((sampler.samples, sampler.medians()), ([], (None, None)))


@unittest.skipUnless(importlib.util.find_spec("torch"), "torch is not installed")
class TestGcPauses(unittest.TestCase):
    """run.GcPauses counts the collector's pauses inside timed iterations only, per
    iteration and by generation, and unhooks itself."""

    def test_pauses_inside_iterations_only(self):
        import gc
        run = load_runner()
        ticks = iter([0.0, 0.004, 1.0, 1.002, 2.0, 2.010, 3.0, 3.5])
        with run.GcPauses(clock=lambda: next(ticks)) as pauses:
            pauses.begin_iteration()
            pauses._callback("start", {"generation": 0})
            pauses._callback("stop", {"generation": 0})   # 4 ms
            pauses._callback("start", {"generation": 2})
            pauses._callback("stop", {"generation": 2})   # 2 ms
            pauses.end_iteration()
            pauses.begin_iteration()
            pauses._callback("start", {"generation": 1})
            pauses._callback("stop", {"generation": 1})   # 10 ms
            pauses.end_iteration()
            pauses._callback("start", {"generation": 2})  # between iterations: not counted
            pauses._callback("stop", {"generation": 2})
            self.assertIn(pauses._callback, gc.callbacks)
        self.assertNotIn(pauses._callback, gc.callbacks)
        summary = pauses.summary()
        self.assertEqual([round(s, 6) for s in summary["pause_s"]], [0.006, 0.01])
        self.assertAlmostEqual(summary["longest_s"], 0.01)
        self.assertEqual(summary["collections"], [1, 1, 1])

    def test_a_real_collection_is_seen(self):
        import gc
        run = load_runner()
        with run.GcPauses() as pauses:
            pauses.begin_iteration()
            gc.collect()
            pauses.end_iteration()
        self.assertEqual(pauses.summary()["collections"][2], 1)
        self.assertGreater(pauses.summary()["pause_s"][0], 0.0)


@unittest.skipUnless(importlib.util.find_spec("torch"), "torch is not installed")
class TestProfileSummary(unittest.TestCase):
    """The profile's arithmetic on a hand-made timeline: busy time is the union of the
    intervals, and an idle gap is the host's fault only until the next kernel's launch."""

    def test_union_counts_overlap_once(self):
        run = load_runner()
        self.assertEqual(run.union_us([(0, 5), (3, 8), (10, 12)]), 10)

    def test_idle_split_between_host_and_dependencies(self):
        run = load_runner()
        # Gap 10-15: the next kernel's launch ended at 13, so 3 us waited for the host and
        # 2 for something else; gap 20-30: launched at 5, long before, so all 10 are other.
        gpu = [(0, 10, "a", "kernel", 1), (15, 20, "b", "kernel", 2), (30, 40, "nccl", "kernel", 3)]
        self.assertEqual(run.idle_split_us(gpu, {1: -1, 2: 13, 3: 5}), (3, 12))

    def test_lean_profile_without_a_profile_is_a_usage_error(self):
        import contextlib
        import io
        run = load_runner()
        with contextlib.redirect_stderr(io.StringIO()) as err, self.assertRaises(SystemExit) as raised:
            run.parse(["p.json", "--out", "o.json", "--profile-lean"])
        self.assertEqual(raised.exception.code, 2)
        self.assertIn("give --profile PATH too", err.getvalue())

    def test_cpulists_read_and_written(self):
        run = load_runner()
        self.assertEqual(run.common.parse_cpulist("0-3,8,10-11\n"), {0, 1, 2, 3, 8, 10, 11})
        self.assertEqual(run.compact_cpulist([11, 0, 1, 2, 3, 8, 10]), "0-3,8,10-11")
        self.assertEqual(run.compact_cpulist([]), "")

    def test_steady_window_leaves_the_first_iteration_out(self):
        """Iterations profiled back to back: each begins with the marker kernel, and only
        what follows the second marker is read, markers dropped, its launches kept."""
        run = load_runner()
        spin = "void at::cuda::(anonymous namespace)::spin_kernel(long)"
        gpu = [(0, 1, spin, "kernel", 1, 7), (2, 50, "gemm", "kernel", 2, 7),
               (60, 61, spin, "kernel", 3, 7), (62, 100, "gemm", "kernel", 4, 7), (90, 95, "nccl", "kernel", 5, 9)]
        kept, launched = run.steady_window(gpu, {1: 0, 2: 1, 3: 55, 4: 58, 5: 80}, 2)
        self.assertEqual([g[4] for g in kept], [4, 5])
        self.assertEqual(launched, {4: 58, 5: 80})
        self.assertEqual(run.steady_window(gpu, {1: 0}, 1), (gpu, {1: 0}))
        with self.assertRaises(RuntimeError):
            run.steady_window(gpu[1:], {}, 3)

    def test_per_iteration_divides_times_and_counts(self):
        run = load_runner()
        summary = {"wall_us": 999.0, "gpu_span_us": 300.0, "gpu_busy_us": 240.0, "kernels": 30,
                   "launch_call_mean_us": 8.0, "by_name": {"gemm": {"count": 6, "us": 120.0, "cat": "kernel"}}}
        out = run.per_iteration(summary, 3)
        self.assertEqual(out["wall_us"], 100.0)
        self.assertEqual((out["gpu_busy_us"], out["kernels"], out["launch_call_mean_us"]), (80.0, 10.0, 8.0))
        self.assertEqual(out["by_name"]["gemm"], {"count": 2.0, "us": 40.0, "cat": "kernel"})
        self.assertEqual(out["iterations"], 3)

    def test_one_profiled_iteration_back_to_back_is_a_usage_error(self):
        import contextlib
        import io
        run = load_runner()
        with contextlib.redirect_stderr(io.StringIO()) as err, self.assertRaises(SystemExit) as raised:
            run.parse(["p.json", "--out", "o.json", "--profile", "x", "--profile-iterations", "1"])
        self.assertEqual(raised.exception.code, 2)
        self.assertIn("at least 2", err.getvalue())

    def test_timeline_keeps_names_once(self):
        import gzip
        run = load_runner()
        gpu = [(100, 110, "k<float>", "kernel", 1, 7), (115, 120, "k<half>", "kernel", 2, 7)]
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.json.gz")
            run.write_timeline(path, gpu, {1: 99}, 100)
            with gzip.open(path, "rt") as f:
                timeline = json.load(f)
        self.assertEqual(timeline, {"names": ["k"], "events": [[0, 10, 7, 0, -1], [15, 5, 7, 0, None]]})


@unittest.skipUnless(importlib.util.find_spec("torch"), "torch is not installed")
class TestHostProbe(unittest.TestCase):
    """host_probe.py's stand-in for torch.distributed: the collectives are timed per kind
    and thread (or skipped), everything else passes through untouched."""

    def test_collectives_are_timed_by_thread_and_skipped_on_request(self):
        import threading
        import types
        import host_probe
        made = []
        fake = types.SimpleNamespace(all_reduce=lambda x, group=None: made.append(x) or "done",
                                     barrier=lambda: "barrier", get_rank=lambda: 3)
        timed = host_probe.TimedDistributed(fake, skip=False)
        self.assertEqual(timed.all_reduce(1), "done")
        worker = threading.Thread(target=lambda: timed.all_reduce(2))
        worker.start()
        worker.join()
        self.assertEqual(made, [1, 2])
        self.assertEqual(sorted(timed.calls), ["all_reduce/autograd", "all_reduce/main"])
        self.assertTrue(all(len(v) == 1 and v[0] >= 0 for v in timed.calls.values()))
        self.assertIs(timed.barrier, fake.barrier)
        self.assertEqual(timed.get_rank(), 3)
        skipping = host_probe.TimedDistributed(fake, skip=True)
        self.assertIsNone(skipping.all_reduce(4))
        self.assertEqual(made, [1, 2])
        self.assertEqual(list(skipping.calls), ["all_reduce/main"])


@unittest.skipUnless(importlib.util.find_spec("torch"), "torch is not installed")
class TestOnCPU(unittest.TestCase):
    """Tiny copies of plans through run.py --cpu (gloo): the same model and data in every
    layout, so the first losses agree."""

    def tiny(self, name, d):
        plan = planlib.smoke(load_plan(name), seq=32)
        m = plan["model"]
        m.update(hidden=64, heads=8, kv_heads=4 if m["kv_heads"] != m["heads"] else 8,
                 ffn=128 if m["family"] == "llama" else 256, vocab=512)
        if m.get("moe"):
            m["moe"]["expert_ffn"] = 128
        path = os.path.join(d, name + ".json")
        with open(path, "w") as f:
            json.dump(plan, f)
        return path

    def run_plan(self, path, out):
        """run.py on CPU, one warm-up and one timed iteration; its stderr shown if it fails."""
        done = subprocess.run([sys.executable, os.path.join(HERE, "run.py"), path, "--out", out,
                               "--cpu", "--iterations", "1", "--warmup", "1"], capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, f"{path}: {done.stderr[-3000:]}")

    def losses(self, names):
        """{name: [loss per iteration]} of each plan's tiny version run on CPU."""
        out = {}
        with tempfile.TemporaryDirectory() as d:
            for name in names:
                path = os.path.join(d, name + ".out.json")
                self.run_plan(self.tiny(name, d), path)
                with open(path) as f:
                    out[name] = json.load(f)["losses"]
        return out

    def test_layouts_agree(self):
        losses = {name: run[0] for name, run in self.losses(("llama-1b-base", "llama-1b-tp2", "llama-1b-fsdp4")).items()}
        for name, loss in losses.items():
            self.assertAlmostEqual(loss, losses["llama-1b-base"], delta=2e-3, msg=name)
            self.assertTrue(math.isfinite(loss))

    def test_fsdp_starts_gpt_where_one_gpu_does(self):
        """GPT's FSDP plan (its biases, LayerNorms and learned positions sharded too) and its
        one-GPU base from the same start: the same first loss."""
        losses = {name: run[0] for name, run in self.losses(("gpt-350m-base", "gpt-350m-fsdp4")).items()}
        self.assertTrue(math.isfinite(losses["gpt-350m-fsdp4"]))
        self.assertAlmostEqual(losses["gpt-350m-fsdp4"], losses["gpt-350m-base"], delta=2e-3)

    def test_the_distributed_optimizer_trains_as_data_parallelism_does(self):
        """ZeRO-1 (reduce-scatter, a step on each replica's slice, all-gather) and plain data
        parallelism from the same start: the same loss before the step and after it."""
        losses = self.losses(("gpt-350m-ddp4", "gpt-350m-zero1-dp4"))
        ddp, zero1 = losses["gpt-350m-ddp4"], losses["gpt-350m-zero1-dp4"]
        self.assertEqual(len(zero1), 2)
        self.assertAlmostEqual(zero1[0], ddp[0], delta=1e-4)
        self.assertAlmostEqual(zero1[1], ddp[1], delta=2e-3)
        self.assertNotAlmostEqual(zero1[1], zero1[0], delta=1e-3)  # the step changed the weights

    def test_host_speed_times_every_rank_after_the_iterations(self):
        """--host-speed: each rank's host.py LLaMA layer medians (forward, backward) in
        host_layer_us, after the timed iterations (positive; the figures mean nothing on CPU)."""
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "out.json")
            path = self.tiny("gpt-350m-ddp2", d)
            done = subprocess.run([sys.executable, os.path.join(HERE, "run.py"), path, "--out", out, "--cpu",
                                   "--iterations", "1", "--warmup", "1", "--host-speed", "2"],
                                  capture_output=True, text=True)
            self.assertEqual(done.returncode, 0, done.stderr[-3000:])
            with open(out) as f:
                result = json.load(f)
        self.assertEqual(len(result["host_layer_us"]), 2)
        self.assertTrue(all(len(r) == 2 and all(math.isfinite(x) for x in r) for r in result["host_layer_us"]),
                        result["host_layer_us"])

    def test_a_plan_that_cannot_be_read_is_bad_input(self):
        """run.py on a missing plan: its located error on stderr and exit status 2, no
        traceback."""
        with tempfile.TemporaryDirectory() as d:
            missing = os.path.join(d, "missing.json")
            done = subprocess.run([sys.executable, os.path.join(HERE, "run.py"), missing, "--out",
                                   os.path.join(d, "out.json"), "--cpu"], capture_output=True, text=True)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertTrue(done.stderr.startswith(f"{missing}: error: cannot read the plan"), done.stderr)
        self.assertNotIn("Traceback", done.stderr)

    def test_recompute_with_and_without_early_stop_computes_the_same(self):
        """recompute = full_early_stop (PyTorch's default checkpoint) and full (early stop
        off) recompute the same layers: the first loss is the base plan's either way."""
        with tempfile.TemporaryDirectory() as d:
            losses = {}
            for name, mode in (("llama-1b-base", None), ("llama-1b-recompute", "full_early_stop"),
                               ("llama-1b-recompute", "full")):
                path = self.tiny(name, d)
                if mode:
                    with open(path) as f:
                        plan = json.load(f)
                    self.assertEqual(plan["parallel"]["recompute"], "full_early_stop")  # what the strategy says
                    plan["parallel"]["recompute"] = mode
                    with open(path, "w") as f:
                        json.dump(plan, f)
                out = os.path.join(d, f"{name}-{mode}.out.json")
                self.run_plan(path, out)
                with open(out) as f:
                    losses[mode] = json.load(f)["losses"][0]
        self.assertAlmostEqual(losses["full_early_stop"], losses[None], delta=1e-3)
        self.assertAlmostEqual(losses["full"], losses[None], delta=1e-3)

    def assert_refused(self, name, flag, cause, env=None):
        """run.py with `flag` (or the environment `env`) on the tiny `name` plan on the CPU: a
        located error starting with `cause` and exit status 2, before any process starts."""
        with tempfile.TemporaryDirectory() as d:
            path = self.tiny(name, d)
            done = subprocess.run([sys.executable, os.path.join(HERE, "run.py"), path, "--out",
                                   os.path.join(d, "out.json"), "--cpu"] + ([flag] if flag else []),
                                  capture_output=True, text=True, env=dict(os.environ, **(env or {})))
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertTrue(done.stderr.startswith(f"{path}: error: {cause}"), done.stderr)
        self.assertNotIn("Traceback", done.stderr)

    def test_skipping_gradient_sync_needs_ddp(self):
        self.assert_refused("llama-1b-tp2", "--skip-grad-sync", "--skip-grad-sync")

    def test_bucket_timing_needs_ddp_and_gpus(self):
        self.assert_refused("llama-1b-tp2", "--bucket-timing", "--bucket-timing times DDP")
        self.assert_refused("gpt-350m-ddp2", "--bucket-timing", "--bucket-timing times CUDA")

    def test_gpu_ahead_needs_gpus_and_no_pipeline(self):
        self.assert_refused("gpt-350m-ddp2", "--gpu-ahead=50", "--gpu-ahead queues GPU sleep")
        self.assert_refused("gpt-350m-gpipe2", "--gpu-ahead=50", "--gpu-ahead queues GPU sleep")

    def test_back_to_back_needs_gpus(self):
        self.assert_refused("gpt-350m-ddp2", "--back-to-back", "--back-to-back times iterations with CUDA events")

    def test_a_head_start_needs_gpus(self):
        self.assert_refused("gpt-350m-gpipe2", "--gpu-head-start=60", "--gpu-head-start queues GPU sleep")

    def test_a_torchrun_world_of_another_size_is_refused(self):
        self.assert_refused("gpt-350m-ddp2", None, "the plan needs 2 processes, torchrun started 3",
                            env={"RANK": "0", "WORLD_SIZE": "3"})

    def test_pipelined_runs_split_their_host_time(self):
        """A pipeline's ranks report the host time of their forward and backward steps,
        not zeros, as the other layouts do."""
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "gpipe2.out.json")
            self.run_plan(self.tiny("gpt-350m-gpipe2", d), out)
            with open(out) as f:
                result = json.load(f)
        self.assertEqual(len(result["host_forward_s"]), 2)
        for forward, backward in zip(result["host_forward_s"], result["host_backward_s"]):
            self.assertGreater(forward, 0)
            self.assertGreater(backward, 0)

    def test_grouped_and_looped_experts_agree(self):
        """The experts as one grouped product per projection (the plans' expert_kernel) or
        as a loop of per-expert MLPs: the same weights, so the same first loss, also with
        expert parallelism."""
        with tempfile.TemporaryDirectory() as d:
            losses = {}
            for name, kernel in (("moe-base", "torch._grouped_mm"), ("moe-base", None), ("moe-ep2", "torch._grouped_mm")):
                path = self.tiny(name, d)
                with open(path) as f:
                    plan = json.load(f)
                self.assertEqual(plan["model"]["moe"].get("expert_kernel"), "torch._grouped_mm", name)
                if kernel is None:
                    del plan["model"]["moe"]["expert_kernel"]
                    path = os.path.join(d, name + "-loop.json")
                    with open(path, "w") as f:
                        json.dump(plan, f)
                out = path + ".out.json"
                self.run_plan(path, out)
                with open(out) as f:
                    result = json.load(f)
                losses[(name, kernel)] = result["losses"][0]
                self.assertEqual(len(result["host_issue_s"]), plan["gpus"])
        first = losses[("moe-base", "torch._grouped_mm")]
        for key, loss in losses.items():
            self.assertAlmostEqual(loss, first, delta=2e-3, msg=str(key))


if __name__ == "__main__":
    unittest.main()
