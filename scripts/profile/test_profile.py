"""Unit tests of the profiler's pure-Python parts (no torch, no GPU needed).

    python3 -m unittest discover -s scripts/profile -p 'test_*.py'

They pin down what the Swift loader relies on: the GPU directory name, the
table layout and sort order, the statistics, the NCCL-tests bandwidth
factors, and the grids and token splits the tables are built from.
"""

import contextlib
import importlib.util
import io
import json
import math
import os
import sys
import tempfile
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import check  # noqa: E402
import collectives  # noqa: E402
import common  # noqa: E402
import cpu_speed  # noqa: E402
import elementwise  # noqa: E402
import gemm  # noqa: E402
import merge_tables  # noqa: E402
import grouped_gemm  # noqa: E402
import host  # noqa: E402
import host_spread  # noqa: E402
import launch  # noqa: E402
import attention  # noqa: E402
import run  # noqa: E402
import sparse_attention  # noqa: E402

META = {"gpu": "NVIDIA H100 80GB HBM3", "gpu_count": "1", "driver": "580.00", "cuda": "13.0",
        "torch": "2.11.0", "nccl": "2.27.7", "date": "2026-01-01T00:00:00Z",
        "command": "python3 scripts/profile/run.py --out traces"}


class TestNaming(unittest.TestCase):
    def test_gpu_id(self):
        self.assertEqual(common.gpu_id("NVIDIA H100 80GB HBM3"), "h100-sxm")
        self.assertEqual(common.gpu_id("NVIDIA H200"), "h200-sxm")
        self.assertEqual(common.gpu_id("NVIDIA H100 PCIe"), "nvidia-h100-pcie")
        self.assertEqual(common.gpu_id("NVIDIA A100-SXM4-80GB"), "nvidia-a100-sxm4-80gb")

    def test_safe_env(self):
        for k, v in common.SAFE_ENV.items():
            self.assertEqual(os.environ.get(k), v)
        env = common.apply_safe_env({"NCCL_NVLS_ENABLE": "1"})
        self.assertEqual(env["NCCL_NVLS_ENABLE"], "0")


class TestStats(unittest.TestCase):
    def test_percentile_matches_numpy_linear(self):
        xs = [5.0, 1.0, 3.0, 2.0, 4.0]
        self.assertEqual(common.percentile(xs, 50), 3.0)
        self.assertAlmostEqual(common.percentile(xs, 10), 1.4)
        self.assertAlmostEqual(common.percentile(xs, 90), 4.6)
        self.assertEqual(common.percentile([7.0], 90), 7.0)

    def test_summarize(self):
        st = common.summarize([float(i) for i in range(1, 12)])
        self.assertEqual(st["median_us"], 6.0)
        self.assertEqual(st["samples"], 11)
        self.assertLessEqual(st["p10_us"], st["median_us"])

    def test_rotation_count(self):
        l2 = 50 << 20
        self.assertEqual(common.rotation_count(1 << 30, l2), 1)
        self.assertEqual(common.rotation_count(100 << 20, l2), 2)
        n = common.rotation_count(10 << 20, l2)
        self.assertGreater(n * (10 << 20), 2 * l2)
        self.assertEqual(common.rotation_count(1024, l2, max_sets=16), 16)

    def test_busbw_factors(self):
        self.assertAlmostEqual(common.busbw_factor("all_reduce", 4), 1.5)
        self.assertAlmostEqual(common.busbw_factor("all_reduce", 2), 1.0)
        self.assertAlmostEqual(common.busbw_factor("all_gather", 4), 0.75)
        self.assertAlmostEqual(common.busbw_factor("reduce_scatter", 2), 0.5)
        self.assertAlmostEqual(common.busbw_factor("all_to_all", 8), 0.875)
        self.assertEqual(common.busbw_factor("send_recv", 4), 1.0)

    def test_iterations_for(self):
        self.assertEqual(common.iterations_for(0.001, 0.05, 5, 100), 50)
        self.assertEqual(common.iterations_for(1.0, 0.05, 5, 100), 5)
        self.assertEqual(common.iterations_for(1e-7, 0.05, 5, 100), 100)


class TestTable(unittest.TestCase):
    def test_write_sorted_and_check(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "gemm.csv")
            t = common.Table(path, gemm.COLUMNS, META)
            t.add(m=4096, n=8192, k=4096, dtype="bf16", impl="torch.mm", median_us=400.0, p10_us=390.0,
                  p90_us=410.5, tflops=687.2, samples=20)
            t.add(m=1024, n=8192, k=4096, dtype="fp8_e4m3", impl="torch._scaled_mm", median_us=60.0, p10_us=59.0,
                  p90_us=61.0, tflops=1100.0, samples=20)
            t.add(m=1024, n=8192, k=4096, dtype="bf16", impl="torch.mm", median_us=110.0, p10_us=109.0,
                  p90_us=111.0, tflops=620.0, samples=20)
            t.skip("torch._weight_int4pack_mm int4 m=1 n=2 k=3", RuntimeError("no kernel\nfor this"))
            t.skip("torch._weight_int4pack_mm int4 m=9 n=9 k=9", RuntimeError("no kernel\nfor this"))
            t.write()
            text = open(path).read()
            lines = text.splitlines()
            self.assertEqual(lines[0], "# gpu: NVIDIA H100 80GB HBM3")
            self.assertIn("# units: time in microseconds, sizes in bytes", lines)
            self.assertEqual(sum(1 for l in lines if l.startswith("# skipped:")), 1)
            self.assertIn("RuntimeError: no kernel for this", text)
            header = [l for l in lines if not l.startswith("#")][0]
            self.assertEqual(header, ",".join(gemm.COLUMNS))
            data = [l for l in lines if not l.startswith("#")][1:]
            self.assertTrue(data[0].startswith("1024,8192,4096,bf16,"))
            self.assertTrue(data[1].startswith("1024,8192,4096,fp8_e4m3,"))
            self.assertTrue(data[2].startswith("4096,"))
            self.assertEqual(check.check_file(path), [])
            meta, skipped, hdr, rows = common.read_table(path)
            self.assertEqual(meta["command"], META["command"])
            self.assertEqual(rows[2]["p90_us"], "410.5")

    def test_check_flags_problems(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "collectives.csv")
            with open(path, "w") as f:
                f.write("# gpu: x\nop,gpus,group,bytes,dtype,impl,median_us,p10_us,p90_us\n"
                        "all_reduce,4,contiguous,2048,bf16,nccl,5,6,7\n"
                        "all_reduce,2,contiguous,1024,bf16,nccl,5,4,7\n")
            problems = check.check_file(path)
            text = "\n".join(problems)
            self.assertIn("missing '# driver:'", text)
            self.assertIn("algbw_GBps", text)
            self.assertIn("out of order", text)
            self.assertIn("not sorted", text)

    def test_check_knows_the_host_tables(self):
        """launch.csv and host.csv have columns of their own (no impl), and host.csv's
        slopes may have a p10 below zero as long as the median is positive."""
        head = ("# gpu: x\n# gpu_count: 1\n# driver: d\n# cuda: c\n# torch: t\n# nccl: n\n# date: 2026\n"
                "# command: c\n# units: time in microseconds, sizes in bytes\n")
        with tempfile.TemporaryDirectory() as d:
            launch_path, host_path = os.path.join(d, "launch.csv"), os.path.join(d, "host.csv")
            with open(launch_path, "w") as f:
                f.write(head + "metric,median_us,p10_us,p90_us,ops_per_sample,samples\n"
                        "gpu_kernel_gap,0.99,0.99,0.99,400,10\ngpu_kernel_gap_training,1.57,1.56,1.58,1,2\n")
            with open(host_path, "w") as f:
                f.write(head + "op,pass,bytes,median_us,p10_us,p90_us,chain_short,chain_long,samples\n"
                        "accumulate,bwd,0,15.6,-8.5,22.9,8,40,15\nadd,bwd,0,-1,-2,3,8,40,15\n")
            self.assertEqual(check.check_file(launch_path), [])
            self.assertEqual(check.check_file(host_path), ["host.csv: row 1 has non-positive time"])

    def test_cells_never_need_quoting(self):
        with self.assertRaises(ValueError):
            common.format_value("a,b")
        self.assertEqual(common.format_value(3.0), "3")
        self.assertEqual(common.format_value(0.1234567), "0.123457")


