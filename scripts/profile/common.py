"""Shared pieces of the Strata profiler: safe environment, statistics, timing and CSV tables.

Every op family (gemm.py, grouped_gemm.py, attention.py, sparse_attention.py,
elementwise.py, collectives.py) imports this module *first*, before torch, so
that the NVLink-multicast switches below are in the environment before NCCL or
NVSHMEM are loaded.  The pure-Python parts (statistics, table writing, the GPU
naming rule) do not need torch, so they can be unit-tested on a machine
without a GPU (see test_profile.py).
"""

import argparse
import datetime
import functools
import math
import os
import re
import signal
import subprocess
import sys
import time

# NVLink multicast (NVLS) can put shared hosts' GPUs out of service; the
# simulator does not model it either.  Keep it off in NCCL, PyTorch symmetric
# memory and NVSHMEM, in this process and in every child it starts.
SAFE_ENV = {
    "NCCL_NVLS_ENABLE": "0",
    "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1",
    "NVSHMEM_DISABLE_NVLS": "1",
}


def apply_safe_env(env=None):
    """Put SAFE_ENV into `env` (default: os.environ) and return it."""
    env = os.environ if env is None else env
    env.update(SAFE_ENV)
    return env


apply_safe_env()

UNITS = "time in microseconds, sizes in bytes"
META_KEYS = ("gpu", "gpu_count", "driver", "cuda", "torch", "nccl", "date", "command")
FAMILIES = ("gemm", "grouped_gemm", "attention", "sparse_attention", "elementwise",
            "collectives", "interference")


# --------------------------------------------------------------------------
# Naming and metadata
# --------------------------------------------------------------------------

def gpu_id(device_name):
    """Directory name for a device: the Swift loader keys tables by it.

    "NVIDIA H100 80GB HBM3" (the SXM part) -> "h100-sxm", any H200 (SXM is the
    only H200 with that bare name) -> "h200-sxm"; anything else becomes a
    lowercase slug of the full name so that different parts never share a
    directory by accident.
    """
    name = device_name.strip()
    low = name.lower()
    if "h100" in low and ("hbm3" in low or "sxm" in low) and "nvl" not in low:
        return "h100-sxm"
    if "h200" in low and "nvl" not in low:
        return "h200-sxm"
    slug = re.sub(r"[^a-z0-9]+", "-", low).strip("-")
    return slug or "unknown-gpu"


def utc_now_iso():
    """UTC time in ISO 8601 with a Z suffix, second resolution."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) \
        .isoformat().replace("+00:00", "Z")


def one_line(text, limit=400):
    """Squash text (often an exception message) onto one bounded line for a CSV comment."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def exception_text(exc):
    """'Type: message' for an exception, the exact text a reader needs to see why a row is missing."""
    if isinstance(exc, BaseException):
        return one_line(f"{type(exc).__name__}: {exc}")
    return one_line(exc)


