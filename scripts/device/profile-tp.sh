#!/usr/bin/env bash
# Device run: why tensor-parallel runs are slow in the runner — all-reduce sizes and NCCL's
# algorithm/protocol choices for llama-1b-tp2, profiled with shapes.
set -x
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
nvidia-smi --query-gpu=name,driver_version --format=csv
mkdir -p "$OUT/prof"
NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,TUNING timeout 150 python3 scripts/validate/run.py traces/validation/h100-sxm/plans/llama-1b-tp2.json \
  --out "$OUT/prof/llama-1b-tp2.result.json" --iterations 3 --warmup 2 --profile "$OUT/prof/llama-1b-tp2" > "$OUT/prof/log.txt" 2>&1
grep -E "\[run\]|\[profile\]" "$OUT/prof/log.txt"
grep -iE "algo|proto|channel" "$OUT/prof/log.txt" | sort | uniq -c | sort -rn | head -20
rm -f "$OUT"/prof/*.rank1.*
python3 - "$OUT/prof/llama-1b-tp2.rank0.trace.json.gz" <<'PY'
import gzip, json, sys, collections
d = json.load(gzip.open(sys.argv[1]))
ev = [e for e in d["traceEvents"] if e.get("ph") == "X"]
sizes = collections.Counter()
for e in ev:
    if e.get("cat") == "cpu_op" and "allreduce" in e["name"].lower():
        sizes[(e["name"], str(e.get("args", {}).get("Input Dims")))] += 1
for k, v in sizes.most_common(12): print(v, k)
PY
