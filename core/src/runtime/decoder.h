// The generic decoder: one forward for every family, driven by ModelConfig options,
// with named capture points for the trace and an optional KV cache for generation.
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <stop_token>
#include <vector>

#include "arch/config/model_config.h"
#include "attnscope/job.h"
#include "attnscope/trace.h"
#include "runtime/rope.h"
#include "arch/weights.h"

namespace attnscope::core {

struct LayerCapture {
    at::Tensor residIn, residOut, attnIn;  // [T, D]
    at::Tensor qPre, kPre;                 // [T, H, d], [T, Hkv, d]
    at::Tensor q, k, v;                    // post-RoPE [T, H, d], [T, Hkv, d], [T, Hkv, d]
    at::Tensor headOut;                    // [T, H, d]
    at::Tensor mlpIn, mlpOut;              // [T, D]
};

struct KvCache {
    std::vector<at::Tensor> k, v;  // per layer [Tc, Hkv, d]
    int64_t length = 0;
};

struct ForwardRequest {
    at::Tensor ids;                       // [T] or [B, T] int64 on the model's device
    int64_t pos0 = 0;                     // absolute position of ids[0]
    KvCache* cache = nullptr;             // appended to when given
    const TracePolicy* trace = nullptr;   // capture when given
    bool allLogits = true;                // false: only the last position
    bool training = false;                // keep the autograd graph (trainer)
    // KV eviction (analyses/kv): empty, or per layer a bool [Hm, Tk] over every key position
    // (cache + new; Hm = 1, Hkv or H); false hides that key from all queries of this request.
    std::vector<at::Tensor> keyMask;
    JobControl job;  // stop between layers (and attention tiles on the CPU), progress per layer
    // Called for every layer of a prefill (no cache) with post-RoPE q [T, H, d] and k
    // [T, Hkv, d] before the trace policy may drop them: statistics while the forward runs.
    // With wantRowLse, rowLse is the fused (cuDNN or flash) forward's row log-sum-exp [H, T] where it ran
    // (else undefined).
    std::function<void(int layer, const at::Tensor& q, const at::Tensor& k, const at::Tensor& rowLse)> onLayerQk;
    bool wantRowLse = false;
    // Replaces a layer's attention (the attention-variants lab): called for every layer of a
    // prefill of one sequence without a cache with the layer's inputs (a LayerCapture holding
    // qPre, kPre, q, k, v) and the model's own per-head output [T, H, d]; what it returns
    // ([T, H, d], or undefined to keep the model's) goes into the output projection.
    std::function<at::Tensor(int layer, const LayerCapture& inputs, const at::Tensor& headOut)> attentionOverride;
    // Interventions (analyses/interventions): each layer's attention output after the output
    // projection, MLP output and residual leaving the layer, [T, D], for a prefill of one
    // sequence without a cache; what a hook returns (undefined: keep) replaces the tensor.
    std::function<at::Tensor(int layer, const at::Tensor& attnOut)> attnOutOverride;
    std::function<at::Tensor(int layer, const at::Tensor& mlpOut)> mlpOverride;
    std::function<at::Tensor(int layer, const at::Tensor& residOut)> residOverride;
};

struct ForwardResult {
    at::Tensor logits;                 // [T or 1, V] float32 ([B, T, V] for batched ids)
    std::vector<LayerCapture> layers;  // empty without a trace (traces need B = 1)
};

class Decoder {
public:
    Decoder(ModelConfig config, Weights weights, at::Device device, at::ScalarType dtype);

    ForwardResult forward(const ForwardRequest& request) const;

    // The logits of residual-stream rows h [.., D] as the model's last step makes them: final
    // norm, then the unembedding (the logit lens reads every layer through it).
    at::Tensor unembed(const at::Tensor& h) const;

    const ModelConfig& config() const { return m_config; }
    const Weights& weights() const { return m_weights; }
    at::Device device() const { return m_device; }
    at::ScalarType dtype() const { return m_dtype; }

private:
    at::Tensor norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const;
    at::Tensor mlp(const at::Tensor& x, const LayerWeights& L) const;

    ModelConfig m_config;
    Weights m_weights;
    at::Device m_device;
    at::ScalarType m_dtype;
    RopeTables m_rope;
};

// RMSNorm as HF computes it: in float32, scaled by the weight in the input dtype.
// The MLP nonlinearity of a family (also used by the quantization lab's calibration).
at::Tensor activate(const at::Tensor& x, Activation a);
at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace attnscope::core
