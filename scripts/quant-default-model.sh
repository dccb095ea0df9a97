#!/usr/bin/env bash
# The quantization tables of docs/quant/default-model.md (issue 8's closing note), from the
# CLI on the built-in model: RTN 3/4-bit with each low-rank reconstruction at ranks 8 and 32,
# and the 2-bit KV-cache methods. Calibration on the first half of tests/data/heldout_slice.txt,
# perplexity/KL on the second half (held out from the calibration); KV on the whole slice.
# Usage: scripts/quant-default-model.sh [path/to/attnscope-cli] > table.md
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cli="${1:-$root/build/app/cli/attnscope-cli}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
slice="$root/tests/data/heldout_slice.txt"
half=$(( $(wc -c < "$slice") / 2 ))
head -c "$half" "$slice" > "$tmp/calib.txt"
tail -c +"$((half + 1))" "$slice" > "$tmp/eval.txt"

cat > "$tmp/summary.py" <<'PY'
import json, sys
j = json.load(sys.stdin)
if sys.argv[1] == "quant":
    m = j["matrices"]
    w = sum(x["weight_rel_err"] for x in m) / len(m)
    o = sum(x["output_rel_err"] for x in m) / len(m)
    rank = j["rank"] if j["recon"] != "none" else "-"
    print(f"| {j['bits']} | {j['recon']} | {rank} | {w:.4f} | {o:.4f} | {j['ppl']:.3f} | {j['ppl_fp']:.3f} "
          f"| {j['kl']:.4f} | {j['top1_agreement']:.3f} |")
else:
    L = j["layers"]
    s, k, o = (sum(x[key] for x in L) / len(L) for key in ("score_rel_err", "kl_mean", "out_rel_err"))
    print(f"| {j['method']} | {j['bits']} | {j['bits_k']:.3f} | {j['bits_v']:.3f} | {s:.4f} | {k:.5f} | {o:.4f} "
          f"| {j['tokens']} |")
PY

echo "### Weights: rtn-sym, per output row (group -1), calibration $half bytes, eval the rest"
echo
echo "| bits | reconstruction | rank | mean weight rel. err | mean output rel. err | ppl | ppl fp | KL (nats) | top-1 agree |"
echo "|---|---|---|---|---|---|---|---|---|"
for bits in 3 4; do
  "$cli" quant --scheme rtn-sym --bits "$bits" --calib-file "$tmp/calib.txt" --eval-file "$tmp/eval.txt" --json \
    | python3 "$tmp/summary.py" quant
  for recon in lorc lqer qera-approx qera-exact; do
    for rank in 8 32; do
      "$cli" quant --scheme rtn-sym --bits "$bits" --recon "$recon" --rank "$rank" \
        --calib-file "$tmp/calib.txt" --eval-file "$tmp/eval.txt" --json | python3 "$tmp/summary.py" quant
    done
  done
done

echo
echo "### KV cache at 2 bits (method defaults), prompt = the whole slice"
echo
echo "| method | bits | effective bits K | effective bits V | mean score rel. err | mean row KL | mean output rel. err | tokens |"
echo "|---|---|---|---|---|---|---|---|"
for method in kivi hadamard oscar zipcache; do
  "$cli" kvquant --method "$method" --bits 2 --prompt-file "$slice" --json | python3 "$tmp/summary.py" kv
done
