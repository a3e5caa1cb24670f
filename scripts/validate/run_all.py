"""Run every plan of a folder with run.py on this machine's GPUs and write one table.

    python3 scripts/validate/run_all.py PLANS_DIR --out DIR [--iterations 10] [--warmup 3]
        [--smoke-first] [--only a,b] [--gpus N] [--time-limit S] [--plan-timeout S] [--launches K]
    python3 scripts/validate/run_all.py --aggregate DIR     (rebuild DIR/measurements.csv)

A plan of n GPUs runs on the first n (CUDA_VISIBLE_DEVICES=0..n-1), one plan at a time, so
timings see an otherwise idle machine.  `--smoke-first` first runs a small copy of every
plan for one iteration (run.py --smoke), several at once on disjoint GPUs, and leaves out
of the measured run any plan whose smoke failed.  Each run is a process group of its own,
stopped (SIGTERM, then SIGKILL) at --plan-timeout; no plan starts once the time left is
below --plan-timeout.  Results: DIR/results/NAME.json (+ NAME.log), DIR/status.json and
DIR/measurements.csv built from every result in DIR/results, so a later run of the
failed plans into the same DIR merges into the table.

`--launches K` runs each plan K times, each in processes of its own, in rounds (every plan
once, then every plan again), because a plan paced by its host runs at the speed of the
processes it happens to get: on one H200 machine the same layer's host time differed 1.6x
between four processes started together, and which process was slow changed from one
launch to the next (docs/accuracy.md, "The host's spread between processes"). Each launch
is kept as DIR/results/launches/NAME.launchJ.json; DIR/results/NAME.json is the launch whose
median is the middle one, with every launch's times under "launches", and the table's row
is the median of the launches' medians, p10 and p90 over all their iterations pooled, and
the count of launches in its `launches` column.
"""

import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from plan import common  # noqa: E402

COLUMNS = ("strategy", "gpus", "iteration_time_s", "p10_s", "p90_s", "iterations",
           "peak_allocated_bytes", "peak_reserved_bytes", "loss_first", "loss_last", "launches")
LAUNCH_FIELDS = ("median_s", "p10_s", "p90_s", "iterations", "iteration_times_s", "host_issue_s",
                 "host_forward_s", "host_backward_s", "date")
MIN_PLAN_S = 40  # no plan starts with less time than this left
META = ("gpu", "driver", "cuda", "torch", "nccl", "date", "command")


def gpu_count():
    """GPUs nvidia-smi lists (0 when it is missing)."""
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
        return sum(1 for line in out.splitlines() if line.startswith("GPU "))
    except Exception:
        return 0


def plan_names(plans_dir, only):
    names = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(plans_dir, "*.json")))
    if only:
        wanted = [n for n in only.split(",") if n]
        missing = [n for n in wanted if n not in names]
        if missing:
            sys.exit(f"run_all.py: no plan {', '.join(missing)} in {plans_dir} (plans: {', '.join(names)})")
        names = [n for n in names if n in wanted]
    return names


def plan_gpus(path):
    with open(path) as f:
        return json.load(f)["gpus"]


