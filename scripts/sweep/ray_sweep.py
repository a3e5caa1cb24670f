#!/usr/bin/env python3
"""Fan one `simulate sweep` out over a Ray cluster, then merge the shards.

Starts N Ray tasks; task i runs `simulate sweep ARGS… --shard i/N --db WORKDIR/part-i.sqlite`
on whichever node Ray gives it (the nodes must share the repository and WORKDIR, e.g. over
NFS), then `simulate merge OUT part-0.sqlite … part-(N-1).sqlite` here. Shards count from 0
(`--shard i/N` runs the points whose index is i modulo N). A shard that fails is reported
with its standard error; the others are still merged, and running the same command again
resumes every shard (each skips the points its database already holds).

    python3 scripts/sweep/ray_sweep.py --shards 8 --out sweep.sqlite -- \\
        strategies/llama3/llama3-70b-tp-pp.strata --set gpus=256 --grid tp=2,4,8 --grid pp=1,2,4,8

--address connects to a running cluster (`ray start --head` …); without it a local Ray
instance is started on 127.0.0.1 for this run and shut down after it. Each shard runs with
--jobs 1 and asks Ray for one CPU, unless ARGS set --jobs (then it asks for that many).
"""

import argparse
import os
import socket
import subprocess
import sys
import time

import ray


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shards", type=int, required=True, help="how many Ray tasks (shards) to split the sweep into")
    parser.add_argument("--out", required=True, help="the merged results database (created if missing)")
    parser.add_argument("--workdir", help="where the shards' databases go (default: OUT's folder)")
    parser.add_argument("--simulate", default=".build/release/simulate", help="the simulate executable, as the nodes see it")
    parser.add_argument("--address", help="a running Ray cluster to use (default: start a local one on 127.0.0.1)")
    parser.add_argument("--num-cpus", type=int, help="CPUs of the local Ray instance (default: all)")
    parser.add_argument("sweep", nargs=argparse.REMAINDER, help="-- then the strategy file and `simulate sweep` options")
    arguments = parser.parse_args()
    if arguments.sweep[:1] == ["--"]:
        arguments.sweep = arguments.sweep[1:]
    if arguments.shards < 1:
        parser.error("--shards must be at least 1")
    if not arguments.sweep:
        parser.error("give the strategy file and the sweep's options after --")
    for option in ("--shard", "--db"):
        if any(word == option or word.startswith(option + "=") for word in arguments.sweep):
            parser.error(f"{option} is set by the launcher; leave it out of the sweep's options")
    return arguments


def jobs_in(sweep):
    """The --jobs the sweep's options ask for, or None."""
    for index, word in enumerate(sweep):
        if word == "--jobs" and index + 1 < len(sweep):
            return int(sweep[index + 1])
        if word.startswith("--jobs="):
            return int(word.split("=", 1)[1])
    return None


@ray.remote
def run_shard(index, count, simulate, sweep, database, cwd):
    """One shard: `simulate sweep … --shard index/count --db database`, run in `cwd`."""
    start = time.monotonic()
    command = [simulate, "sweep", *sweep, "--shard", f"{index}/{count}", "--db", database]
    process = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    return {
        "index": index,
        "node": socket.gethostname(),
        "command": command,
        "status": process.returncode,
        "stdout": process.stdout,
        "stderr": process.stderr,
        "seconds": time.monotonic() - start,
    }


def main():
    arguments = parse_arguments()
    root = os.getcwd()
    out = os.path.abspath(arguments.out)
    workdir = os.path.abspath(arguments.workdir or os.path.dirname(out))
    os.makedirs(workdir, exist_ok=True)
    simulate = os.path.abspath(arguments.simulate)
    sweep = list(arguments.sweep)
    jobs = jobs_in(sweep)
    if jobs is None:
        jobs = 1
        sweep += ["--jobs", "1"]

    if arguments.address:
        ray.init(address=arguments.address, log_to_driver=False)
    else:
        ray.init(num_cpus=arguments.num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    started = time.monotonic()
    base = os.path.splitext(os.path.basename(out))[0]
    parts = [os.path.join(workdir, f"{base}-part-{index}.sqlite") for index in range(arguments.shards)]
    tasks = [run_shard.options(num_cpus=jobs).remote(index, arguments.shards, simulate, sweep, parts[index], root)
             for index in range(arguments.shards)]
    results = ray.get(tasks)
    ray.shutdown()

    failed = [result for result in results if result["status"] != 0]
    for result in results:
        print(f"shard {result['index']}/{arguments.shards} on {result['node']}: exit {result['status']}, "
              f"{result['seconds']:.1f} s")
        for line in result["stdout"].splitlines():
            if line.lstrip().startswith(("simulated", "skipped", "invalid", "failed")):
                print("  " + line.strip())
    for result in failed:
        print(f"shard {result['index']} failed: {' '.join(result['command'])}", file=sys.stderr)
        sys.stderr.write(result["stderr"])

    merged = [parts[result["index"]] for result in results if os.path.exists(parts[result["index"]])]
    if merged:
        merge = subprocess.run([simulate, "merge", out, *merged], cwd=root, capture_output=True, text=True)
        sys.stdout.write(merge.stdout)
        sys.stderr.write(merge.stderr)
        if merge.returncode != 0:
            return merge.returncode
    print(f"{arguments.shards} shards in {time.monotonic() - started:.1f} s; merged into {arguments.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
