#!/usr/bin/env python3
"""Hugging Face baselines of issue 10 on one CUDA GPU, random bf16 weights, batch 1.

    python3 bench/hf_eager_baseline.py --shape llama-3.1-8b --lengths 1024,4096,8192 \
        [--repeats 3] [--long-repeats 1] [--json out.jsonl]

(b) eager attention with output_attentions=True, then per-head column sums of every
layer's attention (what inspection tools do today); (c) the SDPA forward alone (the floor).
Both keep only the last position's logits (logits_to_keep=1), like our benchmark. Times are
medians after one warm-up (lengths >= 64K: --long-repeats runs, no warm-up), with
torch.cuda.synchronize(); peak memory is torch.cuda.max_memory_allocated (weights included).
Out-of-memory is caught and recorded.
"""
import argparse, gc, json, statistics, time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

SHAPES = {
    "llama-3.2-1b": dict(num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8, hidden_size=2048,
                         intermediate_size=8192, head_dim=64, tie_word_embeddings=True),
    "llama-3.1-8b": dict(num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8, hidden_size=4096,
                         intermediate_size=14336, head_dim=128, tie_word_embeddings=False),
}


def build(shape, context):
    cfg = LlamaConfig(**SHAPES[shape], vocab_size=128256, rope_theta=500000.0, max_position_embeddings=context)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = LlamaForCausalLM(cfg)
    torch.set_default_dtype(torch.float32)
    return model.eval()


def set_impl(model, impl):
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation(impl)
    else:
        model.config._attn_implementation = impl


def eager_column_sums(model, ids):
    out = model(input_ids=ids, use_cache=False, output_attentions=True, logits_to_keep=1)
    cols = [a[0].sum(-2, dtype=torch.float32) for a in out.attentions]  # [H, T] per layer
    return cols


def sdpa_forward(model, ids):
    return model(input_ids=ids, use_cache=False, logits_to_keep=1).logits


def measure(fn, runs, warmup):
    times = []
    try:
        for r in range(warmup + runs):
            torch.cuda.synchronize()
            if r == warmup:
                torch.cuda.reset_peak_memory_stats()
            t0 = time.perf_counter()
            with torch.no_grad():
                res = fn()
            torch.cuda.synchronize()
            del res
            if r >= warmup:
                times.append(time.perf_counter() - t0)
        return dict(time_s=sorted(times)[len(times) // 2], peak_gib=torch.cuda.max_memory_allocated() / 2**30)
    except torch.cuda.OutOfMemoryError:
        peak = torch.cuda.max_memory_allocated() / 2**30
        gc.collect()
        torch.cuda.empty_cache()
        return dict(oom=True, peak_gib=peak)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="llama-3.2-1b", choices=sorted(SHAPES))
    ap.add_argument("--lengths", default="1024,4096,8192")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--long-repeats", type=int, default=1)
    ap.add_argument("--json")
    a = ap.parse_args()
    lengths = [int(x) for x in a.lengths.split(",")]
    model = build(a.shape, max(lengths))
    for T in lengths:
        ids = (torch.arange(T, device="cuda") * 7919 + 13) % 128256
        ids = ids.unsqueeze(0)
        long_run = T >= 65536
        runs, warmup = (a.long_repeats, 0) if long_run else (a.repeats, 1)
        rows = []
        set_impl(model, "eager")
        rows.append(dict(impl="hf_eager_colsum", **measure(lambda: eager_column_sums(model, ids), runs, warmup)))
        set_impl(model, "sdpa")
        rows.append(dict(impl="hf_sdpa", **measure(lambda: sdpa_forward(model, ids), runs, warmup)))
        for r in rows:
            r.update(shape=a.shape, T=T, runs=runs)
            print(json.dumps(r), flush=True)
            if a.json:
                with open(a.json, "a") as f:
                    f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
