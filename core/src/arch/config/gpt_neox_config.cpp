// config.json of GPT-NeoX / Pythia (partial rotary, parallel residual, fused qkv).
#include "arch/config/arch_spec.h"
#include "arch/config/weight_names.h"

namespace attnscope::core {
namespace {

void configureNeoX(const ConfigJson& j, ModelConfig& c) {
    c.arch = "gpt_neox";
    configurePlainMha(j, c, "hidden_act", "gelu");
    configureRope(j, c);
    c.rope.style = RopeStyle::HalfSplit;
    c.parallelResidual = j.boolean("use_parallel_residual", true);
    c.tiedEmbeddings = j.boolean("tie_word_embeddings", false);
}

bool describeNeoX(const std::string& name, int& layer, std::string& component) {
    static constexpr WeightRole kLayer[] = {
        {"attention.query_key_value.weight", "qkv"}, {"attention.dense.weight", "o"},
        {"mlp.dense_h_to_4h.weight", "up"}, {"mlp.dense_4h_to_h.weight", "down"}};
    static constexpr WeightRole kGlobal[] = {{"gpt_neox.embed_in.weight", "embed"}, {"embed_out.weight", "lm_head"}};
    return describeByRoles(name, "gpt_neox.layers.", kLayer, kGlobal, layer, component);
}

}  // namespace

extern const ArchSpec kGptNeoXSpec{"gpt_neox", configureNeoX, describeNeoX};

}  // namespace attnscope::core