class Job:
    """One run.py process group on a set of GPUs."""

    def __init__(self, name, plan_path, out, log, devices, extra, timeout):
        self.name, self.out, self.log, self.devices, self.timeout = name, out, log, devices, timeout
        env = common.apply_safe_env(dict(os.environ))
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(d) for d in devices)
        env["PYTHONUNBUFFERED"] = "1"
        cmd = [sys.executable, os.path.join(HERE, "run.py"), plan_path, "--out", out] + extra
        for stale in glob.glob(out + "*"):
            os.remove(stale)
        self.logf = open(log, "w")
        self.start = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.reason = None

    def poll(self):
        """None while running; else (ok, reason)."""
        rc = self.proc.poll()
        if rc is None and time.monotonic() - self.start > self.timeout:
            self.stop()
            self.reason = f"stopped after {self.timeout:.0f} s"
            rc = self.proc.wait()
        if rc is None:
            return None
        self.logf.close()
        if rc == 0 and os.path.exists(self.out):
            return True, "ok"
        errors = sorted(glob.glob(self.out + ".rank*.error"))
        why = self.reason or f"exit status {rc}"
        if errors:
            with open(errors[0]) as f:
                lines = [l for l in f.read().strip().splitlines() if l.strip()]
            why += f"; {os.path.basename(errors[0]).split('.')[-2]}: {common.one_line(lines[-1] if lines else '')}"
        return False, why

    def stop(self):
        """SIGTERM to this job's own process group, SIGKILL 10 s later."""
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_jobs(queue, total_gpus, pack, deadline, start_job):
    """Run (name, gpus) items; with `pack` several at once on disjoint GPUs, else one at a
    time on GPUs 0..n-1.  Returns {name: (ok, reason)}."""
    results, running = {}, []
    free = list(range(total_gpus))
    pending = list(queue)
    while pending or running:
        for job in list(running):
            done = job.poll()
            if done is not None:
                running.remove(job)
                free = sorted(free + job.devices)
                results[job.name] = done
                print(f"[run_all] {job.name}: {'ok' if done[0] else 'FAILED: ' + done[1]} "
                      f"({time.monotonic() - job.start:.0f} s)", flush=True)
        while pending and (pack or not running):
            name, n = pending[0]
            if n > total_gpus:
                results[name] = (False, f"needs {n} GPUs, {total_gpus} available")
                pending.pop(0)
                continue
            if len(free) < n:
                break
            if time.monotonic() > deadline:
                for name, _ in pending:
                    results[name] = (False, "skipped: time limit reached")
                pending = []
                break
            pending.pop(0)
            devices, free = free[:n], free[n:]
            running.append(start_job(name, devices))
        time.sleep(0.2)
    return results


def fmt(x):
    return common.format_value(x)


