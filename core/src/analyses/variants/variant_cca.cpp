// cca: a stand-in for Compressed Convolutional Attention, reference A.7 [RECON]: q, k and v
// projected onto the top-r principal directions of the traced [K; Q], then softmax.
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

// The top-r right singular vectors of the centred rows of x, as a [d, r] basis.
at::Tensor principal(const at::Tensor& x, int64_t r) {
    const at::Tensor centred = x - x.mean(0, true);
    const at::Tensor vh = std::get<2>(at::linalg_svd(centred, /*full_matrices=*/false));  // [min(N, d), d]
    return vh.slice(0, 0, std::min<int64_t>(r, vh.size(0))).t();
}

VariantTensors cca(const HeadTensors& in, const Params& p) {
    const int64_t d = in.q.size(1), dv = in.v.size(1);
    const int64_t r = p.integer("r") > 0 ? std::min<int64_t>(p.integer("r"), d) : std::max<int64_t>(1, d / 2);
    const std::vector<at::Tensor>& proj = in.cached("projections", [&] {
        const at::Tensor U = principal(at::cat({in.k, in.q}, 0), r);
        // v in the same basis when it has the same width (the reference's wording), else its own.
        const at::Tensor Uv = dv == d ? U : principal(in.v, std::min<int64_t>(r, dv));
        return std::vector<at::Tensor>{in.q.mm(U).mm(U.t()), in.k.mm(U).mm(U.t()), in.v.mm(Uv).mm(Uv.t())};
    });
    HeadTensors low = in;
    low.q = proj[0];
    low.k = proj[1];
    low.v = proj[2];
    VariantTensors out = fromMap(maskedSoftmax(scores(low), low), low);
    out.note = "rank " + std::to_string(r) + " of " + std::to_string(d);
    return out;
}

}  // namespace

const VariantEntry& ccaVariant() {
    static const VariantEntry e{
        {"cca",
         "Compressed latent (CCA stand-in)",
         VariantFamily::Linear,
         "Compressed Convolutional Attention attends in a learned low-dimensional latent space. Without its trained "
         "projections the lab offers a stand-in: q, k and v projected onto the r leading principal directions of "
         "the head's own keys and queries, then softmax. It asks how many of a head's dimensions its attention "
         "pattern really uses; r = d is softmax.",
         "reference A.7; CCA, arXiv 2510.04476 (not implementable from a trace) [RECON PCA stand-in]",
         true,
         {{"r", 0, 0, 4096, {}, "latent dimensions (0 = d/2); r ≥ d is softmax"}}},
        cca};
    return e;
}

}  // namespace attnscope::variants
