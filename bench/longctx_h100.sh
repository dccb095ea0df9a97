#!/bin/sh
# Issue 10's benchmark on one CUDA machine: ours, HF eager + column sums, HF SDPA, one table.
#   bench/longctx_h100.sh BUILD_DIR [PYTHON] > bench/results/longctx_h100.md
# LENGTHS (default 1024,4096,8192,32768,131072) and SHAPES override the sweep.
set -e
B=$1
PY=${2:-python3}
L=${LENGTHS:-1024,4096,8192,32768,131072}
J=${JSON:-$(mktemp)}
for shape in ${SHAPES:-llama-3.2-1b llama-3.1-8b}; do
  "$B/bench/attnscope-bench-longctx" --shape "$shape" --lengths "$L" --json "$J" >&2
  "$PY" bench/hf_eager_baseline.py --shape "$shape" --lengths "$L" --json "$J" >&2
done
echo "# Long context on $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1): forward + all-layer attention statistics vs Hugging Face"
echo
echo "Command: \`bench/longctx_h100.sh $B $PY\` (random bf16 weights, batch 1; medians after a warm-up,"
echo "1 run without warm-up from 64K; peak = torch max allocated incl. weights; all logits_to_keep=1)."
echo
"$PY" bench/longctx_table.py "$J"
echo
echo "## Statistics kernels alone vs libtorch matmul + softmax (one layer, all heads)"
echo
H=1
for shape in ${SHAPES:-llama-3.2-1b llama-3.1-8b}; do
  "$B/bench/attnscope-bench-longctx" --kernel 8192 --shape "$shape" --repeats 5 --header $H
  H=0
done
