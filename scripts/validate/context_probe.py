"""Why kernels in the validation runner take other times than the same shapes in the tables.

In the runner's profiles (docs/accuracy.md) LLaMA-1B's and GPT-350M's products ran 7-19 %
faster than gemm.csv at the same shapes, and flash attention's forward ran about 10 %
slower than attention.csv. Timing with the activation operand in L2 changed the products
by under 2 % (gemm.py --activations), so this probe tests the two causes left, on one GPU:

- products: the GPU's clock under the table's back-to-back loop (which holds the power
  limit) against a loop where each product is followed by an untimed memory-bound kernel of
  about the same length, as a layer's norms and activations follow its products; and
  random-normal data against weights of a model's scale (std 0.02).
- attention: the table's layout (q, k and v made separately, [b, s, h, d] transposed)
  against the runner's (one fused QKV product, sequence-first, split and permuted; v a
  strided view into it).

- the clock: one product for about a second back to back, then with a spin kernel (idle
  SMs, low power) between products, clock sampled every millisecond (`--only duty`).

Every case reports the median kernel time (CUDA events) and the median SM clock and power
that NVML read while it ran. Writes one JSON file.
    python3 scripts/validate/context_probe.py --out probe.json
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "profile"))
import common  # noqa: E402  (sets the NCCL/NVSHMEM safety variables before torch loads)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def timed(fn, iterations, between=None, interval_s=0.002):
    """Median (p10, p90) microseconds of fn() over `iterations` CUDA-event brackets, with
    `between()` (untimed) after each; plus the median clock and power NVML read while they
    ran (the validation runner's `GpuSampler`, every `interval_s`)."""
    for _ in range(3):
        fn()
        if between:
            between()
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iterations)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iterations)]
    sampler = common.validation_runner().GpuSampler(None, interval_s=interval_s)
    sampler.start()
    for i in range(iterations):
        starts[i].record()
        fn()
        ends[i].record()
        if between:
            between()
    torch.cuda.synchronize()
    sampler.stop()
    clock, watts = sampler.medians()
    result = common.summarize([s.elapsed_time(e) * 1e3 for s, e in zip(starts, ends)])
    result.pop("samples")
    return {**result, "sm_clock_mhz": clock, "power_w": watts, "iterations": iterations,
            "clock_samples": len(sampler.samples)}


def rotated_operands(m, n, k, weight_scale, sets=8):
    """`sets` random [m, k] activations and [n, k] weights (times `weight_scale`), bf16, so
    that consecutive products read operands from memory as a model's layers do."""
    a = [torch.randn(m, k, device="cuda", dtype=torch.bfloat16) for _ in range(sets)]
    w = [torch.randn(n, k, device="cuda", dtype=torch.bfloat16) * weight_scale for _ in range(sets)]
    return a, w


def rotating_product(a, w):
    """A zero-argument call that runs torch.mm on the next set of `a` and `w` (transposed,
    as the tables time nn.Linear's product) each time."""
    state = {"i": 0}

    def mm():
        i = state["i"] = (state["i"] + 1) % len(a)
        torch.mm(a[i], w[i].t())
    return mm


def products(report):
    dev = "cuda"
    filler_src = torch.randn(64 << 20, device=dev, dtype=torch.bfloat16)  # 128 MiB
    filler_dst = torch.empty_like(filler_src)

    def memory_bound():  # ~80-90 us of copying, like a norm or activation over big tensors
        filler_dst.copy_(filler_src)

    for m, n, k in [(4096, 8192, 2048), (4096, 2048, 8192), (8192, 1024, 1024), (8192, 4096, 1024)]:
        for scale_name, scale in (("randn", 1.0), ("weights_std_0.02", 0.02)):
            a, w = rotated_operands(m, n, k, scale)
            mm = rotating_product(a, w)
            for loop, between in (("back_to_back", None), ("with_memory_bound_between", memory_bound)):
                r = timed(mm, 200, between)
                r.update(m=m, n=n, k=k, data=scale_name, loop=loop)
                report.append(r)
                print(f"[probe] mm {m}x{n}x{k} {scale_name:16s} {loop:26s} {r['median_us']:8.1f} us "
                      f"{r['sm_clock_mhz']} MHz {r['power_w']:.0f} W", flush=True)
            del a, w, mm
            torch.cuda.empty_cache()


