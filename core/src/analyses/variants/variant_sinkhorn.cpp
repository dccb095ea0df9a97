// sinkhorn: doubly-stochastic attention by Sinkhorn iterations, reference C.1 (causal column
// targets [RECON]).
#include <limits>

#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

// W_ij = exp(S_ij + a_i + b_j) on the visible set: the row steps set a_i = −lse_j(S_ij + b_j),
// the column steps b_j = log c_j − lse_i(S_ij + a_i). Both scalings come from passes over
// every block of rows (a long prompt's map is never held whole).
std::vector<at::Tensor> scalings(const HeadTensors& in, const Params& p) {
    const double inf = std::numeric_limits<double>::infinity();
    const int64_t T = in.T, step = variantBlockRows(T);
    auto eachBlock = [&](const std::function<void(const HeadTensors&, const at::Tensor&)>& f) {
        for (int64_t r = 0; r < T; r += step) {
            const HeadTensors b = in.block(r, std::min(T, r + step));
            f(b, scores(b).masked_fill(b.visible.logical_not(), -inf));
        }
    };
    at::Tensor target = at::zeros({T}, at::kDouble);  // c_j
    eachBlock([&](const HeadTensors& b, const at::Tensor& S) {
        if (p.choice("targets") == "mass_of_softmax") target += at::softmax(S, 1).sum(0);
        else target += (b.visible.to(at::kDouble) / b.visible.sum(1, true).to(at::kDouble)).sum(0);
    });  // causal_uniform: c_j = Σ_{i ≥ j, j visible from i} 1/n_i, the uniform causal matrix's column sums
    const at::Tensor logTarget = target.log();
    at::Tensor rowLog = at::zeros({T}, at::kDouble), colLog = at::zeros({T}, at::kDouble);
    const int n = p.integer("n_it");
    const int last = n % 2 == 1 ? n : n + 1;  // odd steps rows, even steps columns; always end on rows
    for (int it = 1; it <= last; ++it) {
        if (it % 2 == 1) {
            eachBlock([&](const HeadTensors& b, const at::Tensor& S) {
                rowLog.slice(0, b.r0, b.r1).copy_(-at::logsumexp(S + colLog.unsqueeze(0), 1));
            });
        } else {
            at::Tensor lse = at::full({T}, -inf, at::kDouble);
            eachBlock([&](const HeadTensors& b, const at::Tensor& S) {
                lse = at::logsumexp(at::stack({lse, at::logsumexp(S + b.rowsOf(rowLog).unsqueeze(1), 0)}), 0);
            });
            colLog = logTarget - lse;
        }
    }
    return {rowLog, colLog};
}

VariantTensors sinkhorn(const HeadTensors& in, const Params& p) {
    const std::vector<at::Tensor>& ab = in.cached("scalings", [&] { return scalings(in, p); });
    const at::Tensor L = scores(in) + in.rowsOf(ab[0]).unsqueeze(1) + ab[1].unsqueeze(0);
    VariantTensors r = fromMap(L.exp().masked_fill(in.visible.logical_not(), 0.0), in);
    return withCurve(std::move(r), r.w.sum(0), "column sum (key j)", true);
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
