// mala: magnitude-aware linear attention, reference A.4 (causal form [RECON]).
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

// W_ij = (1/n_i + 1/Σ_l e_il)·e_ij − z_i/n_i with e = a·φ(q)·φ(k), z_i = mean_l e_il: rows sum
// to 1, weights may be negative.
VariantTensors mala(const HeadTensors& in, const Params& p) {
    const auto [q, k] = qkFor(in, p);
    const double a = p["a"] > 0 ? p["a"] : in.scale;
    const at::Tensor hidden = in.visible.logical_not();
    const at::Tensor e = (elu1(in.rowsOf(q)).mm(elu1(k).t()) * a).masked_fill(hidden, 0.0);
    const at::Tensor n = in.visible.sum(1).to(at::kDouble), sum = e.sum(1), z = sum / n;
    const at::Tensor w =
        ((1 / n + 1 / (sum + p["eps"])).unsqueeze(1) * e - (z / n).unsqueeze(1)).masked_fill(hidden, 0.0);
    VariantTensors r = fromMap(w, in);
    return withCurve(std::move(r), z, "z_i = mean_j a·φ(q_i)·φ(k_j)");
}

}  // namespace

const VariantEntry& malaVariant() {
    static const VariantEntry e{
        {"mala",
         "MALA (magnitude-aware linear)",
         VariantFamily::Linear,
         "Linear attention that subtracts a uniform share z_i/n from every weight and rescales the rest, so rows "
         "still sum to 1 but weights can go negative; a larger ‖q‖ raises z_i and makes the row track φ(q)·φ(k) "
         "more steeply — the query magnitude plain linear attention ignores. Shown with a signed colour scale.",
         "reference A.4; MALA, arXiv 2507.00698 (fla-org naive_mala_attn) [RECON causal form]",
         true,
         {ropeParam(1),
          {"a", 0, 0, 1e6, {}, "scale a of e_ij = a·φ(q)·φ(k) (0 = the model's s)"},
          {"eps", 1e-6, 0, 1, {}, "added to Σ_l e_il"}}},
        mala};
    return e;
}

}  // namespace attnscope::variants
