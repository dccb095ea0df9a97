#!/usr/bin/env python3
"""Golden fixtures for AttnScope's core tests, produced by Hugging Face transformers.

Run on the GPU machine (torch 2.11, transformers 5.x, tokenizers):
    python3 tests/gen/make_fixtures.py --tok-dir .devcarry/tok --out /tmp/fixtures

For every architecture family it builds a tiny random-weight model, saves it as a
standard HF directory (config.json + safetensors, some sharded, some in f16/bf16) and
writes ref.safetensors beside it with the eager-attention reference for a fixed prompt:
  input_ids [T] int64, logits [T,V] f32, hidden_states [L+1,T,D] f32,
  attentions [L,H,T,T] f32.
The reference is computed by reloading the saved directory with from_pretrained in f32,
so it is the f32 forward of exactly the stored weights.

With --tok-dir it also encodes a fixed text set with each real tokenizer.json and writes
tokenizer_golden.json: ids with and without special tokens, and the decoded text.
"""
import argparse, json, os, shutil

import torch
from safetensors.torch import save_file
from transformers import AutoConfig, AutoModelForCausalLM

T = 16
SEED = 1234

COMMON = dict(vocab_size=256, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
              num_attention_heads=4, max_position_embeddings=256)

FAMILIES = {
    # Llama-3 style: GQA, llama3 rope scaling, tied embeddings, sharded safetensors.
    "llama3": ("llama", dict(COMMON, num_key_value_heads=2, rope_theta=500000.0,
                             rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                           "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                           "original_max_position_embeddings": 256},
                             tie_word_embeddings=True, rms_norm_eps=1e-5), "float32", "30KB"),
    # Llama-2 style: MHA, untied, stored in f16.
    "llama2": ("llama", dict(COMMON, num_key_value_heads=4, rope_theta=10000.0,
                             tie_word_embeddings=False, rms_norm_eps=1e-6), "float16", None),
    # Mistral: GQA and a sliding window shorter than the prompt, stored in bf16.
    "mistral": ("mistral", dict(COMMON, num_key_value_heads=2, sliding_window=6,
                                tie_word_embeddings=False), "bfloat16", None),
    # Qwen2: q/k/v biases, GQA, tied.
    "qwen2": ("qwen2", dict(COMMON, num_key_value_heads=2, tie_word_embeddings=True,
                            use_sliding_window=False), "float32", None),
    # Qwen3: q_norm/k_norm and head_dim independent of hidden_size, stored in bf16.
    "qwen3": ("qwen3", dict(COMMON, num_key_value_heads=2, head_dim=16, tie_word_embeddings=False,
                            use_sliding_window=False), "bfloat16", None),
    # GPT-2: Conv1D layout, learned positions, LayerNorm, gelu_new, tied.
    "gpt2": ("gpt2", dict(vocab_size=256, n_embd=32, n_layer=2, n_head=4, n_positions=64,
                          activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0,
                          attn_pdrop=0.0), "float32", None),
    # Pythia / GPT-NeoX: fused per-head QKV, partial rotary, parallel residual, untied.
    "gpt_neox": ("gpt_neox", dict(vocab_size=256, hidden_size=32, intermediate_size=64,
                                  num_hidden_layers=2, num_attention_heads=4, rotary_pct=0.5,
                                  use_parallel_residual=True, max_position_embeddings=256,
                                  hidden_act="gelu", tie_word_embeddings=False,
                                  attention_dropout=0.0, hidden_dropout=0.0), "float32", None),
    # GPT-NeoX with the sequential residual.
    "gpt_neox_seq": ("gpt_neox", dict(vocab_size=256, hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=2, num_attention_heads=4, rotary_pct=0.25,
                                      use_parallel_residual=False, max_position_embeddings=256,
                                      hidden_act="gelu", tie_word_embeddings=False,
                                      attention_dropout=0.0, hidden_dropout=0.0), "float32", None),
}

