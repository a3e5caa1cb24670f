#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/ma.tar.gz: the GPT-350M FSDP plans on a second machine
# with its own host tables (host.py with the fsdp_unit rows, launch.py), back to back; then
# plans run briefly for their memory, each recording the most allocated just after a
# micro-batch's forward (run.py's allocated_after_forward_bytes), to set beside Strata's
# memory after the loss's forward (`trace_tasks.py --memory-after "loss forward"`): the
# activations apart from the backward's buffers (docs/accuracy.md, "Memory: what autograd
# keeps"). Stops with exit status 3 unless the machine has 4 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4
results_dir ma
host_tables "$H" "${HOST_S:-200}"
grep -E "fsdp|layer_llama/" "$H/host.log"
RUN_TIMEOUT=90
for name in gpt-350m-fsdp4-mb1 gpt-350m-fsdp4; do
  run_plan "$H" "$name.b2b" "$P/$name.json" --iterations 10 --warmup 3 --back-to-back --host-speed 5
done
for name in ${PLANS:-llama-1b-tp4-sp gpt-350m-1f1b4 llama-1b-tp2 llama-1b-base gpt-350m-base moe-ep4 llama-1b-fsdp4 llama-1b-recompute}; do
  [ "$SECONDS" -lt "${BUDGET:-540}" ] || { echo "out of time before $name"; continue; }
  run_plan "$H" "$name.memory" "$P/$name.json" --iterations 3 --warmup 1
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(sys.argv[1], [round(b / 2**30, 3) for b in r['allocated_after_forward_bytes']], [round(b / 2**30, 3) for b in r['peak_allocated_bytes']])" "$H/$name.memory.json"
done
echo "done at ${SECONDS}s"
pack_results