def driver_version():
    """Driver version as nvidia-smi reports it (first GPU), or 'unknown'."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=30)
        lines = [l.strip() for l in out.stdout.splitlines() if l.strip()]
        return lines[0] if lines else "unknown"
    except Exception:  # nvidia-smi missing or hung: metadata, not fatal
        return "unknown"


def nccl_version_string(torch):
    """torch.cuda.nccl.version() as 'major.minor.patch' (it is a tuple in recent torch)."""
    try:
        v = torch.cuda.nccl.version()
    except Exception as exc:
        return f"unavailable ({exception_text(exc)})"
    if isinstance(v, (tuple, list)):
        return ".".join(str(x) for x in v)
    return str(v)


def collect_meta(torch, device_name, gpu_count, command, date):
    """The header comment block every table starts with (ordered)."""
    return {
        "gpu": device_name,
        "gpu_count": str(gpu_count),
        "driver": driver_version(),
        "cuda": str(torch.version.cuda),
        "torch": str(torch.__version__),
        "nccl": nccl_version_string(torch),
        "date": date,
        "command": command,
    }


# --------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------

def percentile(values, q):
    """q-th percentile (0..100) with linear interpolation between order statistics.

    Same convention as numpy.percentile's default, written out so that this
    module needs no numpy and the rule is visible.
    """
    if not values:
        raise ValueError("percentile of no values")
    xs = sorted(values)
    if len(xs) == 1:
        return float(xs[0])
    pos = (len(xs) - 1) * q / 100.0
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(xs) - 1)
    frac = pos - lo
    return float(xs[lo] + (xs[hi] - xs[lo]) * frac)


def summarize(samples_us):
    """median / p10 / p90 / count of per-iteration times in microseconds."""
    return {
        "median_us": percentile(samples_us, 50),
        "p10_us": percentile(samples_us, 10),
        "p90_us": percentile(samples_us, 90),
        "samples": len(samples_us),
    }


def rotation_count(set_bytes, l2_bytes, max_sets=64, max_total=8 << 30):
    """How many independent input sets to cycle through so reads come from HBM, not L2.

    The sets together must exceed about twice the L2 size, so that by the time
    a set is used again it has been evicted.  A set far larger than L2 evicts
    itself and needs no company; one between 1x and 4x L2 still gets a second
    set because part of it could survive in L2.
    """
    if set_bytes <= 0:
        return 1
    n = math.ceil(2.2 * l2_bytes / set_bytes)
    if set_bytes < 4 * l2_bytes:
        n = max(n, 2)
    n = min(n, max_sets, max(1, max_total // set_bytes))
    return max(1, n)


def busbw_factor(op, n):
    """NCCL-tests bus-bandwidth factor for an n-rank collective.

    busbw = algbw * factor, so that busbw is comparable to link bandwidth
    whatever the rank count: 2(n-1)/n for all-reduce (reduce-scatter then
    all-gather), (n-1)/n for all-gather / reduce-scatter / all-to-all, and 1
    for send/recv (each byte crosses one link once).
    """
    if n < 2:
        return 0.0
    if op == "all_reduce":
        return 2.0 * (n - 1) / n
    if op in ("all_gather", "reduce_scatter", "all_to_all"):
        return (n - 1) / n
    if op == "send_recv":
        return 1.0
    raise ValueError(f"unknown collective {op}")


class Deadline:
    """Wall-clock budget of one family: loops stop adding measurements when it is spent.

    Each family checks it between measurements, so a slow machine yields a
    shorter (and marked) table instead of a run killed mid-write.
    """

    def __init__(self, seconds):
        self.seconds = float(seconds)
        self.start = time.monotonic()

    def remaining(self):
        return self.seconds - (time.monotonic() - self.start)

    def expired(self):
        return self.remaining() <= 0


# --------------------------------------------------------------------------
# CSV tables
# --------------------------------------------------------------------------

def _sort_key_part(value):
    """Numbers sort numerically and before strings; strings sort lexically."""
    if isinstance(value, bool):
        return (0, float(value), "")
    if isinstance(value, (int, float)):
        return (0, float(value), "")
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def format_value(value):
    """CSV text for one cell: ints as ints, floats with 6 significant digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    text = str(value)
    if any(c in text for c in ",\"\n"):
        raise ValueError(f"cell {text!r} would need CSV quoting; the loader expects plain cells")
    return text


class Table:
    """One CSV table: '# key: value' header comments, one header row, sorted rows.

    Rows are sorted by every column left of `median_us` (numbers numerically),
    so two runs over the same grid produce files that diff cleanly.  Skipped
    measurements become '# skipped: ...' comment lines above the header, with
    the exact exception text, and a spent budget becomes '# truncated: ...'.
    The file is rewritten atomically (temp file + rename) at most every few
    seconds and at the end, so a killed run still leaves a valid table.
    """

    def __init__(self, path, columns, meta, min_interval_s=3.0):
        self.path = path
        self.columns = list(columns)
        self.meta = dict(meta)
        self.rows = []
        self.skips = []  # (what, reason), deduplicated by reason
        self.notes = []  # (key, text)
        self.min_interval_s = min_interval_s
        self._last_write = 0.0
        self.key_columns = self.columns[: self.columns.index("median_us")] \
            if "median_us" in self.columns else self.columns

    def add(self, **row):
        unknown = set(row) - set(self.columns)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)} for {self.path}")
        self.rows.append(row)
        self.maybe_write()

    def skip(self, what, reason):
        """Record that `what` was not measured and why (exception or text), once per reason."""
        text = exception_text(reason)

        def kind(w):  # what it was, without the shape parameters (tokens with '=')
            return tuple(tok for tok in w.split() if "=" not in tok)
        for w, r in self.skips:
            if r == text and kind(w) == kind(what):
                return
        self.skips.append((one_line(what, 200), text))
        self.maybe_write()

    def note(self, key, text):
        self.notes.append((key, one_line(text)))
        self.maybe_write()

    def sorted_rows(self):
        return sorted(self.rows, key=lambda r: tuple(_sort_key_part(r.get(c, "")) for c in self.key_columns))

    def render(self):
        lines = []
        for key in META_KEYS:
            lines.append(f"# {key}: {one_line(self.meta.get(key, 'unknown'), 1000)}")
        lines.append(f"# units: {UNITS}")
        for what, reason in self.skips:
            lines.append(f"# skipped: {what}: {reason}")
        for key, text in self.notes:
            lines.append(f"# {key}: {text}")
        lines.append(",".join(self.columns))
        for row in self.sorted_rows():
            lines.append(",".join(format_value(row.get(c)) for c in self.columns))
        return "\n".join(lines) + "\n"

    def write(self):
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(self.render())
        os.replace(tmp, self.path)
        self._last_write = time.monotonic()

    def maybe_write(self):
        if time.monotonic() - self._last_write >= self.min_interval_s:
            self.write()


