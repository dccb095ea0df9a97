// The A^3 closed forms in each head's coordinates (weibull-and-quantization.md §4.1 [RECON]).
//   QK: minimise Σ_h Σ_ij (q_i^h (I − C_h) k_jᵀ)² = Σ_h ‖L_q,h (I − C_h) L_k‖_F² with G = L²
//       the moments: the truncated SVD of the stacked [L_q,h L_k] (one shared key basis).
//   OV: minimise Σ_h ‖O_h (I − P) M_h‖² with one P per KV group (the shared V̂): exact for
//       one head per group, with the group-mean moment otherwise (§4.1's approximation).
// Any input moment gives the baselines too: the weights' own Gram W Wᵀ is the input moment I.
#include "analyses/a3/a3_detail.h"

namespace attnscope::a3 {

SymRoot symmetricRoot(const at::Tensor& g, double damping) {
    const int64_t d = g.size(0);
    const double mean = g.diagonal().mean().item<double>();
    const double floor = std::max(mean, 1e-300) * std::max(damping, 1e-15);
    const at::Tensor sym = 0.5 * (g + g.t()) + floor * at::eye(d, g.options());
    const auto [lambda, q] = at::linalg_eigh(sym);
    const at::Tensor l = lambda.clamp_min(floor);
    return {q.mm(at::diag(l.sqrt())).mm(q.t()), q.mm(at::diag(l.rsqrt())).mm(q.t())};
}

double weightedSquare(const at::Tensor& a, const at::Tensor& x, const at::Tensor& b) {
    return (x.t().mm(a).mm(x) * b).sum().item<double>();  // tr(Xᵀ A X B), B symmetric
}

QkFactors qkFactors(const std::vector<at::Tensor>& gq, const at::Tensor& gk, double damping) {
    QkFactors f;
    f.lk = symmetricRoot(gk, damping);
    std::vector<at::Tensor> blocks;
    for (const at::Tensor& g : gq) {
        f.lq.push_back(symmetricRoot(g, damping));
        blocks.push_back(f.lq.back().root.mm(f.lk.root));
    }
    const auto [u, s, vh] = at::linalg_svd(at::cat(blocks, 0), /*full_matrices=*/false);
    f.u = u;
    f.s = s;
    f.v = vh.t();
    return f;
}

std::vector<at::Tensor> qkCut(const QkFactors& f, int r) {
    const int64_t d = f.v.size(0);
    const at::Tensor vr = f.v.slice(1, 0, r);
    const at::Tensor right = vr.t().mm(f.lk.inverse);  // V_rᵀ L_k⁻¹ [r, d]
    std::vector<at::Tensor> out;
    for (size_t h = 0; h < f.lq.size(); ++h) {
        const at::Tensor uh = f.u.slice(0, int64_t(h) * d, int64_t(h + 1) * d).slice(1, 0, r);  // [d, r]
        out.push_back(f.lq[h].inverse.mm(uh * f.s.slice(0, 0, r).unsqueeze(0)).mm(right));
    }
    return out;
}

OvFactors ovFactors(const at::Tensor& gMean, const std::vector<at::Tensor>& m, double damping) {
    OvFactors f;
    f.l = symmetricRoot(gMean, damping);
    const auto [u, s, vh] = at::linalg_svd(f.l.root.mm(at::cat(m, 1)), /*full_matrices=*/false);
    f.u = u;
    f.s = s;
    return f;
}

at::Tensor ovCut(const OvFactors& f, int r) {
    const at::Tensor ur = f.u.slice(1, 0, r);
    return f.l.inverse.mm(ur).mm(ur.t()).mm(f.l.root);
}

at::Tensor ovHeadCut(const OvFactors& f, int r, const at::Tensor& gh, double damping) {
    const at::Tensor b = f.l.inverse.mm(f.u.slice(1, 0, r));  // [d, r]
    const at::Tensor btg = b.t().mm(gh);                      // [r, d]
    const at::Tensor gram = btg.mm(b);
    const double floor = std::max(gram.diagonal().mean().item<double>(), 1e-300) * std::max(damping, 1e-15);
    return b.mm(at::linalg_solve(gram + floor * at::eye(r, gram.options()), btg));
}

}  // namespace attnscope::a3
