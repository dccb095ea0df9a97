// nalaformer: norm-aware linear attention, reference A.3 (kernel details [RECON]).
#include <numbers>

#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

// ψ(x̂) = [cos(π/4·(1+x̂)); sin(π/4·(1+x̂))] of the unit vector, raised to the power p (per row).
at::Tensor features(const at::Tensor& x, const at::Tensor& power) {
    const at::Tensor unit = x / x.norm(2, 1, true).clamp_min(1e-12);
    const at::Tensor a = (1 + unit) * (std::numbers::pi / 4);
    return at::cat({at::cos(a), at::sin(a)}, 1).clamp_min(0).pow(power.unsqueeze(1));
}

VariantTensors nalaformer(const HeadTensors& in, const Params& p) {
    const auto [q, k] = qkFor(in, p);
    const double lambda = p["lambda"];
    const at::Tensor qn = q.norm(2, 1), kn = k.norm(2, 1);
    const at::Tensor pq = 1 + lambda * qn / qn.mean().clamp_min(1e-12);
    const at::Tensor pk = p.choice("pk_mode") == "per_token" ? 1 + lambda * kn / kn.mean().clamp_min(1e-12)
                                                             : at::full_like(kn, 1 + lambda);
    return linearAttention(features(q, pq), features(k, pk), in, p["eps"]);
}

}  // namespace

const VariantEntry& nalaformerVariant() {
    static const VariantEntry e{
        {"nalaformer",
         "NaLaFormer (norm-aware linear)",
         VariantFamily::Linear,
         "Splits q and k into norm and direction. Directions go through a cosine map that stays non-negative but "
         "keeps the sign interaction; the query's norm sets the power of its features, so a larger ‖q‖ sharpens "
         "its row as softmax would. Claims to close part of linear attention's entropy gap.",
         "reference A.3; NaLaFormer, arXiv 2506.21137 [RECON kernel]",
         true,
         {ropeParam(0),
          {"lambda", 1, 0, 100, {}, "norm awareness λ: p(q) = 1 + λ‖q‖/mean‖q‖ (1; 0 = norm-blind) [RECON]"},
          {"pk_mode", 0, 0, 1, {"fixed", "per_token"}, "key power: 1 + λ, or 1 + λ‖k‖/mean‖k‖ [RECON]"},
          {"eps", 1e-6, 0, 1, {}, "added to the denominator of the output"}}},
        nalaformer};
    return e;
}

}  // namespace attnscope::variants
