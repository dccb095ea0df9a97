// window and dilated: sliding-window and dilated-neighbourhood masks on softmax, reference B.1.
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

std::vector<VariantParamSpec> windowParams(double w, double dilation) {
    return {{"w", w, 1, 1e9, {}, "keys per query: i − δ·t for t = 0..w−1"},
            {"dilation", dilation, 1, 1e6, {}, "δ, the stride between kept keys (1 = a plain window)"},
            {"sink_tokens", 0, 0, 1e6, {}, "the first n tokens always kept (4 = StreamingLLM-style)"}};
}

// M(i) = {i − δt : t < w} ∪ {j < sinks}, renormalised softmax over it.
VariantTensors windowed(const HeadTensors& in, const Params& p) {
    const int64_t w = p.integer("w"), dil = p.integer("dilation"), sinks = p.integer("sink_tokens");
    const at::Tensor i = in.queryIndex(), j = in.keyIndex();
    const at::Tensor off = i - j;
    const at::Tensor keep = ((off >= 0) & (off < w * dil) & (off.remainder(dil) == 0)) | (j < sinks);
    VariantTensors r = fromMap(maskedSoftmax(scores(in), in, keep), in);
    return withCurve(std::move(r), (r.w > 0).sum(1).to(at::kDouble), "kept keys");
}

}  // namespace

const VariantEntry& windowVariant() {
    static const VariantEntry e{
        {"window", "Sliding window", VariantFamily::Sparse,
         "Each query keeps only its w most recent keys (optionally plus the first sink tokens) and softmax is "
         "renormalised over them. Shows how much of each row's mass sits beyond the window — and what dropping the "
         "attention sink does when sink_tokens = 0.",
         "reference B.1; Neighborhood Attention, arXiv 2403.04690 [RECON 1-D causal form]", true, windowParams(256, 1)},
        windowed};
    return e;
}

const VariantEntry& dilatedVariant() {
    static const VariantEntry e{
        {"dilated", "Dilated neighbourhood", VariantFamily::Sparse,
         "Causal dilated neighbourhood attention: w keys at stride δ behind the query (i, i−δ, i−2δ, ...), which "
         "reaches w·δ tokens back with w keys.",
         "reference B.1; Neighborhood Attention, arXiv 2403.04690 [RECON 1-D causal form]", true, windowParams(64, 2)},
        windowed};
    return e;
}

}  // namespace attnscope::variants