def read_json(path, error, what, fix):
    """The JSON value in `path`, or `error` raised with a located message that ends in
    `fix` (what to give instead): `path: error: cannot read WHAT: reason` for a file that
    cannot be read, `path:line:col: error: not JSON (reason)` for one that does not parse."""
    import json
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as exc:
        raise error(f"{path}: error: cannot read {what}: {exc.strerror or exc}; {fix}") from None
    except json.JSONDecodeError as exc:
        raise error(f"{path}:{exc.lineno}:{exc.colno}: error: not JSON ({exc.msg}); {fix}") from None


def parse_cpulist(text):
    """'0-3,8,10-11' -> {0, 1, 2, 3, 8, 10, 11} (the kernel's cpulist format)."""
    cpus = set()
    for part in text.strip().split(","):
        part = part.strip()
        if part:
            low, _, high = part.partition("-")
            cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def save_and_print(path, out, lines):
    """Write `out` as JSON to `path` and print `lines`: how a measuring script ends."""
    import json
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("\n".join(lines), flush=True)


def show_saved(paths, lines_of, what, fix, inline=False):
    """Print the lines `lines_of(value)` gives for the JSON value saved in each of `paths`:
    after a `path:` line, or with `inline` each after `path: `. Returns 0, or 2 with
    `path: error: cannot read WHAT (reason); FIX` on stderr for the first file that cannot
    be read or is not what `lines_of` reads (a missing key, a wrong type)."""
    import json
    for path in paths:
        try:
            with open(path) as f:
                lines = lines_of(json.load(f))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            print(f"{path}: error: cannot read {what} ({exc}); {fix}", file=sys.stderr)
            return 2
        if inline:
            for line in lines:
                print(f"{path}: {line}")
        else:
            print(f"{path}:")
            print("\n".join(lines))
    return 0


def read_table(path):
    """Parse a table written by Table: returns (meta dict, skipped list, header list, rows as dicts)."""
    meta, skipped, header, rows = {}, [], None, []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("#"):
                body = line[1:].strip()
                key, _, value = body.partition(":")
                key, value = key.strip(), value.strip()
                if key == "skipped":
                    skipped.append(value)
                else:
                    meta.setdefault(key, value)
                continue
            cells = line.split(",")
            if header is None:
                header = cells
            else:
                rows.append(dict(zip(header, cells)))
    return meta, skipped, header or [], rows


# --------------------------------------------------------------------------
# Command line shared by the family scripts
# --------------------------------------------------------------------------

def family_parser(description):
    """Arguments every family script takes; run.py fills them in."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", required=True, help="base directory; tables go to OUT/<gpu-id>/")
    p.add_argument("--quick", action="store_true", help="tiny grid, for a smoke test")
    p.add_argument("--budget-s", type=float, default=120.0, help="stop adding measurements after this many seconds")
    p.add_argument("--device", type=int, default=0, help="CUDA device index for one-GPU families")
    p.add_argument("--gpus", type=int, default=0, help="GPUs for multi-GPU families (0: all visible)")
    p.add_argument("--command", default=None, help="command line to record in the tables (run.py passes its own)")
    p.add_argument("--date", default=None, help="UTC ISO 8601 date to record (run.py passes its start time)")
    return p


def install_sigterm_exit():
    """Turn SIGTERM into SystemExit so that `finally:` blocks still write the tables."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