class TestRendezvousPorts(unittest.TestCase):
    """common.free_port draws below the ephemeral range and skips ports in use;
    address_in_use recognises the store's error in a spawned rank's traceback."""

    def test_port_below_ephemeral_range_and_free(self):
        import random
        import socket
        port = common.free_port(random.Random(7))
        self.assertIn(port, common.RENDEZVOUS_PORTS)
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # free: binds

    def test_taken_port_is_skipped(self):
        import random
        import socket
        first = common.free_port(random.Random(11))
        with socket.socket() as held:
            held.bind(("127.0.0.1", first))
            held.listen()
            self.assertNotEqual(common.free_port(random.Random(11)), first)

    def test_address_in_use_text(self):
        self.assertTrue(common.address_in_use(RuntimeError(
            "DistNetworkError: The server socket has failed to listen ... code: -98, name: EADDRINUSE")))
        self.assertTrue(common.address_in_use(OSError("[Errno 98] Address already in use")))
        self.assertFalse(common.address_in_use(RuntimeError("CUDA out of memory")))


class TestFirstResult(unittest.TestCase):
    """common.first_result: the first item put on the queue, or an exit as soon as one of
    the processes dies, not after the timeout."""

    def test_returns_what_is_put(self):
        import multiprocessing
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        queue.put({"ok": 1})
        self.assertEqual(common.first_result(queue, [], "test", timeout_s=5), {"ok": 1})

    def test_a_dead_process_ends_the_wait(self):
        import multiprocessing
        import time
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        dead = ctx.Process(target=sys.exit, args=(3,))
        dead.start()
        dead.join()
        started = time.monotonic()
        with self.assertRaises(SystemExit) as caught:
            common.first_result(queue, [dead], "a test rank", timeout_s=60)
        self.assertLess(time.monotonic() - started, 10)
        self.assertIn("a test rank failed", str(caught.exception))


