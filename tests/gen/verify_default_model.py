#!/usr/bin/env python3
"""Checks a model trained by `attnscope-cli train` against Hugging Face (GPU machine).

    python3 tests/gen/verify_default_model.py --cli BUILD/app/cli/attnscope-cli --model DIR --corpus DIR

1. transformers loads DIR unchanged as LlamaForCausalLM; its f32 logits for test prompts
   equal attnscope's (`dump`, f32, CPU and CUDA) within 1e-3.
2. tokenizers loads DIR/tokenizer.json; its ids equal attnscope's on 40 held-out
   documents (every 20th, as the trainer splits) and on special-token strings.
"""
import argparse, glob, json, os, subprocess, sys, tempfile

import numpy as np
import torch
from safetensors.numpy import load_file
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM, AutoTokenizer


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"{cmd[1]} failed: {p.stderr}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    fails = 0
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32, attn_implementation="eager").eval()
    hf_tok = AutoTokenizer.from_pretrained(a.model)
    tmp = tempfile.mkdtemp()
    for prompt in ["Fellow-Citizens of the Senate and House of Representatives:",
                   "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money"]:
        ids = hf_tok(prompt)["input_ids"]
        with torch.no_grad():
            ref = model(torch.tensor([ids])).logits[0].numpy()
        for dev in ("cpu", "cuda"):
            out = os.path.join(tmp, f"d-{dev}.safetensors")
            run([a.cli, "dump", "--model", a.model, "--ids", ",".join(map(str, ids)), "--device", dev,
                 "--no-attentions", "--out", out])
            err = float(np.abs(load_file(out)["logits"] - ref).max())
            ok = err <= 1e-3
            fails += not ok
            print(f"{'PASS' if ok else 'FAIL'} logits vs transformers ({dev}, {len(ids)} tokens): max-abs {err:.2e}")
    tok = Tokenizer.from_file(os.path.join(a.model, "tokenizer.json"))
    docs = sorted(glob.glob(os.path.join(a.corpus, "**", "*.txt"), recursive=True))
    docs = [d for d in docs if "/." not in d]
    held = [d for i, d in enumerate(docs) if i % 20 == 19][:40]
    same = 0
    texts = [open(d, encoding="utf-8").read() for d in held] + ["<|bos|>Hello<|eos|> world  \n\n\t tabs 1234 ünïcødé 🚀"]
    for t in texts:
        p = os.path.join(tmp, "t.txt")
        open(p, "w", encoding="utf-8").write(t)
        ours = json.loads(run([a.cli, "tokenize", "--tokenizer", a.model, "--prompt-file", p]))["ids"]
        same += ours == tok.encode(t).ids
    ok = same == len(texts)
    fails += not ok
    print(f"{'PASS' if ok else 'FAIL'} tokenizer ids equal Hugging Face tokenizers on {same}/{len(texts)} texts")
    print(f"{4 + 1 - fails} passed, {fails} failed")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