class DeviceContext:
    """What a one-GPU family needs: torch, the device, its L2 size, output path and metadata."""

    def __init__(self, args):
        import torch  # imported here so that the pure parts above work without torch
        if not torch.cuda.is_available():
            raise SystemExit("CUDA is not available: this profiler measures GPU kernels")
        self.torch = torch
        self.index = args.device
        torch.cuda.set_device(self.index)
        self.device = torch.device("cuda", self.index)
        self.name = torch.cuda.get_device_name(self.index)
        props = torch.cuda.get_device_properties(self.index)
        self.l2_bytes = int(getattr(props, "L2_cache_size", 0) or (50 << 20))
        self.clock_hz = self._clock_hz(props)
        self.dir = os.path.join(args.out, gpu_id(self.name))
        os.makedirs(self.dir, exist_ok=True)
        command = args.command or " ".join([os.path.basename(sys.executable)] + sys.argv)
        self.meta = collect_meta(torch, self.name, 1, command, args.date or utc_now_iso())
        torch.manual_seed(20240601)

    @staticmethod
    def _clock_hz(props):
        khz = getattr(props, "clock_rate", 0) or 0
        return khz * 1e3 if khz else 1.98e9

    def table(self, filename, columns, gpu_count=1):
        meta = dict(self.meta)
        meta["gpu_count"] = str(gpu_count)
        return Table(os.path.join(self.dir, filename), columns, meta)


# --------------------------------------------------------------------------
# Rendezvous ports
# --------------------------------------------------------------------------

RENDEZVOUS_PORTS = range(20000, 32000)  # below Linux's ephemeral range (32768-60999)


def free_port(rng=None):
    """A TCP port on 127.0.0.1 that is free now, for a process group's rendezvous.

    Drawn below the kernel's ephemeral range, so that no outgoing connection (NCCL's
    bootstrap sockets, another run's store clients) is handed it between this check and
    the store's bind; a port the kernel picked for `bind(0)` comes from that range, and
    one such port was taken in that gap on 2026-11-28 (EADDRINUSE). Callers still retry
    on EADDRINUSE (`address_in_use`): a port is only ever free at the moment it is checked.
    """
    import random
    import socket
    rng = rng or random.Random()
    for _ in range(200):
        port = rng.randrange(RENDEZVOUS_PORTS.start, RENDEZVOUS_PORTS.stop)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # every draw taken: let the kernel pick
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_result(queue, procs, what, timeout_s=400.0):
    """The first item a group of processes puts on `queue`. Exits with `what` as soon as one
    of them dies (its traceback is already on standard error) or after `timeout_s`, killing
    the rest, rather than leaving the caller blocked until its own timeout."""
    import queue as queues
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return queue.get(timeout=1)
        except queues.Empty:
            died = any(p.exitcode not in (None, 0) for p in procs)
            if died or time.monotonic() > deadline:
                for p in procs:
                    p.kill()
                sys.exit(f"{what} " + ("failed (see its traceback above)" if died else f"gave no result in {timeout_s:.0f} s"))


def address_in_use(exc):
    """Whether a failed spawn died because the rendezvous port was taken."""
    text = str(exc)
    return "EADDRINUSE" in text or "address already in use" in text.lower()


# --------------------------------------------------------------------------
# The validation runner
# --------------------------------------------------------------------------