TEXTS = [
    "Hello world! The quick brown fox jumps over the lazy dog.",
    "Accents: café, naïve, Zürich, São Paulo, Ελληνικά, русский текст.",
    "CJK: 你好，世界。日本語のテキスト。한국어 문장.",
    "Emoji: 😀🚀 👩‍👩‍👧 ✨ and digits 1234567 3.14159 2026-11-22 1,000,000",
    "Runs of   spaces,\t\ttabs and\nnew\n\n\nlines   \n  end",
    "  leading spaces and trailing  ",
    "Contractions: don't, I'm, they'll, we've, it's; CAPS: DON'T I'M",
    "code: for (int i = 0; i < n; ++i) { x[i] += y[i] * 2; } // ok",
]
SPECIAL_TEXTS = {
    "llama3": "<|begin_of_text|>Hi there<|eot_id|> and <|start_header_id|>user<|end_header_id|>",
    "qwen3": "<|im_start|>user\nHi there<|im_end|>\n<|endoftext|>",
    "llama2": "<s>Hi there</s> and more",
}


def make_model(name, model_type, kwargs, dtype, shard, out):
    torch.manual_seed(SEED)
    cfg = AutoConfig.for_model(model_type, **kwargs)
    cfg._attn_implementation = "eager"
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").eval()
    # Make norms non-trivial so a missing norm weight cannot go unnoticed.
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.dim() == 1:
                p.add_(0.1 * torch.randn_like(p))
            elif n.endswith("weight"):
                p.normal_(0.0, 0.08)
    model = model.to(getattr(torch, dtype))
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    kw = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(d, **kw)
    # Reload as a user would: f32 compute from exactly the stored weights, with buffers
    # such as RoPE's inv_freq recomputed in f32 (model.to(bf16) would have rounded them).
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    g = torch.Generator().manual_seed(SEED + 1)
    ids = torch.randint(3, cfg.vocab_size, (T,), generator=g)
    with torch.no_grad():
        o = model(ids[None], output_hidden_states=True, output_attentions=True)
    ref = {
        "input_ids": ids.to(torch.int64).contiguous(),
        "logits": o.logits[0].float().contiguous(),
        "hidden_states": torch.stack([h[0] for h in o.hidden_states]).float().contiguous(),
        "attentions": torch.stack([a[0] for a in o.attentions]).float().contiguous(),
    }
    save_file(ref, os.path.join(d, "ref.safetensors"))
    print(name, {k: list(v.shape) for k, v in ref.items()}, sorted(os.listdir(d)))


def tokenizer_golden(tok_dir, out):
    from tokenizers import Tokenizer
    res = {"texts": TEXTS, "tokenizers": {}}
    for name in sorted(os.listdir(tok_dir)):
        tok = Tokenizer.from_file(os.path.join(tok_dir, name, "tokenizer.json"))
        texts = TEXTS + [SPECIAL_TEXTS[name]]
        entry = []
        for t in texts:
            plain = tok.encode(t, add_special_tokens=False).ids
            withsp = tok.encode(t, add_special_tokens=True).ids
            entry.append({"text": t, "ids": plain, "ids_with_special": withsp,
                          "decoded": tok.decode(plain, skip_special_tokens=False)})
        res["tokenizers"][name] = entry
        print(name, [len(e["ids"]) for e in entry])
    with open(os.path.join(out, "tokenizer_golden.json"), "w") as f:
        json.dump(res, f, ensure_ascii=False, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--tok-dir")
    a = ap.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(a.out)
    import transformers
    print("torch", torch.__version__, "transformers", transformers.__version__)
    for name, (mt, kw, dt, shard) in FAMILIES.items():
        make_model(name, mt, kw, dt, shard, os.path.join(a.out, "models"))
    if a.tok_dir:
        tokenizer_golden(a.tok_dir, a.out)


if __name__ == "__main__":
    main()
