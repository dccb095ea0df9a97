// GPT-2: learned positions, LayerNorm, gelu_new, Conv1D weights stored [in, out] and a
// fused c_attn that we split into q, k, v.
#include "arch/arch_registry.h"
#include "arch/weight_names.h"
#include "attnscope/error.h"

namespace attnscope::core {
namespace {

void configureGpt2(const ConfigJson& j, ModelConfig& c) {
    c.arch = "gpt2";
    configureCommonDims(j, c);
    c.nKvHeads = c.nHeads;
    c.headDim = c.dModel / c.nHeads;
    c.dFF = j.integerOr({"n_inner"}, 4 * c.dModel);
    c.contextLength = j.integerOr({"n_positions", "n_ctx"}, 1024);
    c.tiedEmbeddings = j.boolean("tie_word_embeddings", true);
    c.norm = NormKind::Layer;
    c.mlp = MlpKind::Plain;
    const std::string act = j.string("activation_function", "gelu_new");
    if (act == "gelu_new" || act == "gelu_pytorch_tanh") c.act = Activation::GeluTanh;
    else if (act == "gelu") c.act = Activation::Gelu;
    else if (act == "relu") c.act = Activation::Relu;
    else fail(ErrorKind::Unsupported, j.source() + ": activation_function '" + act + "' is not supported");
    c.rope.style = RopeStyle::None;
    c.learnedPositions = true;
    if (!j.boolean("scale_attn_weights", true)) c.attnScale = 1.0;
    if (j.boolean("scale_attn_by_inverse_layer_idx", false) || j.boolean("reorder_and_upcast_attn", false))
        fail(ErrorKind::Unsupported, j.source() + ": per-layer attention scaling is not supported");
}

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

// Conv1D weights keep their file names and [in, out] layout; c_attn is the fused qkv.
// The learned position table (wpe) is no projection and is left out.
bool describeGpt2(const std::string& name, int& layer, std::string& component) {
    static constexpr WeightRole kLayer[] = {{"attn.c_attn.weight", "qkv"}, {"attn.c_proj.weight", "o"},
                                            {"mlp.c_fc.weight", "up"}, {"mlp.c_proj.weight", "down"}};
    static constexpr WeightRole kGlobal[] = {{"wte.weight", "embed"}, {"lm_head.weight", "lm_head"}};
    return describeByRoles(name, "h.", kLayer, kGlobal, layer, component);
}

}  // namespace

extern const ArchEntry kGpt2Arch{"gpt2", configureGpt2, loadGpt2, describeGpt2};

}  // namespace attnscope::core
