#!/usr/bin/env bash
# Runs one experiment of this folder: a patch that makes a candidate cause tunable by an
# environment variable, tried and not kept. Applies PATCH to a scratch copy of the
# repository's committed tree, builds it, and prints `simulate validate`'s per-case time
# errors and its summary line for each VALUE of VARIABLE (docs/accuracy.md cites them).
#   scripts/experiments/run.sh scripts/experiments/host-scale.patch STRATA_HOST_SCALE 1 1.11 1.21
# VALIDATE holds simulate validate's arguments (default: the H100 table), for example
#   VALIDATE="traces/validation/h200-sxm --topology topologies/h200-sxm-4gpu.xml"
set -euo pipefail
cd "$(dirname "$0")/../.."
patch=$(realpath "${1:?name a patch of scripts/experiments}")
variable=${2:?name the variable the patch reads}
shift 2
[ $# -gt 0 ] || { echo "$0: error: give at least one value of $variable" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git archive HEAD | tar -x -C "$work"
cd "$work"
git apply "$patch"
swift build -c release > build.log 2>&1 || { tail -20 build.log >&2; exit 1; }
for value in "$@"; do
  printf '%s=%s: ' "$variable" "$value"
  # shellcheck disable=SC2086  # VALIDATE is a list of arguments
  env "$variable=$value" .build/release/simulate validate ${VALIDATE:-traces/validation/h100-sxm} \
    | awk '/^host-paced:/ { exit } /^(gpt|llama|moe)/ { printf "%s %s; ", $1, $9 } /^time:/ { print "mean", $4, "max", $7 }'
done