def merge_launches(launches):
    """One plan's result from its launches' results (in launch order): the launch whose median
    is the middle one (the lower of the two middle ones for an even count), with every
    launch's times and host issue times under "launches"."""
    order = sorted(range(len(launches)), key=lambda i: (launches[i]["median_s"], i))
    middle = dict(launches[order[(len(order) - 1) // 2]])
    middle["launches"] = [{k: r[k] for k in LAUNCH_FIELDS if k in r} for r in launches]
    return middle


def row_times(result):
    """(median, p10, p90, iterations, launches) of a result: its own for one launch; for
    several, the median of their medians, with p10 and p90 over every launch's iterations
    pooled (widened to hold that median), so that the spread shows how far launches differ."""
    launches = result.get("launches") or []
    if len(launches) < 2:
        return result["median_s"], result["p10_s"], result["p90_s"], result["iterations"], 1
    median = common.percentile([r["median_s"] for r in launches], 50)
    pooled = [t for r in launches for t in r["iteration_times_s"]]
    return (median, min(common.percentile(pooled, 10), median), max(common.percentile(pooled, 90), median),
            len(pooled), len(launches))


def gather_launches(out_dir, names, count, results):
    """Write DIR/results/NAME.json from each plan's launches (merge_launches) and return
    {name: (ok, reason)}: a plan is measured when any launch was, its reason naming the
    launches that failed."""
    merged = {}
    for name in names:
        runs, failed = [], []
        for j in range(1, count + 1):
            ok, why = results.get(f"{name}.launch{j}", (False, "skipped: time limit reached"))
            if ok:
                with open(os.path.join(out_dir, "results", "launches", f"{name}.launch{j}.json")) as f:
                    runs.append(json.load(f))
            else:
                failed.append(f"launch {j}: {why}")
        if runs:
            path = os.path.join(out_dir, "results", name + ".json")
            with open(path + ".tmp", "w") as f:
                json.dump(merge_launches(runs), f, indent=1)
            os.replace(path + ".tmp", path)
        reason = f"{len(runs)} of {count} launches" + (f" ({'; '.join(failed)})" if failed else "")
        merged[name] = (bool(runs), reason if runs else "; ".join(failed))
    return merged


def result_timing(result):
    """How run.py timed a result's iterations: its `timing`, or for results written before
    run.py said so, gpu_head_start where it has the head start's length, else synchronised."""
    return result.get("timing", "gpu_head_start" if "gpu_head_start_ms" in result else "synchronised")


def aggregate(out_dir, status=None):
    """DIR/measurements.csv from DIR/results/*.json (and DIR/status.json for failures)."""
    rows, meta, commands, timing = [], None, {}, None
    for path in sorted(glob.glob(os.path.join(out_dir, "results", "*.json"))):
        with open(path) as f:
            r = json.load(f)
        name = os.path.splitext(os.path.basename(path))[0]
        if meta is None or r["date"] < meta["date"]:
            meta = {k: str(r[k]) for k in META}
        commands.setdefault(r["command"], r["date"])
        timed = result_timing(r)
        timing = timing or timed
        if timed != timing:
            raise ValueError(f"{path}: its iterations were timed {timed}, other results' "
                             f"{timing}: keep one timing in one table")
        for k in ("gpu", "driver", "cuda", "torch", "nccl"):
            if meta[k] != str(r[k]):
                raise ValueError(f"{path}: {k} is {r[k]}, other results have {meta[k]}: keep one machine's "
                                 "results in one table")
        median, p10, p90, iterations, launches = row_times(r)
        rows.append([name, r["gpus"], median, p10, p90, iterations,
                     max(r["peak_allocated_bytes"]), max(r["peak_reserved_bytes"]),
                     r["losses"][0], r["losses"][-1], launches])
    if status is None and os.path.exists(os.path.join(out_dir, "status.json")):
        with open(os.path.join(out_dir, "status.json")) as f:
            status = json.load(f)
    status = status or {}
    if meta:  # runs merged into one table: every command, oldest first
        meta["command"] = " ; ".join(sorted(commands, key=commands.get))
    lines = [f"# {k}: {meta[k] if meta else 'none'}" for k in META]
    lines.append("# units: seconds, bytes; times are the median (p10, p90) over the timed iterations of the "
                 "slowest rank's iteration (with several launches, the median of their medians, and p10 and "
                 "p90 over their iterations pooled); peak memory is the largest over GPUs of "
                 "torch.cuda.max_memory_allocated / max_memory_reserved over the timed iterations")
    lines.append(f"# timing: {timing or 'none'} (synchronised: each iteration started behind an "
                 "idle GPU and timed by the host's clock; back_to_back: one after another, timed on the GPU; "
                 "gpu_head_start: each after a GPU sleep that let its host start ahead, timed on the GPU)")
    lines.append("# notes: losses are the first (warm-up) and last iteration's mean cross-entropy")
    measured = {row[0] for row in rows}
    for name in sorted(status):
        if name not in measured and not status[name]["ok"]:
            lines.append(f"# failed: {name}: {common.one_line(status[name]['reason'])}")
    lines.append(",".join(COLUMNS))
    for row in sorted(rows):
        lines.append(",".join(fmt(x) for x in row))
    path = os.path.join(out_dir, "measurements.csv")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("plans", nargs="?", help="folder of plan JSON files")
    ap.add_argument("--out", help="output folder")
    ap.add_argument("--aggregate", metavar="DIR", help="only rebuild DIR/measurements.csv")
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--smoke-first", action="store_true", help="one small iteration of each plan first")
    ap.add_argument("--only", default="", help="comma-separated plan names (file stems)")
    ap.add_argument("--gpus", type=int, default=0, help="GPUs to use (default: all nvidia-smi lists)")
    ap.add_argument("--time-limit", type=float, default=540, help="seconds for everything (default 540)")
    ap.add_argument("--plan-timeout", type=float, default=150, help="seconds per plan (default 150)")
    ap.add_argument("--smoke-timeout", type=float, default=90, help="seconds per smoke run (default 90)")
    ap.add_argument("--back-to-back", action="store_true",
                    help="time each plan's iterations back to back, as a training loop runs them (run.py --back-to-back)")
    ap.add_argument("--launches", type=int, default=1,
                    help="launches of each plan, each in processes of its own, in rounds (default 1)")
    args = ap.parse_args(argv)
    if args.launches < 1:
        ap.error("--launches must be 1 or more")
    if args.aggregate:
        print(aggregate(args.aggregate))
        return 0
    if not args.plans or not args.out:
        ap.error("give PLANS_DIR and --out DIR (or --aggregate DIR)")
    t0 = time.monotonic()
    deadline_all = t0 + args.time_limit
    total = args.gpus or gpu_count()
    if total < 1:
        sys.exit("run_all.py: no GPU visible (nvidia-smi -L lists none); give --gpus to force")
    names = plan_names(args.plans, args.only)
    paths = {n: os.path.join(args.plans, n + ".json") for n in names}
    os.makedirs(os.path.join(args.out, "results"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "logs"), exist_ok=True)
    command = " ".join(["python3", os.path.relpath(os.path.join(HERE, "run_all.py"))] +
                       (argv if argv is not None else sys.argv[1:]))
    date = common.utc_now_iso()
    status_path = os.path.join(args.out, "status.json")
    status = {}
    if os.path.exists(status_path):
        with open(status_path) as f:
            status = json.load(f)
    print(f"[run_all] {len(names)} plans on {total} GPUs, time limit {args.time_limit:.0f} s", flush=True)

    smoke_failed = {}
    if args.smoke_first:
        smoke_dir = os.path.join(args.out, "smoke")
        os.makedirs(smoke_dir, exist_ok=True)

        def smoke_job(name, devices):
            return Job(name, paths[name], os.path.join(smoke_dir, name + ".json"),
                       os.path.join(args.out, "logs", name + ".smoke.log"), devices,
                       ["--smoke", "--iterations", "1", "--warmup", "0"], args.smoke_timeout)

        queue = sorted(((n, plan_gpus(paths[n])) for n in names), key=lambda x: (-x[1], x[0]))
        res = run_jobs(queue, total, True, t0 + args.time_limit / 3, smoke_job)
        # A smoke left out for time says nothing against its plan, which still runs.
        smoke_failed = {n: r[1] for n, r in res.items() if not r[0] and not r[1].startswith("skipped")}
        print(f"[run_all] smoke: {sum(1 for r in res.values() if r[0])} of {len(res)} ran, "
              f"{len(smoke_failed)} failed ({time.monotonic() - t0:.0f} s)", flush=True)

    launch_dir = os.path.join(args.out, "results", "launches")

    def full_job(job_name, devices):
        name, _, launch = job_name.partition(".launch")
        out = os.path.join(launch_dir, job_name + ".json") if launch else os.path.join(args.out, "results", name + ".json")
        return Job(job_name, paths[name], out, os.path.join(args.out, "logs", job_name + ".log"), devices,
                   ["--iterations", str(args.iterations), "--warmup", str(args.warmup),
                    "--command", command, "--date", date] + (["--back-to-back"] if args.back_to_back else []),
                   min(args.plan_timeout, deadline_all - time.monotonic()))

    measured = [n for n in names if n not in smoke_failed]
    if args.launches == 1:
        queue = [(n, plan_gpus(paths[n])) for n in measured]
    else:
        os.makedirs(launch_dir, exist_ok=True)
        queue = [(f"{n}.launch{j}", plan_gpus(paths[n])) for j in range(1, args.launches + 1) for n in measured]
    res = run_jobs(queue, total, False, deadline_all - MIN_PLAN_S, full_job)
    if args.launches > 1:
        res = gather_launches(args.out, measured, args.launches, res)
    for n, why in smoke_failed.items():
        res[n] = (False, f"smoke failed: {why}")
    for n, (ok, why) in res.items():
        status[n] = {"ok": ok, "reason": why}
        if not ok:
            stale = os.path.join(args.out, "results", n + ".json")
            if os.path.exists(stale) and "skipped" not in why:
                os.remove(stale)
    with open(status_path, "w") as f:
        json.dump(status, f, indent=1, sort_keys=True)
    path = aggregate(args.out, status)
    ok = sum(1 for n in names if status[n]["ok"])
    print(f"[run_all] {ok} of {len(names)} plans measured in {time.monotonic() - t0:.0f} s -> {path}", flush=True)
    with open(path) as f:
        print(f.read(), flush=True)
    return 0 if ok == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
