#!/usr/bin/env python3
"""Gu et al.'s attention-sink metric over a checkpoint series (reference §1.1):
per layer, the fraction of heads whose causally normalized attention to the first token
exceeds epsilon, averaged over 64-token probes from held-out documents.

    python3 tests/gen/sink_metric.py --cli BUILD/app/cli/attnscope-cli \
        --model resources/models/attnscope-tiny --corpus CORPUS_DIR [--probes 20]
"""
import argparse, glob, json, os, subprocess, tempfile


def cli(*args):
    return json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--probes", type=int, default=20)
    ap.add_argument("--epsilon", type=float, default=0.3)
    a = ap.parse_args()
    docs = sorted(p for p in glob.glob(os.path.join(a.corpus, "**", "*.txt"), recursive=True) if "/." not in p)
    held = [d for i, d in enumerate(docs) if i % 20 == 19][: a.probes]
    tmp = tempfile.mkdtemp()
    probes = []
    for d in held:
        p = os.path.join(tmp, "doc.txt")
        open(p, "w", encoding="utf-8").write(open(d, encoding="utf-8").read()[:2000])
        probes.append(cli(a.cli, "tokenize", "--tokenizer", a.model, "--prompt-file", p)["ids"][:64])
    series = json.load(open(os.path.join(a.model, "series.json")))["series"]
    print(f"| step | held-out loss | sink metric per layer (% of heads with alpha_0 > {a.epsilon}) | mean over layers 1.. |")
    print("|---|---|---|---|")
    for entry in series:
        path = os.path.join(a.model, entry["path"])
        per_layer = None
        for ids in probes:
            s = cli(a.cli, "stats", "--model", path, "--ids", ",".join(map(str, ids)), "--json")
            fr = [sum(h["col_mean_causal"][0] > a.epsilon for h in l["heads"]) / len(l["heads"]) for l in s["layers"]]
            per_layer = fr if per_layer is None else [x + y for x, y in zip(per_layer, fr)]
        per_layer = [100 * x / len(probes) for x in per_layer]
        rest = per_layer[1:]
        print(f"| {entry['step']} | {entry['heldout_loss']:.3f} | {' / '.join(f'{x:.0f}' for x in per_layer)} | "
              f"{sum(rest) / len(rest):.0f} |")


if __name__ == "__main__":
    main()
