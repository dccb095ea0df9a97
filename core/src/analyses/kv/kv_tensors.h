// Torch side of the KV lab: the opaque KvEvictionTensors behind KvInputs, and what the policies
// with their own expensive inputs (ZipCache, TriAttention, ExpectedAttention) compute.
#pragma once
#include <ATen/ATen.h>

#include <vector>

#include "analyses/kv/kv_policy.h"
#include "arch/config/model_config.h"
#include "trace/attention_stats_impl.h"

namespace attnscope {

struct KvEvictionTensors {
    double scale = 1.0;                  // logit scale
    std::vector<at::Tensor> probs;       // [L] [H, C, T] full-cache probabilities of the continuation rows
    std::vector<at::Tensor> q;           // [L] [H, C, d] continuation queries, post-RoPE
    std::vector<at::Tensor> k, v;        // [L] [Hkv, T, d]
    std::vector<at::Tensor> out;         // [L] [H, C, d] full-cache outputs P·V
    std::vector<at::Tensor> wo;          // [L] [H, D, d] W_O per head (empty without a model)
    std::vector<at::Tensor> residNorm;   // [L] [C] ||h^l_q|| (empty without a model)
};

namespace kv {

// What the per-policy preparations read, per layer (float32 tensors of the traced run).
struct PrepareContext {
    std::vector<core::QkView> views;   // post-RoPE q [T, H, d], k [T, Hkv, d], scale, window
    std::vector<at::Tensor> qPre, kPre;  // [T, H, d], [T, Hkv, d]; empty for raw inputs
    std::vector<at::Tensor> v;           // [T, Hkv, d]
    const core::RopeConfig* rope = nullptr;  // null: no RoPE geometry (raw inputs)
};

// ZipCache probe rows and their sums (zipProbes, zipRows, zipSum).
void prepareZipCache(KvInputs& in, const PrepareContext& ctx);
// TriAttention scores (triMean, triMax) from pre-RoPE q/k, calibrated on the prompt.
void prepareTriAttention(KvInputs& in, const PrepareContext& ctx);
// ExpectedAttention per-query-head softmax scores (expected).
void prepareExpectedAttention(KvInputs& in, const PrepareContext& ctx);

// ZipCache's mixed-precision quantizers on one layer's prompt keys/values [Tp, Hkv, d]
// (in place): salient tokens of each KV head at `highBits`, the others at `lowBits`.
void zipQuantize(at::Tensor& k, at::Tensor& v, const KvSelection& sel, int layer, int highBits, int lowBits);

// KL(full || comp), top-1 agreement and perplexities of continuation logits [C, V] (query
// positions T_p .. T_p + C − 1; `ids` holds every token).
KvEndToEnd compareLogits(const at::Tensor& full, const at::Tensor& comp, const std::vector<int32_t>& ids,
                         int64_t promptLength);

// RoPE inverse frequencies and the (a, b) index pairs each frequency rotates.
at::Tensor ropeFrequencies(const core::RopeConfig& rope);  // [rotaryDim/2] float64
void ropePairs(const core::RopeConfig& rope, int64_t headDim, std::vector<int64_t>& a, std::vector<int64_t>& b);

}  // namespace kv
}  // namespace attnscope
