// rala: Rank-Augmented Linear Attention, reference A.6 (causal form [RECON]).
#include <limits>

#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

// φ = elu+1; q̄_i = mean_{l≤i} φ(q_l); α_ij = n_i·softmax_{j≤i}(s q̄_i·φ(k_j)) (or 1);
// W_ij = φ(q_i)·α_ij φ(k_j) / n_i ÷ (φ(q_i)·Σ_l α_il φ(k_l) / n_i + ε), the code's normaliser.
VariantTensors rala(const HeadTensors& in, const Params& p) {
    const auto [q, k] = qkFor(in, p);
    const at::Tensor fq = elu1(q), fk = elu1(k);
    const at::Tensor hidden = in.visible.logical_not();
    const at::Tensor n = in.visible.sum(1, true).to(at::kDouble);
    at::Tensor alpha = at::ones({in.rows(), in.T}, at::kDouble);
    if (p.choice("alpha_mode") == "softmax") {
        const at::Tensor qbar = in.rowsOf(fq.cumsum(0) / at::arange(1, in.T + 1, at::kDouble).unsqueeze(1));
        alpha = n * at::softmax(
                        (qbar.mm(fk.t()) * in.scale).masked_fill(hidden, -std::numeric_limits<double>::infinity()), 1);
    }
    const at::Tensor e = (in.rowsOf(fq).mm(fk.t()) * alpha).masked_fill(hidden, 0.0) / n;
    VariantTensors r = fromMap(e / (e.sum(1, true) + p["eps"]), in);
    return withCurve(std::move(r), std::get<0>(alpha.masked_fill(hidden, 0.0).max(1)) / n.squeeze(1),
                     "largest key weight α_ij / n_i");
}

}  // namespace

const VariantEntry& ralaVariant() {
    static const VariantEntry e{
        {"rala",
         "RALA (rank-augmented linear)",
         VariantFamily::Linear,
         "elu+1 linear attention whose keys are reweighted by a softmax of the (running) mean query against them, "
         "α_j = n·softmax(s q̄·φ(k_j)): the global weighting RALA adds to lift the rank of the linear map. Compare "
         "its entropy gap and effective rank with plain elu_linear.",
         "reference A.6; RALA, arXiv 2411.09003 (qhfan/RALA GateLinearAttentionNoSilu) [RECON causal form; no "
         "LePE, no gate]",
         true,
         {ropeParam(0),
          {"alpha_mode",
           0,
           0,
           1,
           {"softmax", "uniform"},
           "softmax: the code's key weights; uniform: α ≡ 1 (= elu_linear)"},
          {"eps", 1e-6, 0, 1, {}, "added to the normaliser (1e-6, the code's)"}}},
        rala};
    return e;
}

}  // namespace attnscope::variants