def duty_cycle(report):
    """One product shape for about a second each: back to back, then each product followed
    by an untimed spin kernel of about its length (torch.cuda._sleep: the SMs idle, the
    power drops, L2 keeps its lines), sampling the clock every millisecond. If the table's
    loop is slower because it holds the power limit, the clock says so."""
    m, n, k = 4096, 8192, 2048
    mm = rotating_product(*rotated_operands(m, n, k, 0.02))
    clock_hz = torch.cuda.clock_rate() * 1e6
    for loop, between in (("back_to_back", None),
                          ("spin_between", lambda: torch.cuda._sleep(int(170e-6 * clock_hz))),
                          ("back_to_back_again", None)):
        r = timed(mm, 5000, between, interval_s=0.001)
        r.update(m=m, n=n, k=k, data="weights_std_0.02", loop=loop)
        report.append(r)
        print(f"[probe] duty {m}x{n}x{k} {loop:20s} {r['median_us']:8.1f} us {r['sm_clock_mhz']} MHz "
              f"{r['power_w']:.0f} W ({r['clock_samples']} clock samples)", flush=True)


def kernels(report):
    """Which kernel cuBLAS runs, and how long it takes under the profiler, for the same
    product called as the tables call it (torch.mm on a [m, k] activation and a transposed
    weight) and as the runner does (F.linear on a sequence-first [s, 1, k] activation, after
    an RMS norm that writes it), 40 calls each."""
    from torch.profiler import ProfilerActivity, profile
    m, n, k = 4096, 8192, 2048
    a, w = rotated_operands(m, n, k, 0.02)
    x = [t.view(m, 1, k) for t in a]
    norm_w = torch.ones(k, device="cuda", dtype=torch.bfloat16)
    table_mm = rotating_product(a, w)

    def table_call(i):
        table_mm()

    def runner_call(i):
        h = F.rms_norm(x[i % len(x)], (k,), norm_w)
        F.linear(h, w[i % len(w)])
    for name, call in (("table_mm", table_call), ("runner_norm_linear", runner_call)):
        for i in range(5):
            call(i)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for i in range(40):
                call(i)
            torch.cuda.synchronize()
        by_kernel = {}
        for e in prof.events():
            if e.device_type.name == "CUDA":
                by_kernel.setdefault(e.name[:90], []).append(e.time_range.elapsed_us())
        for kname, times in by_kernel.items():
            times.sort()
            r = {"case": name, "kernel": kname, "count": len(times), "median_us": times[len(times) // 2], "m": m, "n": n, "k": k}
            report.append(r)
            print(f"[probe] kernels {name:20s} {len(times):3d} x {times[len(times) // 2]:8.1f} us  {kname}", flush=True)


def attention(report):
    dev = "cuda"
    for b, s, h, kv, d in [(1, 4096, 32, 8, 64), (4, 2048, 16, 16, 64)]:
        hidden = h * d
        width = (h + 2 * kv) * d
        x = torch.randn(s, b, hidden, device=dev, dtype=torch.bfloat16)
        w = torch.randn(width, hidden, device=dev, dtype=torch.bfloat16) * 0.02
        qkv = F.linear(x, w)
        q, k, v = qkv.split([h * d, kv * d, kv * d], dim=-1)
        q = q.view(s, b, h, d).permute(1, 2, 0, 3)
        k = k.view(s, b, kv, d).permute(1, 2, 0, 3)
        v = v.view(s, b, kv, d).permute(1, 2, 0, 3)
        runner = {"q": (q * 1.0), "k": (k * 1.0), "v": v}  # q, k rewritten as RoPE does; v a strided view
        table = {"q": torch.randn(b, s, h, d, device=dev, dtype=torch.bfloat16).transpose(1, 2),
                 "k": torch.randn(b, s, kv, d, device=dev, dtype=torch.bfloat16).transpose(1, 2),
                 "v": torch.randn(b, s, kv, d, device=dev, dtype=torch.bfloat16).transpose(1, 2)}
        from torch.nn.attention import SDPBackend, sdpa_kernel
        for layout, t in (("table", table), ("runner", runner)):
            def fwd(t=t):
                with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
                    return F.scaled_dot_product_attention(t["q"], t["k"], t["v"], is_causal=True,
                                                          enable_gqa=h != kv)
            r = timed(fwd, 100)
            r.update(batch=b, seq=s, heads=h, kv_heads=kv, head_dim=d, layout=layout, pass_="fwd",
                     strides={n: list(t[n].stride()) for n in t})
            report.append(r)
            print(f"[probe] attention b{b} s{s} h{h} kv{kv} {layout:7s} fwd {r['median_us']:8.1f} us "
                  f"{r['sm_clock_mhz']} MHz strides q {t['q'].stride()} v {t['v'].stride()}", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="JSON report")
    ap.add_argument("--only", choices=("products", "duty", "kernels", "attention"), default=None, help="one part of the probe")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        sys.exit("context_probe.py: needs a CUDA GPU")
    report = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cases": []}
    if args.only in (None, "products"):
        products(report["cases"])
    if args.only in (None, "duty"):
        duty_cycle(report["cases"])
    if args.only in (None, "kernels"):
        kernels(report["cases"])
    if args.only in (None, "attention"):
        attention(report["cases"])
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
