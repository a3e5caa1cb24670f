#!/usr/bin/env python3
"""The line run.py prints for a profiled iteration, from its saved summary: where the GPU's
time went (busy, split into compute, NCCL and both at once; idle, and how much of it waited
for the host), the kernels and the launch calls. Summaries of iterations profiled back to
back (`run.py --profile-iterations`) are per iteration already and say over how many.

    python3 scripts/validate/profile_summary.py traces/validation/h200-sxm/steady-2026-11-28T21-33/*.rank*.json
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "profile"))
import common  # noqa: E402


def line(summary):
    """`[profile] wall …` for one summary (run.py's PATH.rankR.json)."""
    ms = lambda key: summary[key] / 1e3  # noqa: E731
    over = f" a GPU iteration, over {summary['iterations']} back to back" if "iterations" in summary else ""
    return (f"[profile] wall {ms('wall_us'):.2f} ms, GPU busy {ms('gpu_busy_us'):.2f} ms "
            f"(compute {ms('compute_busy_us'):.2f}, NCCL {ms('nccl_busy_us'):.2f}, both {ms('overlap_us'):.2f}, "
            f"idle {ms('idle_us'):.2f}: host {ms('idle_waiting_host_us'):.2f}), "
            f"{summary['kernels']:g} kernels ({ms('kernel_us'):.2f} ms), "
            f"{summary['launch_calls']:g} launches of {summary['launch_call_mean_us']:.1f} us{over}")


def main(argv=None):
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: profile_summary.py SUMMARY.json...", file=sys.stderr)
        return 2
    return common.show_saved(paths, lambda summary: [line(summary)], "a run.py profile summary",
                             "give a PATH.rankR.json that run.py --profile wrote", inline=True)


if __name__ == "__main__":
    sys.exit(main())
