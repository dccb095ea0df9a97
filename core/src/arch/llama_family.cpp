// Llama-layout decoders: llama (Llama-2/3/3.1/3.2), mistral, qwen2, qwen3.
// Same tensor names; they differ in biases, QK-norm and sliding windows.
#include "arch/arch_registry.h"
#include "arch/weight_names.h"
#include "attnscope/error.h"

namespace attnscope::core {
namespace {

Activation activationOf(const ConfigJson& j) {
    const std::string a = j.string("hidden_act", "silu");
    if (a == "silu" || a == "swish") return Activation::Silu;
    if (a == "gelu") return Activation::Gelu;
    if (a == "gelu_pytorch_tanh" || a == "gelu_new") return Activation::GeluTanh;
    fail(ErrorKind::Unsupported, j.source() + ": hidden_act '" + a + "' is not supported");
}

void configureLlamaLike(const ConfigJson& j, ModelConfig& c) {
    configureCommonDims(j, c);
    configureRope(j, c);
    c.norm = NormKind::RMS;
    c.mlp = MlpKind::GatedSilu;
    c.act = activationOf(j);
    c.rope.style = RopeStyle::HalfSplit;
}

void configureLlama(const ConfigJson& j, ModelConfig& c) {
    configureLlamaLike(j, c);
    c.arch = "llama";
}

void configureMistral(const ConfigJson& j, ModelConfig& c) {
    configureLlamaLike(j, c);
    c.arch = "mistral";
    c.slidingWindow = j.integerOr({"sliding_window"}, 0);
}

void configureQwen(const ConfigJson& j, ModelConfig& c, const char* arch) {
    configureLlamaLike(j, c);
    c.arch = arch;
    // Qwen configs carry a sliding_window value that only applies when enabled.
    if (j.boolean("use_sliding_window", false)) {
        if (j.integerOr({"max_window_layers"}, c.nLayers) < c.nLayers)
            fail(ErrorKind::Unsupported, j.source() + ": per-layer sliding windows (max_window_layers) are not supported yet");
        c.slidingWindow = j.integerOr({"sliding_window"}, 0);
    }
}

void configureQwen2(const ConfigJson& j, ModelConfig& c) { configureQwen(j, c, "qwen2"); }

void configureQwen3(const ConfigJson& j, ModelConfig& c) {
    configureQwen(j, c, "qwen3");
    c.qkNorm = true;
}

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

bool describeLlamaLike(const std::string& name, int& layer, std::string& component) {
    static constexpr WeightRole kLayer[] = {
        {"self_attn.q_proj.weight", "q"}, {"self_attn.k_proj.weight", "k"}, {"self_attn.v_proj.weight", "v"},
        {"self_attn.o_proj.weight", "o"}, {"mlp.gate_proj.weight", "gate"}, {"mlp.up_proj.weight", "up"},
        {"mlp.down_proj.weight", "down"}};
    static constexpr WeightRole kGlobal[] = {{"model.embed_tokens.weight", "embed"}, {"lm_head.weight", "lm_head"}};
    return describeByRoles(name, "model.layers.", kLayer, kGlobal, layer, component);
}

}  // namespace

extern const ArchEntry kLlamaArch{"llama", configureLlama, loadLlamaLike, describeLlamaLike};
extern const ArchEntry kMistralArch{"mistral", configureMistral, loadLlamaLike, describeLlamaLike};
extern const ArchEntry kQwen2Arch{"qwen2", configureQwen2, loadLlamaLike, describeLlamaLike};
extern const ArchEntry kQwen3Arch{"qwen3", configureQwen3, loadLlamaLike, describeLlamaLike};

}  // namespace attnscope::core
