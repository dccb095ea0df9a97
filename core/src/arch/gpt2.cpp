// GPT-2: learned positions, LayerNorm, gelu_new, Conv1D weights stored [in, out] and a
// fused c_attn that we split into q, k, v.
#include "arch/arch_registry.h"
#include "attnscope/error.h"

namespace attnscope::core {
namespace {

constexpr bool kConv1D = true;  // TensorLoader::linear: stored [in, out]

// HF GPT-2 checkpoints exist with and without the "transformer." prefix.
std::string prefixOf(const TensorLoader& ld) {
    return ld.has("transformer.wte.weight") ? "transformer." : "";
}

Weights loadGpt2(const TensorLoader& ld, const ModelConfig& c) {
    const int64_t D = c.dModel, F = c.dFF, V = c.vocabSize;
    const std::string pre = prefixOf(ld);
    Weights w;
    w.tokEmb = ld.get(pre + "wte.weight", {V, D});
    w.posEmb = ld.get(pre + "wpe.weight", {c.contextLength, D});
    ld.layerNorm(pre + "ln_f", D, w.finalNormW, w.finalNormB);
    w.lmHead = ld.optional("lm_head.weight", {V, D});
    if (!w.lmHead.defined()) w.lmHead = w.tokEmb;
    for (int l = 0; l < c.nLayers; ++l) {
        const std::string p = pre + "h." + std::to_string(l) + ".";
        LayerWeights L;
        ld.layerNorm(p + "ln_1", D, L.attnNormW, L.attnNormB);
        // Conv1D stores [in, out]; the decoder wants nn.Linear's [out, in].
        const at::Tensor qkv = ld.get(p + "attn.c_attn.weight", {D, 3 * D}).t();
        const at::Tensor qkvB = ld.get(p + "attn.c_attn.bias", {3 * D});
        L.wq = qkv.slice(0, 0, D).contiguous();
        L.wk = qkv.slice(0, D, 2 * D).contiguous();
        L.wv = qkv.slice(0, 2 * D, 3 * D).contiguous();
        L.bq = qkvB.slice(0, 0, D).contiguous();
        L.bk = qkvB.slice(0, D, 2 * D).contiguous();
        L.bv = qkvB.slice(0, 2 * D, 3 * D).contiguous();
        ld.linear(p + "attn.c_proj", D, D, L.wo, L.bo, kConv1D);
        ld.layerNorm(p + "ln_2", D, L.mlpNormW, L.mlpNormB);
        ld.linear(p + "mlp.c_fc", F, D, L.wUp, L.bUp, kConv1D);
        ld.linear(p + "mlp.c_proj", D, F, L.wDown, L.bDown, kConv1D);
        w.layers.push_back(std::move(L));
    }
    return w;
}

}  // namespace

extern const ArchEntry kGpt2Arch{"gpt2", loadGpt2};

}  // namespace attnscope::core
