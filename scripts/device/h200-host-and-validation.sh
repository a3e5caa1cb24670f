#!/usr/bin/env bash
# Device run (1, 2 or 4 H200s), back as $OUT/v.tar.gz: the host's tables and every validation plan,
# on one machine within minutes, so that the host Strata charges is the host that ran the
# plans (docs/accuracy.md, "Validation on H200s"):
#  1. host.csv (host.py: ops, layers and, on 2 or more GPUs, collectives in context) and
#     launch.csv;
#  2. every plan of traces/validation/h100-sxm/plans (the same exported plans the H100
#     table ran) that fits the machine's GPUs, median of 10 iterations after 3 warm-up;
#  3. in the time left, the seq-128 (host-bound) runs of the five plans host_check.sh reads.
# ONLY (plan names, space-separated) runs those plans alone; SEQ128 names the plans of step 3.
# BUDGET (default 550) is the second of the call by which the plans must be done, lower
# where the call runs something first; ITERATIONS and WARMUP (default 10 and 3) how each
# plan is timed. Stops with exit status 3 unless the machine has
# H200s (MIN_GPUS of them, default 2). The kernel tables Strata prices these runs with come
# from earlier H200 calls (traces/h200-sxm/runs/).
. "$(dirname "$0")/common.sh"
require_h200s "${MIN_GPUS:-2}"
mkdir -p "$OUT/v/seq128"
nproc; python3 -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.nccl.version())'
timeout 220 python3 scripts/profile/host.py --out "$OUT/v/traces" --repeats 11 \
  --command "python3 scripts/profile/host.py --out traces --repeats 11" > "$OUT/v/host.log" 2>&1
echo "host rc=$? at ${SECONDS}s"; grep -E "^\[host\] (layer|all_reduce)|Error" "$OUT/v/host.log" | grep -v "B (2"
timeout 120 python3 scripts/profile/launch.py --out "$OUT/v/traces" --repeats 15 \
  --command "python3 scripts/profile/launch.py --out traces --repeats 15" > "$OUT/v/launch.log" 2>&1
echo "launch rc=$? at ${SECONDS}s"
P=traces/validation/h100-sxm/plans
if [ -n "${ONLY:-}" ]; then  # a subset of the plans, by name
  mkdir -p "$OUT/plans"
  for n in $ONLY; do cp "$P/$n.json" "$OUT/plans/"; done
  P="$OUT/plans"
fi
left=$((${BUDGET:-550} - SECONDS)); echo "validation gets $left s"
scripts/validate/run_all.sh $P --out "$OUT/v/val" --iterations "${ITERATIONS:-10}" --warmup "${WARMUP:-3}" \
  --time-limit $left --plan-timeout 80 2>&1 | grep -v "^#" | tail -17
echo "validation done at ${SECONDS}s"
for n in ${SEQ128:-llama-1b-tp2 moe-base llama-1b-tp4-sp gpt-350m-base llama-1b-base}; do
  [ $SECONDS -lt $((${BUDGET:-550} + 15)) ] || break
  timeout 30 python3 scripts/validate/run.py "$P/$n.json" --out "$OUT/v/seq128/$n-seq128.json" --iterations 6 --warmup 2 \
    --seq 128 > "$OUT/v/seq128/$n.log" 2>&1; echo "$n seq128 rc=$?"; grep -E "^\[run\]|Error" "$OUT/v/seq128/$n.log" | tail -1
done
rm -rf "$OUT/v/val/logs" "$OUT/plans"
tar -C "$OUT" -czf "$OUT/v.tar.gz" v && rm -rf "$OUT/v"; ls -la "$OUT"
