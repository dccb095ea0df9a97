// config.json of the Llama-layout decoders: llama, mistral, qwen2, qwen3.
#include "arch/config/arch_spec.h"
#include "arch/config/weight_names.h"
#include "attnscope/error.h"

namespace attnscope::core {
namespace {

void configureLlamaLike(const ConfigJson& j, ModelConfig& c) {
    configureCommonDims(j, c);
    configureRope(j, c);
    c.norm = NormKind::RMS;
    c.mlp = MlpKind::GatedSilu;
    c.act = activationOf(j, "hidden_act", "silu");
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

bool describeLlamaLike(const std::string& name, int& layer, std::string& component) {
    static constexpr WeightRole kLayer[] = {
        {"self_attn.q_proj.weight", "q"}, {"self_attn.k_proj.weight", "k"}, {"self_attn.v_proj.weight", "v"},
        {"self_attn.o_proj.weight", "o"}, {"mlp.gate_proj.weight", "gate"}, {"mlp.up_proj.weight", "up"},
        {"mlp.down_proj.weight", "down"}};
    static constexpr WeightRole kGlobal[] = {{"model.embed_tokens.weight", "embed"}, {"lm_head.weight", "lm_head"}};
    return describeByRoles(name, "model.layers.", kLayer, kGlobal, layer, component);
}

}  // namespace

extern const ArchSpec kLlamaSpec{"llama", configureLlama, describeLlamaLike};
extern const ArchSpec kMistralSpec{"mistral", configureMistral, describeLlamaLike};
extern const ArchSpec kQwen2Spec{"qwen2", configureQwen2, describeLlamaLike};
extern const ArchSpec kQwen3Spec{"qwen3", configureQwen3, describeLlamaLike};

}  // namespace attnscope::core
