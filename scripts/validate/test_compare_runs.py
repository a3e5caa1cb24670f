"""compare_runs.py: each plan's change against the reference, and bad folders rejected
with the file and what to give instead."""

import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compare_runs  # noqa: E402

HEADER = "strategy,gpus,iteration_time_s,p10_s,p90_s\n"


def folder(root, name, rows):
    path = os.path.join(root, name)
    os.makedirs(path)
    with open(os.path.join(path, "measurements.csv"), "w") as f:
        f.write("# gpu: NVIDIA H100 80GB HBM3\n" + HEADER + "".join(rows))
    return path


class TestCompareRuns(unittest.TestCase):
    def run_main(self, args, stderr=None):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(stderr or io.StringIO()):
            code = compare_runs.main(args)
        return code, out.getvalue()

    def test_changes_against_the_reference(self):
        with tempfile.TemporaryDirectory() as d:
            a = folder(d, "a", ["x,1,0.200,0,0\n", "y,2,0.100,0,0\n"])
            b = folder(d, "b", ["x,1,0.210,0,0\n"])
            code, out = self.run_main([a, b])
            self.assertEqual(code, 0)
            lines = out.splitlines()
            self.assertEqual(lines[1].split(), ["x", "200.0", "ms", "+5.0", "%"])
            self.assertEqual(lines[2].split(), ["y", "100.0", "ms", "-"])

    def test_a_folder_without_measurements_is_an_error_with_the_file(self):
        with tempfile.TemporaryDirectory() as d:
            a = folder(d, "a", ["x,1,0.200,0,0\n"])
            err = io.StringIO()
            code, _ = self.run_main([a, os.path.join(d, "missing")], err)
            self.assertEqual(code, 2)
            self.assertEqual(err.getvalue().strip(), f"{os.path.join(d, 'missing', 'measurements.csv')}: error: cannot read: "
                                                     "No such file or directory; give a folder run_all.py wrote")


    def test_run_results_by_folder_or_glob_in_milliseconds(self):
        """run.py's result files stand in for a measurements.csv, named after their plan up
        to the first dot; files without a median (profile summaries) are passed over."""
        with tempfile.TemporaryDirectory() as d:
            a = folder(d, "a", ["x,1,0.200,0,0\n", "y,2,0.100,0,0\n"])
            runs = os.path.join(d, "runs")
            os.makedirs(runs)
            for name, body in (("x.r1.json", '{"median_s": 0.25}'), ("x.r2.json", '{"median_s": 0.3}'),
                               ("x.rank0.json", '{"wall_us": 1}')):
                with open(os.path.join(runs, name), "w") as f:
                    f.write(body)
            code, out = self.run_main(["--ms", a, os.path.join(runs, "*.r2.json")])
            self.assertEqual(code, 0)
            self.assertEqual(out.splitlines()[1].split(), ["x", "200.0", "ms", "300.0", "ms"])
            err = io.StringIO()
            code, _ = self.run_main([a, os.path.join(runs, "*.r9.json")], err)
            self.assertEqual(code, 2)
            self.assertIn("*.r9.json: error: no measurements.csv and no run.py result files", err.getvalue())


if __name__ == "__main__":
    unittest.main()
