// Llama-layout decoders: llama (Llama-2/3/3.1/3.2), mistral, qwen2, qwen3.
// Same tensor names; they differ in biases, QK-norm and sliding windows.
#include "arch/arch_registry.h"
#include "attnscope/error.h"

namespace attnscope::core {
namespace {

Weights loadLlamaLike(const TensorLoader& ld, const ModelConfig& c) {
    const int64_t D = c.dModel, F = c.dFF, V = c.vocabSize;
    const int64_t qd = int64_t(c.nHeads) * c.headDim, kvd = int64_t(c.nKvHeads) * c.headDim;
    const bool qkvBias = c.arch == "qwen2";
    Weights w;
    w.tokEmb = ld.get("model.embed_tokens.weight", {V, D});
    w.finalNormW = ld.get("model.norm.weight", {D});
    w.lmHead = ld.optional("lm_head.weight", {V, D});
    if (!w.lmHead.defined()) {
        if (!c.tiedEmbeddings) ld.get("lm_head.weight", {V, D});  // throws the missing-tensor error
        w.lmHead = w.tokEmb;
    }
    for (int l = 0; l < c.nLayers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        LayerWeights L;
        L.attnNormW = ld.get(p + "input_layernorm.weight", {D});
        L.wq = ld.get(p + "self_attn.q_proj.weight", {qd, D});
        L.wk = ld.get(p + "self_attn.k_proj.weight", {kvd, D});
        L.wv = ld.get(p + "self_attn.v_proj.weight", {kvd, D});
        L.wo = ld.get(p + "self_attn.o_proj.weight", {D, qd});
        if (qkvBias) {
            L.bq = ld.get(p + "self_attn.q_proj.bias", {qd});
            L.bk = ld.get(p + "self_attn.k_proj.bias", {kvd});
            L.bv = ld.get(p + "self_attn.v_proj.bias", {kvd});
        } else {  // Llama's attention_bias option
            L.bq = ld.optional(p + "self_attn.q_proj.bias", {qd});
            L.bk = ld.optional(p + "self_attn.k_proj.bias", {kvd});
            L.bv = ld.optional(p + "self_attn.v_proj.bias", {kvd});
        }
        L.bo = ld.optional(p + "self_attn.o_proj.bias", {D});
        if (c.qkNorm) {
            L.qNorm = ld.get(p + "self_attn.q_norm.weight", {c.headDim});
            L.kNorm = ld.get(p + "self_attn.k_norm.weight", {c.headDim});
        }
        L.mlpNormW = ld.get(p + "post_attention_layernorm.weight", {D});
        L.wGate = ld.get(p + "mlp.gate_proj.weight", {F, D});
        L.wUp = ld.get(p + "mlp.up_proj.weight", {F, D});
        L.wDown = ld.get(p + "mlp.down_proj.weight", {D, F});
        L.bGate = ld.optional(p + "mlp.gate_proj.bias", {F});
        L.bUp = ld.optional(p + "mlp.up_proj.bias", {F});
        L.bDown = ld.optional(p + "mlp.down_proj.bias", {D});
        w.layers.push_back(std::move(L));
    }
    return w;
}

}  // namespace

extern const ArchEntry kLlamaArch{"llama", loadLlamaLike};
extern const ArchEntry kMistralArch{"mistral", loadLlamaLike};
extern const ArchEntry kQwen2Arch{"qwen2", loadLlamaLike};
extern const ArchEntry kQwen3Arch{"qwen3", loadLlamaLike};

}  // namespace attnscope::core
