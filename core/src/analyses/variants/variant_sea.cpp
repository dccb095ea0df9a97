// sea: top-k keys chosen by a linear-attention estimate, then exact softmax on them, reference
// B.3 (the estimator [RECON]: the paper's learned compression is not available).
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

VariantTensors sea(const HeadTensors& in, const Params& p) {
    const int64_t k = p.integer("k");
    const bool relu = p.choice("estimator") == "relu";
    const at::Tensor estimate =
        linearAttention(relu ? at::relu(in.q) : elu1(in.q), relu ? at::relu(in.k) : elu1(in.k), in, 1e-6).w;
    const at::Tensor j = in.keyIndex();
    const at::Tensor keep = topKeys(estimate, in, k) | (j < p.integer("always_keep_first"));
    const at::Tensor s = scores(in);
    VariantTensors r = fromMap(maskedSoftmax(s, in, keep), in);
    // Recall of the oracle's keys: |M(i) ∩ topk(P_i)| / min(k, n_i).
    const at::Tensor oracle = topKeys(s, in, k);
    return withCurve(std::move(r),
                     ((r.w > 0) & oracle).sum(1).to(at::kDouble) / oracle.sum(1).to(at::kDouble).clamp_min(1),
                     "recall of the oracle top-k");
}

}  // namespace

const VariantEntry& seaVariant() {
    static const VariantEntry e{
        {"sea",
         "SEA (estimated top-k)",
         VariantFamily::Sparse,
         "Estimates the attention map cheaply with linear attention, keeps each query's k best keys by the "
         "estimate, and runs exact softmax on them. Its gap to oracle top-k is the price of the estimate; the "
         "curve shows the recall of the oracle's keys per query.",
         "reference B.3; SEA, arXiv 2310.01777 [RECON estimator]",
         true,
         {{"k", 64, 1, 1e9, {}, "keys kept per query (64)"},
          {"estimator", 0, 0, 1, {"elu1", "relu"}, "the linear-attention feature map of the estimate"},
          {"always_keep_first", 0, 0, 1e6, {}, "the first n tokens always kept (0 or 4)"}}},
        sea};
    return e;
}

}  // namespace attnscope::variants
