#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/m.tar.gz: scripts/validate/on_this_machine.sh end to
# end, as a user would run it on their own GPUs, with the bundled simulate
# (scripts/device/bundle-simulate.sh; carry .device-bundle) and the H200 kernel tables of
# traces/h200-sxm. Its launch.py also measures the GPU's gap between a
# training step's queued kernels (gpu_kernel_gap_training), which the shipped tables read
# from profiles. ARGS adds options of on_this_machine.sh (--only, --launches). Stops with
# exit status 3 unless the machine has GPUS H200s (default 4).
. "$(dirname "$0")/common.sh"
require_h200s "${GPUS:-4}"
nproc; python3 -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.nccl.version())'
sim=$(scripts/device/unbundle-simulate.sh /tmp/sim) || exit 4
"$sim" --version || "$sim" --help | head -2
SIMULATE=$sim timeout "${LIMIT:-560}" scripts/validate/on_this_machine.sh "$OUT/m" \
  --repeats "${REPEATS:-11}" --time-limit "${PLANS_S:-320}" ${ARGS:-}
echo "on_this_machine rc=$? at ${SECONDS}s"
grep -E "^\[launch\]" "$OUT/m/traces/launch.log"
tar -C "$OUT" -czf "$OUT/m.tar.gz" m && rm -rf "$OUT/m"; ls -la "$OUT"
