// Causal (optionally sliding-window) multi-head attention with GQA, in row blocks so
// that memory stays bounded for long prompts. Logits and softmax in float32.
#pragma once
#include <ATen/ATen.h>

#include <stop_token>

namespace attnscope::core {

struct AttnGeometry {
    double scale = 1.0;
    int64_t window = 0;  // 0: full causal
    int64_t qPos0 = 0;   // absolute position of the first query
    int64_t kPos0 = 0;   // absolute position of the first key
    // Optional KV-eviction mask [Hm, K] bool over absolute key positions 0..K-1 (Hm = H or
    // Hkv): false hides the key from every query (-inf logit), as an evicted cache entry.
    at::Tensor keyMask;
};

// Visibility mask [Tq, Tk] (true = visible) for query/key positions.
at::Tensor attentionMask(int64_t Tq, int64_t Tk, const AttnGeometry& g, at::Device device);

// Masked logits [H, Tq, Tk] float32 (-inf where invisible). q: [Tq, H, d], k: [Tk, Hkv, d].
at::Tensor attentionLogits(const at::Tensor& q, const at::Tensor& k, const AttnGeometry& g);

// Softmax probabilities [H, Tq, Tk] float32.
at::Tensor attentionProbs(const at::Tensor& q, const at::Tensor& k, const AttnGeometry& g);

// Attention output [Tq, H, d] in q's dtype. v: [Tk, Hkv, d]. rowLse: when given and the flash
// forward runs (CUDA bf16/fp16 prefill), set to its row log-sum-exp [H, Tq] (natural log).
at::Tensor attentionForward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const AttnGeometry& g, const std::stop_token& stop,
                            at::Tensor* rowLse = nullptr);

// Query rows per block so that one [H, rows, Tk] float32 block stays near `budgetBytes`.
int64_t queryBlockRows(int64_t heads, int64_t keys, int64_t budgetBytes = int64_t(256) << 20);

}  // namespace attnscope::core
