// config.json of GPT-2 (learned positions, LayerNorm, Conv1D weights).
#include "arch/config/arch_spec.h"
#include "arch/config/weight_names.h"
#include "attnscope/error.h"

namespace attnscope::core {
namespace {

void configureGpt2(const ConfigJson& j, ModelConfig& c) {
    c.arch = "gpt2";
    configurePlainMha(j, c, "activation_function", "gelu_new");
    c.dFF = j.integerOr({"n_inner"}, 4 * c.dModel);
    c.contextLength = j.integerOr({"n_positions", "n_ctx"}, 1024);
    c.tiedEmbeddings = j.boolean("tie_word_embeddings", true);
    c.rope.style = RopeStyle::None;
    c.learnedPositions = true;
    if (!j.boolean("scale_attn_weights", true)) c.attnScale = 1.0;
    if (j.boolean("scale_attn_by_inverse_layer_idx", false) || j.boolean("reorder_and_upcast_attn", false))
        fail(ErrorKind::Unsupported, j.source() + ": per-layer attention scaling is not supported");
}

// Conv1D weights keep their file names and [in, out] layout; c_attn is the fused qkv.
// The learned position table (wpe) is no projection and is left out.
bool describeGpt2(const std::string& name, int& layer, std::string& component) {
    static constexpr WeightRole kLayer[] = {{"attn.c_attn.weight", "qkv"}, {"attn.c_proj.weight", "o"},
                                            {"mlp.c_fc.weight", "up"}, {"mlp.c_proj.weight", "down"}};
    static constexpr WeightRole kGlobal[] = {{"wte.weight", "embed"}, {"lm_head.weight", "lm_head"}};
    return describeByRoles(name, "h.", kLayer, kGlobal, layer, component);
}

}  // namespace

extern const ArchSpec kGpt2Spec{"gpt2", configureGpt2, describeGpt2};

}  // namespace attnscope::core
