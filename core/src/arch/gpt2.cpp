// GPT-2: learned positions, LayerNorm, gelu_new, Conv1D weights stored [in, out] and a
// fused c_attn that we split into q, k, v.
#include "arch/arch_registry.h"
#include "attnscope/error.h"

namespace attnscope::core {
namespace {

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
    w.finalNormW = ld.get(pre + "ln_f.weight", {D});
    w.finalNormB = ld.get(pre + "ln_f.bias", {D});
    w.lmHead = ld.optional("lm_head.weight", {V, D});
    if (!w.lmHead.defined()) w.lmHead = w.tokEmb;
    for (int l = 0; l < c.nLayers; ++l) {
        const std::string p = pre + "h." + std::to_string(l) + ".";
        LayerWeights L;
        L.attnNormW = ld.get(p + "ln_1.weight", {D});
        L.attnNormB = ld.get(p + "ln_1.bias", {D});
        // Conv1D stores [in, out]; the decoder wants nn.Linear's [out, in].
        const at::Tensor qkv = ld.get(p + "attn.c_attn.weight", {D, 3 * D}).t();
        const at::Tensor qkvB = ld.get(p + "attn.c_attn.bias", {3 * D});
        L.wq = qkv.slice(0, 0, D).contiguous();
        L.wk = qkv.slice(0, D, 2 * D).contiguous();
        L.wv = qkv.slice(0, 2 * D, 3 * D).contiguous();
        L.bq = qkvB.slice(0, 0, D).contiguous();
        L.bk = qkvB.slice(0, D, 2 * D).contiguous();
        L.bv = qkvB.slice(0, 2 * D, 3 * D).contiguous();
        L.wo = ld.get(p + "attn.c_proj.weight", {D, D}).t().contiguous();
        L.bo = ld.get(p + "attn.c_proj.bias", {D});
        L.mlpNormW = ld.get(p + "ln_2.weight", {D});
        L.mlpNormB = ld.get(p + "ln_2.bias", {D});
        L.wUp = ld.get(p + "mlp.c_fc.weight", {D, F}).t().contiguous();
        L.bUp = ld.get(p + "mlp.c_fc.bias", {F});
        L.wDown = ld.get(p + "mlp.c_proj.weight", {F, D}).t().contiguous();
        L.bDown = ld.get(p + "mlp.c_proj.bias", {D});
        w.layers.push_back(std::move(L));
    }
    return w;
}

}  // namespace

extern const ArchEntry kGpt2Arch{"gpt2", loadGpt2};

}  // namespace attnscope::core
