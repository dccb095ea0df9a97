// affine_scaled: softmax weights scaled and shifted per query, reference C.3 (exact form [RECON]).
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

VariantTensors affine(const HeadTensors& in, const Params& p) {
    const at::Tensor P = maskedSoftmax(scores(in), in);
    at::Tensor a = at::full({in.rows()}, p["a"], at::kDouble), b = at::full({in.rows()}, p["b"], at::kDouble);
    if (p.choice("mode") == "norm") {
        const at::Tensor qn = in.q.norm(2, 1);  // the median over every row
        a = 2 * at::sigmoid(p["kappa"] * (in.rowsOf(qn) / std::max(medianOf(qn), 1e-12) - 1));
        b = at::full({in.rows()}, p["beta0"], at::kDouble);
    }
    const at::Tensor n = in.visible.sum(1).to(at::kDouble);
    const at::Tensor w = (a.unsqueeze(1) * P + (b / n).unsqueeze(1)).masked_fill(in.visible.logical_not(), 0.0);
    VariantTensors r = fromMap(w, in);
    return withCurve(std::move(r), a + b, "row sum a_i + b_i");
}

}  // namespace

const VariantEntry& affineScaledVariant() {
    static const VariantEntry e{
        {"affine_scaled",
         "Affine-scaled softmax",
         VariantFamily::Normalisation,
         "W = a_i·P + b_i/n_i: the softmax row is scaled and a uniform share added, so rows need not sum to 1 "
         "and a query can attend 'less than fully' instead of dumping mass on a sink. Here a_i, b_i are "
         "constants or follow the query norm (the paper learns them).",
         "reference C.3; Affine-Scaled Attention, arXiv 2602.23057 [RECON exact form]",
         true,
         {{"mode", 0, 0, 1, {"const", "norm"}, "const: a, b as given; norm: a_i = 2σ(κ(‖q_i‖/median − 1)), b = β₀"},
          {"a", 1, -10, 10, {}, "scale a (const mode; 1)"},
          {"b", 0, -10, 10, {}, "uniform share b (const mode; 0)"},
          {"kappa", 1, 0, 100, {}, "κ (norm mode; 1)"},
          {"beta0", 0, -10, 10, {}, "β₀ (norm mode; 0)"}}},
        affine};
    return e;
}

}  // namespace attnscope::variants
