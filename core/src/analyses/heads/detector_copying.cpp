// copying: the OV circuit's eigenvalue score (reference §E.2, "A Mathematical Framework"):
// Σ Re λ / Σ |λ| over the eigenvalues of W_O G W_V (d x d), the nonzero ones of W_E W_V W_O W_U.
#include "analyses/heads/head_context.h"
#include "analyses/heads/head_detector.h"
#include "model/model_access.h"

namespace attnscope::heads {
namespace {

DetectorResult copying(LayerInputs& in) {
    const at::Tensor& g = in.ctx.ovMiddle(in.job);
    const core::LayerWeights& w = ModelAccess::impl(in.ctx.model).decoder.weights().layers.at(size_t(in.layer));
    const int64_t d = in.trace.headDim();
    DetectorResult out;
    for (int h = 0; h < in.nHeads; ++h) {
        in.job.check();
        const int64_t kv = kvHeadOf(in.trace, h);
        // Row-vector convention: W_V^h = wv[kv]ᵀ [D, d], W_O^h = wo[:, h]ᵀ [d, D].
        const at::Tensor wv = w.wv.slice(0, kv * d, (kv + 1) * d).to(at::kCPU, at::kDouble).t();
        const at::Tensor wo = w.wo.slice(1, h * d, (h + 1) * d).to(at::kCPU, at::kDouble).t();
        const at::Tensor lambda = at::linalg_eigvals(wo.mm(g).mm(wv));
        const double total = at::abs(lambda).sum().item<double>();
        out.heads.push_back(total > 0 ? float(at::real(lambda).sum().item<double>() / total) : 0.f);
    }
    out.note = "copying: eigenvalues of the OV circuit with the raw token embedding, the final norm's scale folded "
               "into the unembedding, biases ignored";
    return out;
}

}  // namespace

const DetectorEntry& copyingDetector() {
    static const DetectorEntry e{
        {"copying", "Copying score (OV eigenvalues)", "\u03a3 Re \u03bb / \u03a3 |\u03bb|",
         "Does the head's OV circuit W_E W_V W_O W_U copy the tokens it attends to into the output? +1: every "
         "eigenvalue positive (a copying head), \u22121: it suppresses them (Elhage et al. 2021, A Mathematical "
         "Framework for Transformer Circuits). From the weights alone, the same for every prompt.",
         "copying", 0.7, true},
        copying};
    return e;
}

}  // namespace attnscope::heads
