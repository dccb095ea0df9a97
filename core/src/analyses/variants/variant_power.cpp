// power: PowerAttention's local keys plus power-of-two offsets, reference B.2 [RECON pattern].
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

VariantTensors power(const HeadTensors& in, const Params& p) {
    const int64_t local = p.integer("w_local"), block = p.integer("block"), sinks = p.integer("sinks");
    const at::Tensor i = in.queryIndex(), j = in.keyIndex();
    const at::Tensor off = i.div(block, "floor") - j.div(block, "floor");  // block offset (tokens: block = 1)
    at::Tensor keep = (off >= 0) & (off < local);
    for (int64_t pw = 1; pw <= in.T; pw *= 2) keep = keep | (off == pw);
    keep = (keep & (j <= i)) | (j < sinks);
    VariantTensors r = fromMap(maskedSoftmax(scores(in), in, keep), in);
    return withCurve(std::move(r), (r.w > 0).sum(1).to(at::kDouble), "kept keys");
}

}  // namespace

const VariantEntry& powerVariant() {
    static const VariantEntry e{
        {"power",
         "PowerAttention",
         VariantFamily::Sparse,
         "Each query keeps w_local neighbours and the keys 1, 2, 4, 8, ... positions (or blocks) back: O(log T) keys "
         "per row, yet L stacked layers reach 2^L tokens. The lab shows one layer's share of softmax mass on "
         "that pattern.",
         "reference B.2; PowerAttention, arXiv 2503.04126 [RECON exact pattern]",
         true,
         {{"w_local", 1, 1, 1e9, {}, "local keys (or blocks) kept behind the query, itself included (1)"},
          {"block", 1, 1, 1e6, {}, "block size B (1 = token level)"},
          {"sinks", 0, 0, 1e6, {}, "the first n tokens always kept (0)"}}},
        power};
    return e;
}

}  // namespace attnscope::variants
