// sinkhorn: doubly-stochastic attention by Sinkhorn iterations, reference C.1 (causal column
// targets [RECON]).
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

VariantTensors sinkhorn(const HeadTensors& in, const Params& p) {
    const at::Tensor hidden = in.visible.logical_not();
    const double inf = std::numeric_limits<double>::infinity();
    at::Tensor L = scores(in).masked_fill(hidden, -inf);
    at::Tensor logTarget;  // log c_j
    if (p.choice("targets") == "mass_of_softmax") {
        logTarget = at::softmax(L, 1).sum(0).log();
    } else {  // c_j = Σ_{i ≥ j, j visible from i} 1/n_i: the uniform causal matrix's column sums
        const at::Tensor n = in.visible.sum(1, true).to(at::kDouble);
        logTarget = (in.visible.to(at::kDouble) / n).sum(0).log();
    }
    const int n = p.integer("n_it");
    const int last = n % 2 == 1 ? n : n + 1;  // odd steps rows, even steps columns; always end on rows
    for (int step = 1; step <= last; ++step) {
        if (step % 2 == 1) L = L - at::logsumexp(L, 1, true);
        else L = L + (logTarget - at::logsumexp(L, 0)).unsqueeze(0);
        L = L.masked_fill(hidden, -inf);
    }
    VariantTensors r = fromMap(L.exp().masked_fill(hidden, 0.0), in);
    r.curve = r.w.sum(0);
    r.curveName = "column sum (key j)";
    return r;
}

}  // namespace

const VariantEntry& sinkhornVariant() {
    static const VariantEntry e{
        {"sinkhorn",
         "Sinkhorn (doubly stochastic)",
         VariantFamily::Normalisation,
         "Alternately normalises rows and columns of exp(S) so every key also receives a fixed share of "
         "attention. A causal matrix cannot have all column sums 1, so the column targets are the uniform causal "
         "matrix's. Watch the sink column: Sinkhorn spreads the mass a sink hoards.",
         "reference C.1; Sinkformers, arXiv 2110.11773; QDSFormer, arXiv 2504.16275 [RECON causal targets]",
         true,
         {{"n_it", 3, 1, 1000, {}, "iterations (3; 1 = plain softmax); always ends on a row step"},
          {"targets",
           0,
           0,
           1,
           {"causal_uniform", "mass_of_softmax"},
           "column targets: the uniform causal matrix's column sums, or softmax's own (a fixed point)"}}},
        sinkhorn};
    return e;
}

}  // namespace attnscope::variants
