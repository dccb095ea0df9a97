// topk: oracle top-k of the true scores, the upper bound of any k-sparse method, reference B.7.
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {

namespace {

VariantTensors topk(const HeadTensors& in, const Params& p) {
    const at::Tensor s = scores(in);
    return fromMap(maskedSoftmax(s, in, topKeys(s, in, p.integer("k")), /*diagonal=*/false), in);
}

}  // namespace

const VariantEntry& topkVariant() {
    static const VariantEntry e{
        {"topk",
         "Oracle top-k",
         VariantFamily::Sparse,
         "Keeps each query's k highest-scoring keys and renormalises: the best any k-sparse method can do, since "
         "it drops the least softmax mass. Its kept mass is the ceiling for SEA, Routing and HyperAttention at "
         "the same k.",
         "reference B.7 [RECON, standard]",
         true,
         {{"k", 64, 1, 1e9, {}, "keys kept per query (64)"}}},
        topk};
    return e;
}

}  // namespace attnscope::variants
