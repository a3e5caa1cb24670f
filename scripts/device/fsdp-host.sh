#!/usr/bin/env bash
# Device run (4 H200s), back as $OUT/fh.tar.gz: what FSDP2's hooks cost the host. This
# machine's host.csv (with the FSDP unit rows: layer_llama_fsdp2, fsdp_unit,
# fsdp_unit_no_sync) and launch.csv, then llama-1b-fsdp4 back to back, with a 60 ms GPU head
# start, and synchronised, in turn, twice; then the other validation plans back to back
# (run_all.py) while time is left, so that the tables measured here price each plan
# measured here (docs/accuracy.md, "FSDP's hooks on the host"). Stops with exit status 3
# unless the machine has 4 H200s.
. "$(dirname "$0")/common.sh"
require_h200s 4
python3 -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.nccl.version())'
results_dir fh
host_tables "$H" "${HOST_S:-200}"
grep -E "fsdp|layer_llama/" "$H/host.log"
RUN_TIMEOUT=90
for round in 1 2; do
  run_plan "$H" "llama-1b-fsdp4.r$round.b2b" "$P/llama-1b-fsdp4.json" --iterations 10 --warmup 3 --back-to-back
  run_plan "$H" "llama-1b-fsdp4.r$round.head" "$P/llama-1b-fsdp4.json" --iterations 10 --warmup 3 --gpu-head-start 60
  run_plan "$H" "llama-1b-fsdp4.r$round.sync" "$P/llama-1b-fsdp4.json" --iterations 10 --warmup 3
done
left=$(( ${BUDGET:-560} - SECONDS ))
[ "$left" -gt 60 ] && timeout "$left" python3 scripts/validate/run_all.py "$P" --out "$H/b2b" --back-to-back \
  --iterations 10 --warmup 3 --time-limit $(( left - 10 )) --plan-timeout 90 \
  --only "${PLANS:-llama-1b-tp2,llama-1b-tp2-dp2,gpt-350m-ddp4,gpt-350m-ddp2,gpt-350m-zero1-dp4,gpt-350m-1f1b4,gpt-350m-gpipe2,gpt-350m-mb2,llama-1b-base,moe-ep4,moe-ep2,llama-1b-tp4-sp}" \
  > "$H/b2b.log" 2>&1
echo "run_all rc=$? at ${SECONDS}s"; tail -3 "$H/b2b.log"
pack_results
