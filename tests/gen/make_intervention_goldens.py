#!/usr/bin/env python3
"""Golden logits of interventions for AttnScope's tests, from Hugging Face transformers.

Run on the GPU machine (torch, transformers 5.x) from the repository root:
    python3 tests/gen/make_intervention_goldens.py [--out DIR]

For every fixture model in tests/data/models/<family> it reloads the directory in f32 (eager
attention) and runs its ref.safetensors prompt with forward hooks that ablate:
  head_zero     - layer 1, head 2's slice of the output projection's input set to 0;
  head_mean     - layer 0, head 1's slice replaced by its mean over positions 1..T-1;
  mlp_zero      - layer 0's MLP output at positions 3 and 7 set to 0;
  attn_mean     - layer 1's attention output (after the output projection) at position 5
                  replaced by its mean over positions 1..T-1;
and writes the logits [T, V] f32 of each run to interventions.safetensors beside ref.safetensors.
"""
import argparse
import os

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

ROOT = os.path.join(os.path.dirname(__file__), "..", "data", "models")


def blocks(model):
    m = model.base_model
    if hasattr(m, "h"):  # gpt2
        return [(b.attn, b.attn.c_proj, b.mlp) for b in m.h]
    if hasattr(m, "layers") and hasattr(m.layers[0], "attention"):  # gpt_neox
        return [(b.attention, b.attention.dense, b.mlp) for b in m.layers]
    return [(b.self_attn, b.self_attn.o_proj, b.mlp) for b in m.layers]


def head_hook(layer_heads, d, mode):
    def pre(module, args):
        x = args[0].clone()  # [1, T, H*d]
        for h in layer_heads:
            s = x[..., h * d:(h + 1) * d]
            if mode == "zero":
                x[..., h * d:(h + 1) * d] = 0
            else:
                x[..., h * d:(h + 1) * d] = s[:, 1:].mean(1, keepdim=True).expand_as(s)
        return (x,) + tuple(args[1:])
    return pre


def rows_hook(rows, mode):
    def post(module, args, out):
        t = out[0] if isinstance(out, tuple) else out
        t = t.clone()
        for r in rows:
            t[:, r] = 0 if mode == "zero" else t[:, 1:].mean(1)
        return (t,) + tuple(out[1:]) if isinstance(out, tuple) else t
    return post


def run(model, ids, setup):
    handles = setup(blocks(model))
    with torch.no_grad():
        logits = model(ids[None]).logits[0].float().contiguous()
    for h in handles:
        h.remove()
    return logits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="write <out>/<family>/interventions.safetensors (default: beside the fixtures)")
    a = ap.parse_args()
    for family in sorted(os.listdir(ROOT)):
        d = os.path.join(ROOT, family)
        if not os.path.exists(os.path.join(d, "ref.safetensors")):
            continue
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
        cfg = model.config
        H = cfg.num_attention_heads
        dh = getattr(cfg, "head_dim", None) or cfg.hidden_size // H
        ids = load_file(os.path.join(d, "ref.safetensors"))["input_ids"]
        cases = {
            "head_zero": lambda b: [b[1][1].register_forward_pre_hook(head_hook([2], dh, "zero"))],
            "head_mean": lambda b: [b[0][1].register_forward_pre_hook(head_hook([1], dh, "mean"))],
            "mlp_zero": lambda b: [b[0][2].register_forward_hook(rows_hook([3, 7], "zero"))],
            "attn_mean": lambda b: [b[1][0].register_forward_hook(rows_hook([5], "mean"))],
        }
        out = {name: run(model, ids, setup) for name, setup in cases.items()}
        out["clean"] = run(model, ids, lambda b: [])
        dest = os.path.join(a.out, family) if a.out else d
        os.makedirs(dest, exist_ok=True)
        save_file(out, os.path.join(dest, "interventions.safetensors"))
        print(family, {k: list(v.shape) for k, v in out.items()})


if __name__ == "__main__":
    main()
