#!/usr/bin/env bash
# The GPU check of issue 28 (item 5): on a machine with one GPU, within about 8 minutes, the
# exact simulator's torch backend on the GPU against NumPy, `autophagy reproduce N4 --profile
# full`, and an hf_causal_lm loop with a GPT-2-small-sized network built from its config; one
# table at the end. `benchmarks/gpu_check.sh --dry` runs the same steps on the CPU at toy
# sizes (a minute or two). Outputs under $OUT (or --out DIR). See benchmarks/gpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
exec python benchmarks/gpu_check.py "$@"
