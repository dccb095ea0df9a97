// selective: per-query temperature (Selective Attention), reference C.2 (functional form [RECON]).
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

VariantTensors selective(const HeadTensors& in, const Params& p) {
    const at::Tensor qn = in.q.norm(2, 1), vn = in.v.norm(2, 1);  // medians over every row
    const at::Tensor pos = at::arange(in.r0, in.r1, at::kDouble);
    const at::Tensor tau = p["tau0"] * (1 + p["alpha"] * (pos + 1).log()) *
                           (1 + p["beta"] * at::tanh(in.rowsOf(qn) / std::max(medianOf(qn), 1e-12) - 1));
    const at::Tensor vScale = 1 + p["gamma"] * at::tanh(vn / std::max(medianOf(vn), 1e-12) - 1);
    VariantTensors r;
    r.w = maskedSoftmax(scores(in) * tau.unsqueeze(1), in);
    r.o = r.w.mm(in.v * vScale.unsqueeze(1));
    return withCurve(std::move(r), tau, "temperature τ_i");
}

}  // namespace

const VariantEntry& selectiveVariant() {
    static const VariantEntry e{
        {"selective",
         "Selective (per-query temperature)",
         VariantFamily::Normalisation,
         "Multiplies each query's scores by a temperature that grows with its position and its norm, against "
         "the dilution of attention over long contexts; values can be rescaled too. τ > 1 sharpens a row, τ < 1 "
         "flattens it.",
         "reference C.2; Selective Attention, arXiv 2411.12892 [RECON functional form]",
         true,
         {{"tau0", 1, 0, 1e6, {}, "base temperature τ₀ (1)"},
          {"alpha", 0, -1, 100, {}, "position term: τ ∝ 1 + α·log(i+1) (0)"},
          {"beta", 0, -1, 1, {}, "query-norm term: τ ∝ 1 + β·tanh(‖q_i‖/median‖q‖ − 1) (0)"},
          {"gamma", 0, -1, 1, {}, "value temperature: v_j ∝ 1 + γ·tanh(‖v_j‖/median‖v‖ − 1) (0)"}}},
        selective};
    return e;
}

}  // namespace attnscope::variants