class TestGrids(unittest.TestCase):
    def test_gemm_grid_size_and_alignment(self):
        g = gemm.gemm_grid()
        self.assertTrue(200 <= len(g) <= 300, len(g))  # layers of 6 models, heads, cubes
        for m, n, k in g:
            self.assertEqual(n % 16, 0)
            self.assertEqual(k % 16, 0)
        for m, n, k in gemm.low_precision_grid():
            self.assertEqual(k % 128, 0)
        self.assertIn((8192, 8192, 8192), g)
        self.assertLess(len(gemm.gemm_grid(quick=True)), 12)

    def test_layer_shapes_llama70b_tp8(self):
        shapes = gemm.layer_shapes(8192, 64, 8, 28672, True, 8)
        self.assertEqual(shapes, [((64 + 16) * 128 // 8, 8192), (8192, 1024), (2 * 28672 // 8, 8192),
                                  (8192, 28672 // 8)])

    def test_token_counts(self):
        for dist in ("balanced", "zipf"):
            c = grouped_gemm.token_counts(4096, 2, 8, dist)
            self.assertEqual(sum(c), 8192)
            self.assertTrue(all(x % 16 == 0 for x in c))
        z = grouped_gemm.token_counts(16384, 6, 64, "zipf")
        self.assertEqual(z, sorted(z, reverse=True))
        self.assertGreater(z[0], 10 * z[-1])
        self.assertEqual(grouped_gemm.token_counts(4096, 2, 8, "balanced"), [1024] * 8)

    def test_mixed_assignment(self):
        a = grouped_gemm.mixed_assignment([100, 10, 50, 1, 80, 5, 40, 2])
        self.assertEqual(a[0], "bf16")
        self.assertEqual(a[3], "int4")
        self.assertEqual(sorted(a).count("bf16"), 2)

    def test_attention_flops(self):
        f = attention.attention_flops(1, 8192, 32, 128, "fwd")
        self.assertEqual(f, 4.0 * 8192 * 8192 * 32 * 128 / 2)
        self.assertEqual(attention.attention_flops(1, 8192, 32, 128, "bwd"), 2.5 * f)
        for b, s, h, kv, d in attention.grid():
            self.assertEqual(h % kv, 0)
            self.assertIn(b * s, (4096, 16384, 32768))

    def test_sparse_density(self):
        nb = 64
        dense = sparse_attention.block_layout(nb, nb, set())
        self.assertAlmostEqual(sparse_attention.density_of(dense, nb), 1.0)
        local = sparse_attention.block_layout(nb, 4, set())
        d_local = sparse_attention.density_of(local, nb)
        striped = sparse_attention.block_layout(nb, 4, sparse_attention.stripe_blocks(nb, 0.2))
        self.assertLess(d_local, sparse_attention.density_of(striped, nb))
        self.assertLess(sparse_attention.density_of(striped, nb), 1.0)
        self.assertIn(0, sparse_attention.stripe_blocks(nb, 0.1))
        self.assertEqual(len(sparse_attention.stripe_blocks(nb, 0.25)), 16)
        self.assertEqual(sparse_attention.stripe_blocks(nb, 0.1), sparse_attention.stripe_blocks(nb, 0.1))

    def test_elementwise_bytes(self):
        self.assertEqual(elementwise.bytes_moved("adamw", "fwd", numel=10), 280)
        self.assertEqual(elementwise.bytes_moved("copy_d2d", "fwd", numel=10), 20)
        self.assertEqual(elementwise.bytes_moved("gelu", "fwd", tokens=2, hidden=3), 24)
        for op, pass_, dims in elementwise.grid():
            self.assertIn(op, elementwise.IMPL)
            self.assertGreater(elementwise.bytes_moved(op, "fwd" if pass_ == "step" else pass_, **dims), 0)

    def test_group_partitions(self):
        p4 = collectives.group_partitions(4)
        self.assertEqual(p4, [(2, "contiguous", [[0, 1], [2, 3]]), (2, "strided", [[0, 2], [1, 3]]),
                              (4, "contiguous", [[0, 1, 2, 3]])])
        self.assertEqual(collectives.group_partitions(2), [(2, "contiguous", [[0, 1]])])
        sizes = collectives.message_sizes()
        self.assertEqual(sizes[0], 1024)
        self.assertEqual(sizes[-1], 1 << 30)

    def test_held_out_sizes_fall_strictly_between_the_grids_and_divide_into_ranks(self):
        grid = collectives.message_sizes()
        held = collectives.held_out_sizes()
        self.assertEqual(len(held), 20)
        for size in held:
            below = max(g for g in grid if g < size)
            self.assertLess(size, 2 * below)  # one between each pair of grid sizes
            self.assertEqual(size % (2 * 4 * 32), 0)  # whole bf16 elements for 4 ranks
        self.assertEqual(len(set(held)), len(held))
        self.assertEqual(collectives.HELD_OUT_OPS, ["all_reduce", "all_gather", "reduce_scatter", "all_to_all"])

    def test_gemm_held_out_shapes_are_not_the_grids_and_lie_inside_its_range(self):
        grid = gemm.gemm_grid()
        held = gemm.held_out_grid()
        self.assertEqual(len(held), 78)
        self.assertFalse(set(held) & set(grid))
        for m, n, k in held:
            self.assertIn(m, gemm.HELD_OUT_TOKENS)
            self.assertTrue(min(g[0] for g in grid) < m < max(g[0] for g in grid))
        self.assertEqual(held, sorted(held))

    def test_attention_held_out_cases_are_not_the_grids(self):
        grid = {(s, h, kv, d) for _, s, h, kv, d in attention.grid()}
        held = attention.held_out_grid()
        self.assertEqual(len(held), 12)
        for b, s, h, kv, d in held:
            self.assertNotIn((s, h, kv, d), grid)
            self.assertNotIn(s, attention.SEQS)
            self.assertTrue(min(attention.SEQS) < s < max(attention.SEQS))
            self.assertEqual(b, max(1, attention.TOKENS_PER_BATCH // s))

    def test_grouped_held_out_cases_sit_between_the_grids_token_counts(self):
        grid_tokens = {case[4] for case in grouped_gemm.grid()}
        held_tokens = {case[4] for case in grouped_gemm.grid(held_out=True)}
        self.assertEqual(grid_tokens, {4096, 8192, 16384})
        self.assertEqual(held_tokens, {5792, 11584})
        for tokens in held_tokens:
            self.assertEqual(tokens % grouped_gemm.UNIT, 0)
            self.assertTrue(any(a < tokens < b for a, b in [(4096, 8192), (8192, 16384)]))
        self.assertEqual(len(grouped_gemm.grid(held_out=True)), 2 * len(grouped_gemm.grid()) // 3)

    def test_nccl_choice_is_the_rows_most_common_logged_choice(self):
        log = "\n".join([
            "host:1:2 [0] NCCL INFO AllReduce: 4 Bytes -> Algo TREE proto LL channel{Lo..Hi}={0..0}",
            "host:1:2 [0] NCCL INFO AllReduce: 2097152 Bytes -> Algo RING proto SIMPLE channel{Lo..Hi}={0..23}",
            "host:1:2 [0] NCCL INFO AllReduce: 2097152 Bytes -> Algo RING proto SIMPLE channel{Lo..Hi}={0..23}",
            "host:1:2 [0] NCCL INFO AllReduce: 2097152 Bytes -> Algo RING proto LL128 channel{Lo..Hi}={0..15}",
            "host:1:2 [0] NCCL INFO AllGather: 1048576 Bytes -> Algo RING proto LL128 channel{Lo..Hi}={0..7}",
        ])
        # the barrier's 4-byte all-reduce is another size; the row's calls outvote a stray one
        self.assertEqual(collectives.nccl_choice(log, "all_reduce", 2097152, 2), ("RING", "SIMPLE", 24, 2))
        # all-gather is logged by its per-rank count: 2 MiB gathered on 2 GPUs is 1 MiB each
        self.assertEqual(collectives.nccl_choice(log, "all_gather", 2097152, 2), ("RING", "LL128", 8, 1))
        # point-to-point ops log no choice, nor does a size NCCL never logged
        self.assertIsNone(collectives.nccl_choice(log, "all_to_all", 2097152, 2))
        self.assertIsNone(collectives.nccl_choice(log, "reduce_scatter", 2097152, 2))
        self.assertIsNone(collectives.nccl_choice("", "all_reduce", 2097152, 2))

    def test_nccl_log_reads_what_came_after_the_mark(self):
        with tempfile.TemporaryDirectory() as d:
            log = collectives.NcclLog(os.path.join(d, "nccl.1.log"))
            self.assertEqual((log.mark(), log.since(0)), (0, ""))
            with open(log.path, "w") as f:
                f.write("before\n")
            mark = log.mark()
            with open(log.path, "a") as f:
                f.write("after\n")
            self.assertEqual(log.since(mark), "after\n")

    def test_run_plan_fits(self):
        steps = run.plan(common.FAMILIES, 540, False, 4)
        self.assertEqual(steps[-1][0], "collectives")
        total = sum(b for _, _, b in steps) + run.OVERHEAD_S * len(steps) + run.GRACE_S
        self.assertLessEqual(total, 540 + 1e-6)
        one = run.plan(common.FAMILIES, 540, False, 1)
        self.assertNotIn("collectives", [s for s, _, _ in one])


COLL_HEADER = "op,gpus,group,bytes,dtype,impl,median_us,p10_us,p90_us,algbw_GBps,busbw_GBps,samples"


def coll_table(d, name, date, rows, gpu="NVIDIA H100 80GB HBM3", header=COLL_HEADER, gpu_count="4"):
    """A collectives.csv as run.py writes it, with the given data lines."""
    meta = dict(META, gpu=gpu, gpu_count=gpu_count, date=date,
                command=f"python3 scripts/profile/run.py --out /tmp/{name} --families collectives")
    path = os.path.join(d, name)
    with open(path, "w") as f:
        for key in common.META_KEYS:
            f.write(f"# {key}: {meta[key]}\n")
        f.write(f"# units: {common.UNITS}\n{header}\n")
        f.write("".join(r + "\n" for r in rows))
    return path


class TestMergeTables(unittest.TestCase):
    OLD = ["all_reduce,2,contiguous,1048576,bf16,nccl,18.352,17.984,18.8,57.1,57.1,100",
           "all_reduce,2,contiguous,2097152,bf16,nccl,68.992,32.48,75.1,30.4,30.4,100",
           "all_to_all,4,contiguous,2097152,bf16,nccl,25.344,24.3456,26.1,82.7,62.1,100"]
    NEW = ["all_reduce,2,contiguous,2097152,bf16,nccl,33.392,32.1888,34.2,62.8,62.8,90",
           "all_reduce,2,contiguous,1048576,bf16,nccl,18.464,17.9808,19.0,56.8,56.8,100",
           "all_to_all,4,contiguous,2097152,bf16,nccl,185.744,24.6784,230.5,11.3,8.5,100",
           "all_to_all,4,contiguous,4194304,bf16,nccl,32.608,28.8608,33.0,128.6,96.5,100"]

    def merged(self, d, *paths):
        out = os.path.join(d, "merged.csv")
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(merge_tables.main(["--out", out, *paths]), 0)
        return out

    def test_keys_are_the_columns_that_are_not_measurements(self):
        self.assertEqual(merge_tables.key_columns(COLL_HEADER.split(",")),
                         ["op", "gpus", "group", "bytes", "dtype", "impl"])
        # interference.csv's alone_median_us sits left of median_us but is a measurement.
        interference = ("gpus,group,victim,gemm_m,gemm_n,gemm_k,coll_op,coll_bytes,dtype,impl,alone_median_us,"
                        "median_us,p10_us,p90_us,slowdown,samples").split(",")
        self.assertEqual(merge_tables.key_columns(interference)[-1], "impl")
        self.assertNotIn("alone_median_us", merge_tables.key_columns(interference))
        grouped = "experts,topk,tokens,m_total,dtype,impl,kernel,median_us,tflops,host_us,samples".split(",")
        self.assertEqual(merge_tables.key_columns(grouped), grouped[:7])

    def test_keeps_whole_row_with_smallest_median(self):
        with tempfile.TemporaryDirectory() as d:
            a = coll_table(d, "a.csv", "2026-11-27T17:08:44Z", self.OLD)
            b = coll_table(d, "b.csv", "2026-11-27T21:58:01Z", self.NEW)
            out = self.merged(d, a, b)
            _, _, _, rows = common.read_table(out)
            got = {(r["op"], r["gpus"], r["bytes"]): r for r in rows}
            self.assertEqual(len(rows), 4)  # the union of the cases
            # The disturbed 2 MiB all-reduce of the first run loses to the second, whole row.
            self.assertEqual(got[("all_reduce", "2", "2097152")],
                             dict(zip(COLL_HEADER.split(","), self.NEW[0].split(","))))
            self.assertEqual(got[("all_reduce", "2", "1048576")]["median_us"], "18.352")
            self.assertEqual(got[("all_to_all", "4", "2097152")]["p90_us"], "26.1")
            self.assertEqual(got[("all_to_all", "4", "4194304")]["median_us"], "32.608")  # only one run has it
            self.assertEqual(check.check_file(out), [])  # sorted, complete header

    def test_keep_middle_takes_the_middle_run_whole(self):
        """--keep middle (host tables): the run whose medians summed over the cases every run
        has are the middle, all its rows and remarks and no other run's."""
        with tempfile.TemporaryDirectory() as d:
            slow = [r.replace(",nccl,", ",nccl,1") for r in self.OLD]  # every median 100 us more
            a = coll_table(d, "a.csv", "2026-11-27T17:08:44Z", self.OLD)
            b = coll_table(d, "b.csv", "2026-11-27T21:58:01Z", self.NEW)
            c = coll_table(d, "c.csv", "2026-11-27T22:00:00Z", slow)
            with open(b) as f:
                text = f.read()
            with open(b, "w") as f:
                f.write(text.replace("# units:", "# all_to_all_in_context: x5.0\n# units:"))
            out = os.path.join(d, "merged.csv")
            with contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(merge_tables.main(["--out", out, "--keep", "middle", a, b, c]), 0)
            meta, _, _, rows = common.read_table(out)
            with open(out) as f:
                remarks = [line for line in f if line.startswith("# all_to_all_in_context")]
        # Shared cases: the two all-reduces and the 2 MiB all-to-all. Sums: a 112.7, b 237.6,
        # c 412.7: b is the middle run, kept whole with its 4 MiB all-to-all and remark.
        got = {(r["op"], r["gpus"], r["bytes"]): r["median_us"] for r in rows}
        self.assertEqual(got, {(line.split(",")[0], line.split(",")[1], line.split(",")[3]): line.split(",")[6]
                               for line in self.NEW})
        self.assertEqual(remarks, ["# all_to_all_in_context: x5.0\n"])
        self.assertIn("one run whole", meta["notes"])
        self.assertIn("4 from b.csv", meta["notes"])

    def test_ties_go_to_the_first_input(self):
        with tempfile.TemporaryDirectory() as d:
            a = coll_table(d, "a.csv", "2026-01-01T00:00:00Z", ["send_recv,2,contiguous,1024,bf16,nccl,9,8,10,1,1,50"])
            b = coll_table(d, "b.csv", "2026-01-02T00:00:00Z", ["send_recv,2,contiguous,1024,bf16,nccl,9,7,11,1,1,60"])
            _, _, _, rows = common.read_table(self.merged(d, a, b))
            self.assertEqual(rows[0]["samples"], "50")

    def test_header_lists_dates_command_and_inputs(self):
        with tempfile.TemporaryDirectory() as d:
            a = coll_table(d, "a.csv", "2026-11-27T17:08:44Z", self.OLD, gpu_count="2")
            b = coll_table(d, "b.csv", "2026-11-27T21:58:01Z", self.NEW)
            out = self.merged(d, a, b)
            with open(out) as f:
                lines = f.read().splitlines()
            meta, _, header, _ = common.read_table(out)
            self.assertEqual(lines[0], "# gpu: NVIDIA H100 80GB HBM3")
            self.assertEqual(meta["date"], "2026-11-27T17:08:44Z, 2026-11-27T21:58:01Z")
            self.assertEqual(meta["command"], f"python3 scripts/profile/merge_tables.py --out {out} {a} {b}")
            self.assertEqual(meta["gpu_count"], "4")
            self.assertEqual(meta["nccl"], META["nccl"])
            merged_from = [l for l in lines if l.startswith("# merged_from:")]
            self.assertEqual(merged_from, [
                f"# merged_from: {a}; date 2026-11-27T17:08:44Z; command python3 scripts/profile/run.py "
                "--out /tmp/a.csv --families collectives",
                f"# merged_from: {b}; date 2026-11-27T21:58:01Z; command python3 scripts/profile/run.py "
                "--out /tmp/b.csv --families collectives"])
            self.assertIn("rows kept: 2 from a.csv, 2 from b.csv", meta["notes"])
            self.assertEqual(",".join(header), COLL_HEADER)

    def run_main(self, args):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = merge_tables.main(args)
        return code, err.getvalue()

    def test_rejects_another_gpu(self):
        with tempfile.TemporaryDirectory() as d:
            a = coll_table(d, "a.csv", "2026-01-01T00:00:00Z", self.OLD)
            b = coll_table(d, "b.csv", "2026-01-02T00:00:00Z", self.NEW, gpu="NVIDIA H200")
            code, err = self.run_main(["--out", os.path.join(d, "m.csv"), a, b])
            self.assertEqual(code, 2)
            # The '# gpu:' line is the file's first; its value starts at column 8.
            self.assertEqual(err, f"{b}:1:8: error: measured on 'NVIDIA H200', but {a} on "
                                  "'NVIDIA H100 80GB HBM3'; merge only runs of one GPU\n")
            self.assertFalse(os.path.exists(os.path.join(d, "m.csv")))

    def test_rejects_other_columns(self):
        with tempfile.TemporaryDirectory() as d:
            a = coll_table(d, "a.csv", "2026-01-01T00:00:00Z", self.OLD)
            short = COLL_HEADER.replace(",samples", "")
            b = coll_table(d, "b.csv", "2026-01-02T00:00:00Z", [r.rsplit(",", 1)[0] for r in self.NEW], header=short)
            code, err = self.run_main([a, b])
            self.assertEqual(code, 2)
            header_line = len(common.META_KEYS) + 2  # the metadata, the units, then the header
            self.assertEqual(err, f"{b}:{header_line}:1: error: columns {short} differ from {a}'s {COLL_HEADER}; "
                                  "merge only runs of one table family\n")

    def test_rejects_a_case_measured_twice_in_one_run(self):
        with tempfile.TemporaryDirectory() as d:
            a = coll_table(d, "a.csv", "2026-01-01T00:00:00Z", self.OLD + self.OLD[:1])
            b = coll_table(d, "b.csv", "2026-01-02T00:00:00Z", self.NEW)
            code, err = self.run_main([a, b])
            self.assertEqual(code, 2)
            first, again = len(common.META_KEYS) + 3, len(common.META_KEYS) + 3 + len(self.OLD)
            self.assertTrue(err.startswith(f"{a}:{again}:1: error: a second row for "), err)
            self.assertIn(f"(the first is on line {first}); a run must measure each case once", err)

    def test_points_at_a_median_that_is_not_a_number(self):
        with tempfile.TemporaryDirectory() as d:
            bad = self.NEW[0].split(",")
            bad[6] = "fast"
            a = coll_table(d, "a.csv", "2026-01-01T00:00:00Z", self.OLD)
            b = coll_table(d, "b.csv", "2026-01-02T00:00:00Z", [",".join(bad)] + self.NEW[1:])
            code, err = self.run_main([a, b])
            self.assertEqual(code, 2)
            column = len(",".join(bad[:6])) + 2  # the cell after six cells and their commas
            self.assertTrue(err.startswith(f"{b}:{len(common.META_KEYS) + 3}:{column}: error: median_us 'fast' of "), err)
            self.assertTrue(err.endswith("is not a number; fix or remeasure the row\n"), err)

    def test_needs_two_tables(self):
        with tempfile.TemporaryDirectory() as d:
            a = coll_table(d, "a.csv", "2026-01-01T00:00:00Z", self.OLD)
            code, err = self.run_main([a])
            self.assertEqual(code, 2)
            self.assertIn("at least two tables", err)


@unittest.skipUnless(importlib.util.find_spec("torch"), "torch is not installed")
class TestGemmCaseOnCPU(unittest.TestCase):
    """gemm.make_case: with A warmed before each product or not, a set's product is the
    same every time it is called (the warming leaves A's values as they were)."""

    def test_bursts_and_pauses_must_be_positive(self):
        import contextlib
        import io
        for flags in (["--burst-ms", "0"], ["--cooldown-ms", "-1"]):
            with contextlib.redirect_stderr(io.StringIO()) as err, self.assertRaises(SystemExit) as raised:
                gemm.main(["--out", "unused"] + flags)
            self.assertEqual(raised.exception.code, 2)
            self.assertIn("--burst-ms must be above 0 and --cooldown-ms at least 0", err.getvalue())

    def test_warm_activations_keep_the_product(self):
        import types
        import torch
        ctx = types.SimpleNamespace(torch=torch, device=torch.device("cpu"), l2_bytes=1 << 10)
        for warm in (True, False):
            torch.manual_seed(0)
            impl, call = gemm.make_case(ctx, "bf16", 8, 16, 32, warm_activations=warm)
            first = call(0)()
            again = call(0)()  # the same set after its A was touched once more
            self.assertEqual(impl, "torch.mm")
            self.assertTrue(torch.equal(first, again))
            self.assertEqual(tuple(first.shape), (8, 16))


class KeptRows:
    """Stands in for common.Table in host.py's tests: keeps the rows it is given."""

    def __init__(self):
        self.rows = []

    def add(self, **row):
        self.rows.append(row)


@contextlib.contextmanager
def host_on_cpu():
    """host.py's measurements on the CPU for the duration (its DEVICE is a module global)."""
    saved = host.DEVICE
    host.DEVICE = "cpu"
    try:
        yield
    finally:
        host.DEVICE = saved


class TestHostAnchor(unittest.TestCase):
    """The collectives' in-context ratio is measured against the `layer_llama` row, so that
    the simulator's TP layer (op rows plus two all-reduces a pass) costs what the TP layer
    measured; `--reanchor` re-derives an older table's rows from its own figures."""

    # chain figures 50 us forward, 60 backward at every size; layers: plain 900 / 1500,
    # TP 1500 / 2100, so 300 us an all-reduce in context either pass: x6 and x5.
    TABLE = [
        "# gpu: NVIDIA H100 80GB HBM3",
        "# collectives_in_context: collective rows times the TP layer's in-context ratio: "
        "forward x2.000, backward x10.000, other calls x6.000",
        "op,pass,bytes,median_us,p10_us,p90_us,chain_short,chain_long,samples",
        "all_gather,call,2048,240,180,300,8,40,15",
        "all_gather,fwd,2048,333,330,336,8,40,15",
        "all_to_all,fwd,2048,400,390,410,8,40,15",
        "all_reduce,bwd,2048,600,500,700,8,40,15",
        "all_reduce,bwd,262144,600,500,700,8,40,15",
        "all_reduce,fwd,2048,100,90,110,8,40,15",
        "all_reduce,fwd,262144,100,90,110,8,40,15",
        "gemm,fwd,0,30,29,31,8,40,15",
        "layer_llama,bwd,0,1500,1400,1600,8,40,15",
        "layer_llama,fwd,0,900,850,950,8,40,15",
        "layer_llama_tp2,bwd,0,2100,2000,2200,8,40,15",
        "layer_llama_tp2,fwd,0,1500,1400,1600,8,40,15",
    ]

    def test_moe_rows_make_the_moe_layer_cost_what_it_measured(self):
        rows = {op: 10.0 for op in host.MOE_LAYER}  # 15 ops: 10 shared, 5 of MoE's own
        ratio = host.moe_ratio(layer=300.0, rows=rows, ratio=2.0)  # the shared ones: 10 x 10 x 2 = 200
        self.assertAlmostEqual(ratio, 2.0)
        self.assertAlmostEqual(host.moe_ratio(layer=450.0, rows=rows, ratio=2.0), 5.0)
        self.assertEqual(host.moe_ratio(layer=150.0, rows=rows, ratio=2.0), 2.0)  # below the rest alone: noise

    def test_sp_ratios_share_the_layer_among_its_four_calls(self):
        # SP layer 900 + 4 x 100 forward and 1500 + 4 x 120 backward; chains 40 (gather) and
        # 60 (scatter): x2 and x2.4. A pass measured below the plain layer falls back.
        seq = host.sp_ratios({"fwd": 1300, "bwd": 1980}, {"fwd": 900, "bwd": 1500}, 40.0, 60.0, fallback=5.5)
        self.assertAlmostEqual(seq["fwd"], 2.0)
        self.assertAlmostEqual(seq["bwd"], 2.4)
        self.assertEqual(host.sp_ratios({"fwd": 880, "bwd": 1980}, {"fwd": 900, "bwd": 1500}, 40.0, 60.0, 5.5)["fwd"], 5.5)

    def test_ratios_take_the_plain_layer_as_baseline(self):
        ratios = host.collective_ratios({"fwd": 1500, "bwd": 2100}, {"fwd": 900, "bwd": 1500}, {"fwd": 50, "bwd": 60})
        self.assertEqual(ratios, {"fwd": 6.0, "bwd": 5.0, "call": 5.5})

    def test_reanchor_scales_collective_rows_only_and_is_idempotent(self):
        a = host.anchor_table(list(self.TABLE), "test")
        lines = a.lines
        self.assertEqual(a.old, {"fwd": 2.0, "bwd": 10.0, "call": 6.0})
        self.assertEqual(a.new, {"fwd": 6.0, "bwd": 5.0, "call": 5.5})
        self.assertEqual(a.chain, {"fwd": 50.0, "bwd": 60.0})
        self.assertEqual(a.beside, {"fwd": 1300.0, "bwd": 900.0})  # TP layer less two all-reduces at the old ratio
        rows = {tuple(line.split(",")[:3]): line.split(",")[3:6] for line in lines if not line.startswith(("#", "op,"))}
        self.assertEqual(rows[("all_reduce", "fwd", "2048")], ["300", "270", "330"])
        self.assertEqual(rows[("all_reduce", "bwd", "262144")], ["300", "250", "350"])
        self.assertEqual(rows[("all_gather", "call", "2048")], ["220", "165", "275"])
        self.assertEqual(rows[("gemm", "fwd", "0")], ["30", "29", "31"])
        self.assertEqual(rows[("all_to_all", "fwd", "2048")], ["400", "390", "410"])  # anchored on the MoE layer
        self.assertEqual(rows[("all_gather", "fwd", "2048")], ["333", "330", "336"])  # anchored on the SP layer
        self.assertEqual(rows[("layer_llama_tp2", "bwd", "0")], ["2100", "2000", "2200"])
        self.assertIn("forward x6.000, backward x5.000, other calls x5.500", lines[1])
        self.assertTrue(lines[2].startswith("# reanchored: test; collective ratios were forward x2.000"))
        again = host.anchor_table(list(lines), "second")
        self.assertEqual((again.lines, again.new), (lines, a.new))

    def test_a_table_without_its_ratios_or_layers_is_refused(self):
        with self.assertRaisesRegex(ValueError, "collectives_in_context"):
            host.anchor_table([line for line in self.TABLE if "collectives_in_context" not in line], "test")
        with self.assertRaisesRegex(ValueError, "layer_llama_tp"):
            host.anchor_table([line for line in self.TABLE if "layer_llama_tp2" not in line], "test")

    def test_reanchor_command_reports_a_bad_table_with_exit_status_2(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "host.csv")
            with open(path, "w") as f:
                f.write("\n".join(self.TABLE[:1] + self.TABLE[2:]) + "\n")
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                self.assertEqual(host.main(["--reanchor", path]), 2)
            self.assertIn(f"{path}: error: cannot re-anchor", err.getvalue())
            missing = os.path.join(d, "none.csv")
            with contextlib.redirect_stderr(io.StringIO()) as err:
                self.assertEqual(host.main(["--reanchor", missing]), 2)
            self.assertIn(f"{missing}: error: cannot read the table", err.getvalue())


class TestHostSpread(unittest.TestCase):
    """host_spread.py's figures from each process's rounds (worked by hand)."""

    def test_the_slowest_process_over_the_median(self):
        rounds = [[(100.0, 200.0), (110.0, 210.0)], [(150.0, 200.0), (120.0, 300.0)], [(100.0, 190.0), (100.0, 200.0)]]
        s = host_spread.summarize(rounds)
        self.assertEqual([q["fwd_us"] for q in s["per_process"]], [105.0, 135.0, 100.0])
        self.assertAlmostEqual(s["slowest_over_median"]["fwd"], 135.0 / 105.0)
        self.assertAlmostEqual(s["slowest_over_median"]["bwd"], 250.0 / 205.0)
        # Round 1 forward: 150 over the median 100; round 2 backward: 300 over 210.
        self.assertEqual(s["round_slowest_over_median"]["fwd"][0], 1.5)
        self.assertAlmostEqual(s["round_slowest_over_median"]["bwd"][1], 300.0 / 210.0)
        self.assertIsNone(host_spread.slowest_over_median([-5.0, -1.0, 3.0]), "a median lost in noise")

    def test_show_reprints_a_saved_run_and_refuses_another_file(self):
        saved = {"per_process": [{"fwd_us": 528.5, "bwd_us": 897.7}, {"fwd_us": 710.3, "bwd_us": 936.7}],
                 "slowest_over_median": {"fwd": 1.1468, "bwd": None}}
        with tempfile.TemporaryDirectory() as d:
            path, other = os.path.join(d, "spread.json"), os.path.join(d, "other.json")
            with open(path, "w") as f:
                json.dump(saved, f)
            with open(other, "w") as f:
                json.dump({"gpu": "x"}, f)
            with contextlib.redirect_stdout(io.StringIO()) as out:
                self.assertEqual(host_spread.main(["--show", path]), 0)
            with contextlib.redirect_stderr(io.StringIO()) as err, contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(host_spread.main(["--show", other]), 2)
        self.assertEqual(out.getvalue().splitlines()[1:], [
            "[spread] process 0: layer 528.5 us forward, 897.7 us backward",
            "[spread] process 1: layer 710.3 us forward, 936.7 us backward",
            "[spread] slowest process over the median: forward x1.147, backward -"])
        self.assertTrue(err.getvalue().startswith(f"{other}: error: cannot read a host_spread.py result"))

    def test_host_scale_is_the_slower_of_forward_and_backward(self):
        """--host-scale: the factor on_this_machine.sh gives simulate validate --host-scale,
        the larger figure (a pass lost in noise left out); none at all is a located error."""
        with tempfile.TemporaryDirectory() as d:
            path, noise = os.path.join(d, "spread.json"), os.path.join(d, "noise.json")
            with open(path, "w") as f:
                json.dump({"slowest_over_median": {"fwd": 1.6561, "bwd": 1.25}}, f)
            with open(noise, "w") as f:
                json.dump({"slowest_over_median": {"fwd": None, "bwd": None}}, f)
            with contextlib.redirect_stdout(io.StringIO()) as out:
                self.assertEqual(host_spread.main(["--host-scale", path]), 0)
            with contextlib.redirect_stderr(io.StringIO()) as err:
                self.assertEqual(host_spread.main(["--host-scale", noise]), 2)
        self.assertEqual(out.getvalue(), "1.656\n")
        self.assertTrue(err.getvalue().startswith(f"{noise}: error: no host scale in it"))

    def test_bad_arguments_are_refused_before_anything_runs(self):
        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stderr(io.StringIO()) as err:
            out = os.path.join(d, "spread.json")
            self.assertEqual(host_spread.main(["--out", out, "--rounds", "0"]), 2)
            self.assertEqual(host_spread.main(["--out", out, "--processes", "1"]), 2)
            self.assertFalse(os.path.exists(out))
        self.assertIn("host_spread.py: error:", err.getvalue())


class TestCpuSpeed(unittest.TestCase):
    """cpu_speed.py: /proc/stat's steal read per CPU, one timing per CPU with the process
    pinned there and its affinity given back, and the figures a run prints (worked by hand)."""

    def test_steal_is_the_eighth_value_of_each_cpu_line(self):
        stat = "cpu  1 2 3 4 5 6 7 99 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\ncpu12 1 1 1 1 1 1 1 40 0 0\nintr 5\n"
        self.assertEqual(cpu_speed.steal_jiffies(stat), {0: 8, 12: 40})

    def test_sweep_pins_to_each_cpu_and_restores_the_affinity(self):
        pinned = []
        allowed = os.sched_getaffinity(0)
        timings = iter([600.0, 1100.0])
        out = cpu_speed.sweep([3, 5], 7, pin=lambda pid, cpus: pinned.append(set(cpus)),
                              time_loop=lambda repeats: next(timings))
        self.assertEqual(out, {3: 600.0, 5: 1100.0})
        self.assertEqual(pinned, [{3}, {5}, allowed])

    def test_rank_correlation_of_rounds(self):
        a = {0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0}
        self.assertEqual(cpu_speed.rank_correlation(a, a), 1.0)
        self.assertEqual(cpu_speed.rank_correlation(a, {0: 4.0, 1: 3.0, 2: 2.0, 3: 1.0}), -1.0)
        self.assertIsNone(cpu_speed.rank_correlation({0: 1.0, 1: 2.0}, {0: 1.0, 1: 2.0}))

    def test_summary_names_the_cpus_slow_in_every_round(self):
        out = {"loop_us": [{0: 600.0, 1: 610.0, 2: 1200.0}, {0: 630.0, 1: 600.0, 2: 1180.0}],
               "steal_s": {0: 0.0, 1: 0.25, 2: 0.0},
               "layer": [{"cpu": 2, "loop_us": 1200.0, "fwd_us": 480.0, "bwd_us": 900.0}]}
        lines = cpu_speed.summary_lines(out)
        self.assertEqual(lines[0], "[cpus] round 1: loop 600.0 / 610.0 / 1200.0 us (fastest / median / slowest CPU), "
                                   "slowest x1.97 the median")
        self.assertEqual(lines[2], "[cpus] rank correlation of round 1 and round 2: 0.50")
        self.assertEqual(lines[3], "[cpus] slow (x1.2 the median or more) in every round: [2]")
        self.assertEqual(lines[4], "[cpus] steal over the sweep: 0.25 s in all; most: cpu 1 0.25 s, cpu 0 0.00 s, cpu 2 0.00 s")
        self.assertEqual(lines[5], "[cpus] cpu 2 (loop 1200.0 us): layer 480.0 us forward, 900.0 us backward")

    def test_paired_samples_split_by_the_loop_beside_them(self):
        pairs = [{"loop_before_us": 600.0, "fwd_us": 450.0, "bwd_us": 900.0, "loop_after_us": 620.0},
                 {"loop_before_us": 610.0, "fwd_us": 470.0, "bwd_us": 1000.0, "loop_after_us": 600.0},
                 {"loop_before_us": 1150.0, "fwd_us": 800.0, "bwd_us": 950.0, "loop_after_us": 1100.0}]
        fwd, bwd = cpu_speed.paired_lines(pairs)
        self.assertTrue(fwd.startswith("[cpus] paired forward: correlation with the loop 1.00; "
                                       "layer median 460.0 us over 2 samples with the loop fast, 800.0 us over 1 with it slow"), fwd)
        self.assertIn("layer median 950.0 us over 2 samples with the loop fast, 950.0 us over 1", bwd)
        self.assertIsNone(cpu_speed.pearson([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))

    def test_two_levels_are_told_apart(self):
        self.assertEqual(cpu_speed.levels([600.0, 620.0, 640.0, 1150.0, 1170.0]), (3, 620.0, 2, 1160.0))
        self.assertIsNone(cpu_speed.levels([600.0, 610.0, 650.0]), "one level")
        self.assertEqual(cpu_speed.level_lines({"loop_us": [{0: 600.0, 1: 1200.0}]}),
                         ["[cpus] round 1 levels: 1 CPUs at 600 us, 1 at 1200 us (x2.00)"])

    def test_show_reprints_a_saved_run(self):
        with tempfile.TemporaryDirectory() as d:
            path, other = os.path.join(d, "cpus.json"), os.path.join(d, "other.json")
            with open(path, "w") as f:
                json.dump({"cpus": [0, 1], "loop_us": [{"0": 600.0, "1": 1200.0}], "steal_s": {"0": 0.0, "1": 0.0}}, f)
            with open(other, "w") as f:
                json.dump({"per_process": []}, f)
            with contextlib.redirect_stdout(io.StringIO()) as out:
                self.assertEqual(cpu_speed.main(["--show", path]), 0)
            with contextlib.redirect_stderr(io.StringIO()) as err:
                self.assertEqual(cpu_speed.main(["--show", other]), 2)
        self.assertIn("[cpus] round 1 levels: 1 CPUs at 600 us, 1 at 1200 us (x2.00)", out.getvalue())
        self.assertTrue(err.getvalue().startswith(f"{other}: error: cannot read a cpu_speed.py result"))

    def test_a_sibling_is_slow_in_every_sweep(self):
        rounds = [{1: 600.0, 2: 1150.0, 3: 1100.0}, {1: 610.0, 2: 1120.0, 3: 640.0}, {1: 1200.0, 2: 1180.0, 3: 600.0}]
        self.assertEqual(cpu_speed.slowed_beside(rounds), [2])
        self.assertEqual(cpu_speed.slowed_beside(rounds[:1]), [2, 3])

    def test_a_run_writes_its_rounds_and_refuses_bad_counts(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "cpus.json")
            with contextlib.redirect_stdout(io.StringIO()) as printed:
                self.assertEqual(cpu_speed.main(["--out", out, "--rounds", "2", "--repeats", "1"]), 0)
            with open(out) as f:
                result = json.load(f)
            self.assertEqual(len(result["loop_us"]), 2)
            self.assertEqual(sorted(int(c) for c in result["loop_us"][0]), sorted(os.sched_getaffinity(0)))
            self.assertIn("[cpus] round 2:", printed.getvalue())
            with contextlib.redirect_stderr(io.StringIO()) as err:
                self.assertEqual(cpu_speed.main(["--out", out, "--rounds", "0"]), 2)
                self.assertEqual(cpu_speed.main(["--out", out, "--rounds", "1", "--repeats", "1", "--siblings", "100000"]), 2)
            self.assertIn("cpu_speed.py: error:", err.getvalue())
            self.assertIn("--siblings names CPUs this process may not use", err.getvalue())


class TestHostSpreadPinning(unittest.TestCase):
    def test_cpu_sets_one_a_process(self):
        self.assertEqual(host_spread.parse_cpu_sets("0-1;32,33;7"), [{0, 1}, {32, 33}, {7}])
        with self.assertRaises(ValueError):
            host_spread.parse_cpu_sets("0;;2")


class TestTrainingGap(unittest.TestCase):
    def test_the_mean_positive_gap_between_consecutive_events(self):
        # Out of order on input; gaps of 1.5 and 2.5 us, and an overlap that is no gap.
        spans = [(11.5, 16.5), (0.0, 10.0), (19.0, 25.0), (24.0, 30.0)]
        self.assertAlmostEqual(launch.mean_gap(spans), 2.0)
        self.assertTrue(math.isnan(launch.mean_gap([(0.0, 1.0)])))


class TestHostPairs(unittest.TestCase):
    """A layer with collectives, timed in turn with its twin without, carried onto the
    baseline row by each pair's ratio (worked by hand): the host's drift between the pair
    and the baseline's own timing cancels."""

    def test_each_pair_carries_its_ratio_onto_the_baseline(self):
        # Repeat 1 on a fast stretch (with 300 / without 200 forward), repeat 2 on one twice
        # as slow (600 / 400): both say the collectives add half the layer.
        pairs = [((300.0, 900.0), (200.0, 600.0)), ((600.0, 1800.0), (400.0, 1200.0))]
        carried = host.paired_onto(pairs, {"fwd": 100.0, "bwd": 250.0})
        self.assertEqual(carried, {"fwd": [150.0, 150.0], "bwd": [375.0, 375.0]})

    def test_a_twin_that_timed_nothing_is_left_out(self):
        pairs = [((300.0, 900.0), (200.0, -5.0)), ((600.0, 1800.0), (400.0, 1200.0))]
        carried = host.paired_onto(pairs, {"fwd": 100.0, "bwd": 250.0})
        self.assertEqual(carried["bwd"], [375.0])
        # No usable twin at all: the layer's own samples stand.
        alone = host.paired_onto([((300.0, 900.0), (0.0, -1.0))], {"fwd": 100.0, "bwd": 250.0})
        self.assertEqual(alone, {"fwd": [300.0], "bwd": [900.0]})


@unittest.skipUnless(importlib.util.find_spec("torch"), "torch is not installed")
class TestHostCollectivesOnCPU(unittest.TestCase):
    """host.py's collective rows on two CPU processes (gloo): the all-reduce and the other
    calls scaled by the TP layer, the all-to-all per pass by the MoE layer with its experts
    spread over both (the figures themselves mean nothing on CPU)."""

    def test_every_collective_gets_its_rows(self):
        rows = KeptRows()
        layers = types.SimpleNamespace(llama={"fwd": 100.0, "bwd": 200.0}, moe={"fwd": 150.0, "bwd": 300.0})
        with host_on_cpu(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            ratios, a2a, seq = host.measure_collectives(rows, 2, 2, layers, sizes=[2 << 10, 256 << 10])
        self.assertEqual(set(ratios), {"fwd", "bwd", "call"})
        self.assertEqual(set(a2a), {"fwd", "bwd"})
        self.assertEqual(set(seq), {"fwd", "bwd"})
        self.assertTrue(all(math.isfinite(r) for r in seq.values()), seq)  # CPU timings: sign is noise
        keys = {(r["op"], r["pass"], r["bytes"]) for r in rows.rows}
        for nbytes in (2 << 10, 256 << 10):
            for op in ("all_reduce", "all_to_all", "all_gather", "reduce_scatter"):
                self.assertTrue({(op, p, nbytes) for p in ("fwd", "bwd")} <= keys, (op, nbytes))
                self.assertNotIn((op, "call", nbytes), keys)
        layer_rows = {r["op"] for r in rows.rows if r["bytes"] == 0}
        self.assertEqual(layer_rows, {"layer_llama_tp2", "layer_moe_ep2", "layer_llama_sp2", "layer_llama_fsdp2",
                                      "layer_llama_fsdp2_no_sync", "fsdp_unit", "fsdp_unit_no_sync"})
        # What FSDP2's hooks cost a unit: its layer's row less the layer_llama baseline.
        by_key = {(r["op"], r["pass"]): r for r in rows.rows if r["bytes"] == 0}
        for layer, unit in (("layer_llama_fsdp2", "fsdp_unit"), ("layer_llama_fsdp2_no_sync", "fsdp_unit_no_sync")):
            for p in ("fwd", "bwd"):
                self.assertAlmostEqual(by_key[(unit, p)]["median_us"],
                                       by_key[(layer, p)]["median_us"] - layers.llama[p], places=6)
                self.assertEqual((by_key[(unit, p)]["chain_short"], by_key[(unit, p)]["chain_long"]),
                                 (host.FSDP_SHORT, host.FSDP_LONG))


@unittest.skipUnless(importlib.util.find_spec("torch"), "torch is not installed")
class TestHostOnCPU(unittest.TestCase):
    """host.py's chains on CPU: every op and pass gets a row, finite, with the composite
    rows' contents subtracted, and the runner's LLaMA layer timed in context and each row
    scaled by its pass's ratio (the figures themselves mean nothing on CPU)."""

    def test_every_op_gets_a_row(self):
        rows = KeptRows()
        with host_on_cpu(), contextlib.redirect_stdout(io.StringIO()):
            raw, medians = host.measure_ops(repeats=2)
            layers = host.measure_layers(rows, 2, medians)
            ratios = layers.ratios
            host.write_ops(rows, raw, medians, {"fwd": 1.0, "bwd": 1.0})
            unscaled = {(r["op"], r["pass"]): r["median_us"] for r in rows.rows}
            before = len(rows.rows)
            host.write_ops(rows, raw, medians, {"fwd": 2.0, "bwd": 3.0}, {"fwd": 5.0, "bwd": 7.0})
        self.assertEqual(set(ratios), {"fwd", "bwd"})
        self.assertTrue(all(math.isfinite(r) for r in ratios.values()), ratios)  # CPU timings: sign is noise
        for name, medians_of in (("layer_llama", layers.llama), ("layer_moe", layers.moe)):
            layer_rows = {r["pass"]: r["median_us"] for r in rows.rows if r["op"] == name}
            self.assertEqual(medians_of, layer_rows)  # the baselines the collectives are measured against
        self.assertEqual(set(layers.moe_ratios), {"fwd", "bwd"})
        keys = {(r["op"], r["pass"]) for r in rows.rows}
        expected = {(op, p) for op in host.OPS for p in ("fwd", "bwd")} - {("accumulate", "fwd")}
        self.assertEqual(keys, expected | {(layer, p) for layer in ("layer_llama", "layer_moe") for p in ("fwd", "bwd")})
        for row in rows.rows[before:]:
            own = row["op"] in host.MOE_OWN
            factor = (5.0 if own else 2.0) if row["pass"] == "fwd" else (7.0 if own else 3.0)
            self.assertAlmostEqual(row["median_us"], factor * unscaled[(row["op"], row["pass"])], places=6)
        for row in rows.rows:
            self.assertTrue(all(isinstance(row[k], float) and row[k] == row[k] for k in ("median_us", "p10_us", "p90_us")), row)
            lengths = (host.LAYER_SHORT, host.LAYER_LONG) if row["op"].startswith("layer_") else (host.SHORT, host.LONG)
            self.assertEqual((row["bytes"], row["chain_short"], row["chain_long"], row["samples"]), (0, *lengths, 2))


if __name__ == "__main__":
    unittest.main()