def validation_runner():
    """scripts/validate/run.py as a module (needs torch), loaded by path once per process.

    scripts/profile/ has a run.py of its own and both folders end up on sys.path, so
    `import run` can find the wrong one; host.py (the runner's own ops and layers) and
    scripts/validate/host_probe.py (the runner with its collectives timed) load it here.
    """
    import importlib.util
    module = sys.modules.get("validate_run")
    if module is None:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "validate", "run.py")
        spec = importlib.util.spec_from_file_location("validate_run", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["validate_run"] = module
    return module


# --------------------------------------------------------------------------
# Timing with CUDA events
# --------------------------------------------------------------------------

def gpu_sleep(torch, seconds, clock_hz):
    """Queue a spin kernel so the host can enqueue many timed launches before the GPU starts.

    Without it, per-iteration events around a short kernel would also time
    the host's launch latency (the GPU waits for the next launch).  With it,
    the launches pile up behind the spin and run back to back, so events
    measure device time only.
    """
    if seconds <= 0:
        return
    try:
        torch.cuda._sleep(int(seconds * clock_hz))
    except Exception:
        pass  # private API; without it small kernels are timed slightly pessimistically


def flash_attention_only(torch):
    """SDPA restricted to its flash backend, as the validation runner runs attention and
    Strata prices it (causal flash attention)."""
    torch.backends.cuda.enable_cudnn_sdp(False)
    torch.backends.cuda.enable_mem_efficient_sdp(False)
    torch.backends.cuda.enable_math_sdp(False)


def queue_sleep(torch, cycles, timing=False):
    """Queues a spin kernel of `cycles` on the current stream and returns an event recorded
    after it: `event.query()` says whether the GPU has finished the sleep, so a host that
    issues behind it can tell whether it was still ahead of the GPU; with `timing`, the
    event also times what follows the sleep (`elapsed_time`)."""
    torch.cuda._sleep(cycles)
    done = torch.cuda.Event(enable_timing=timing)
    done.record()
    return done


@functools.lru_cache(maxsize=None)
def sleep_cycles_per_second(torch):
    """GPU clock cycles `torch.cuda._sleep` spins through in a second, timed by CUDA events:
    what a sleep of a given length must ask for."""
    cycles = 20_000_000
    torch.cuda._sleep(cycles)  # warm-up
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    torch.cuda._sleep(cycles)
    end.record()
    end.synchronize()
    return cycles / (start.elapsed_time(end) / 1e3)


def timed_samples(torch, call, n, host_s_per_iter, gpu_s_per_iter, clock_hz, start_index=0):
    """Run `call(i)` n times, each bracketed by CUDA events; return per-iteration microseconds.

    `call(i)` returns a zero-argument function to time (the untimed part of
    the iteration, such as a forward pass before a timed backward, runs inside
    `call` before it returns).
    """
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
    if host_s_per_iter > 0.5 * gpu_s_per_iter:
        gpu_sleep(torch, min(0.1, 1.2 * n * host_s_per_iter), clock_hz)
    else:
        gpu_sleep(torch, 0.002, clock_hz)
    for i in range(n):
        fn = call(start_index + i)
        starts[i].record()
        fn()
        ends[i].record()
    torch.cuda.synchronize()
    return [s.elapsed_time(e) * 1e3 for s, e in zip(starts, ends)]


def estimate(torch, call, iters=3):
    """Host and device seconds per iteration of `call`, after one untimed run (autotune, handles)."""
    call(0)()
    torch.cuda.synchronize()
    ev0 = torch.cuda.Event(enable_timing=True)
    ev1 = torch.cuda.Event(enable_timing=True)
    t0 = time.perf_counter()
    ev0.record()
    for i in range(iters):
        call(1 + i)()
    ev1.record()
    host = (time.perf_counter() - t0) / iters
    torch.cuda.synchronize()
    gpu = ev0.elapsed_time(ev1) / 1e3 / iters
    return host, gpu


def iterations_for(gpu_s_per_iter, target_s, min_iters, max_iters):
    """Timed iterations that fill about target_s of device time, within [min_iters, max_iters]."""
    if gpu_s_per_iter <= 0:
        return max_iters
    return int(max(min_iters, min(max_iters, round(target_s / gpu_s_per_iter))))


def bench(torch, call, clock_hz, *, target_s=0.05, min_iters=5, max_iters=50, warmup=3, with_host=False):
    """Time one op: warm up, pick an iteration count, time each iteration with events.

    `call(i)` must return the zero-argument function to time for iteration i;
    callers use i to rotate among input sets (see rotation_count) so that the
    inputs are cold in L2.  Returns summarize() of the per-iteration samples,
    plus host_us (host seconds per iteration to issue the work, in us, from
    the warm-up) when with_host is set: device time alone hides launch cost
    that a host-bound op (a per-expert Python loop) pays in practice.
    """
    host, gpu = estimate(torch, call, warmup)
    n = iterations_for(gpu, target_s, min_iters, max_iters)
    samples = timed_samples(torch, call, n, host, gpu, clock_hz, start_index=warmup + 1)
    st = summarize(samples)
    if with_host:
        st["host_us"] = host * 1e6
    return st


def free_cuda(torch):
    """Return cached blocks between shapes so large grids do not fragment 80 GB of memory."""
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
