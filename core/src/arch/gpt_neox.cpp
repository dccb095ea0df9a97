// GPT-NeoX / Pythia: LayerNorm, GELU, partial rotary, optional parallel residual, and a
// fused query_key_value whose output rows are laid out per head as [H, (q|k|v), d].
#include "arch/arch_registry.h"
#include "attnscope/error.h"

namespace attnscope::core {
namespace {

Weights loadNeoX(const TensorLoader& ld, const ModelConfig& c) {
    const int64_t D = c.dModel, F = c.dFF, V = c.vocabSize, H = c.nHeads, d = c.headDim;
    Weights w;
    w.tokEmb = ld.get("gpt_neox.embed_in.weight", {V, D});
    ld.layerNorm("gpt_neox.final_layer_norm", D, w.finalNormW, w.finalNormB);
    w.lmHead = c.tiedEmbeddings ? w.tokEmb : ld.get("embed_out.weight", {V, D});
    for (int l = 0; l < c.nLayers; ++l) {
        const std::string p = "gpt_neox.layers." + std::to_string(l) + ".";
        LayerWeights L;
        ld.layerNorm(p + "input_layernorm", D, L.attnNormW, L.attnNormB);
        const at::Tensor qkv = ld.get(p + "attention.query_key_value.weight", {3 * D, D}).view({H, 3, d, D});
        const at::Tensor qkvB = ld.get(p + "attention.query_key_value.bias", {3 * D}).view({H, 3, d});
        L.wq = qkv.select(1, 0).reshape({H * d, D}).contiguous();
        L.wk = qkv.select(1, 1).reshape({H * d, D}).contiguous();
        L.wv = qkv.select(1, 2).reshape({H * d, D}).contiguous();
        L.bq = qkvB.select(1, 0).reshape({H * d}).contiguous();
        L.bk = qkvB.select(1, 1).reshape({H * d}).contiguous();
        L.bv = qkvB.select(1, 2).reshape({H * d}).contiguous();
        ld.linear(p + "attention.dense", D, D, L.wo, L.bo);
        ld.layerNorm(p + "post_attention_layernorm", D, L.mlpNormW, L.mlpNormB);
        ld.linear(p + "mlp.dense_h_to_4h", F, D, L.wUp, L.bUp);
        ld.linear(p + "mlp.dense_4h_to_h", D, F, L.wDown, L.bDown);
        w.layers.push_back(std::move(L));
    }
    return w;
}

}  // namespace

extern const ArchEntry kGptNeoXArch{"gpt_neox", loadNeoX};

}  // namespace attnscope::core
