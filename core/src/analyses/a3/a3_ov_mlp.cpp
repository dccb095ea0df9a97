// The A^3 lab's OV and MLP components: the value/output cut per KV group (each head's W_o refit
// on the group's basis) and the MLP's CUR channel selection with its least-squares refit.
#include <algorithm>
#include <tuple>

#include "analyses/a3/a3_components.h"
#include "analyses/quant/quant_model_detail.h"
#include "attnscope/error.h"

namespace attnscope::a3 {

OvLab::OvLab(const LayerInputs& in) : m_in(in) {
    const core::ModelConfig& c = in.c;
    const int64_t d = c.headDim;
    const int per = c.nHeads / c.nKvHeads;
    const at::Tensor wo = f64(in.w.wo);                                  // [D, H*d]
    const at::Tensor wv = f64(in.w.wv).view({c.nKvHeads, d, c.dModel});  // [Hkv, d, D]
    for (int h = 0; h < c.nHeads; ++h) {
        m_m.push_back(wo.slice(1, h * d, (h + 1) * d).t().contiguous());  // M_h [d, D]
        m_mm.push_back(m_m.back().mm(m_m.back().t()));
        m_g.push_back(f64(in.stats.go[size_t(in.layer)][h]));
    }
    for (int g = 0; g < c.nKvHeads; ++g) {
        m_wg.push_back(wv[g].mm(wv[g].t()));
        const std::vector<at::Tensor> mg(m_m.begin() + g * per, m_m.begin() + (g + 1) * per);
        at::Tensor mean = at::zeros({d, d}, f64Options());
        for (int i = 0; i < per; ++i) mean += m_g[size_t(g * per + i)];
        m_a3.push_back(ovFactors(mean / per, mg, in.params.damping));
        m_base.push_back(ovFactors(m_wg.back(), mg, in.params.damping));
    }
    if (!in.held.headOut.defined()) fail(ErrorKind::NotFound, "A^3 needs the held-out trace's head outputs");
    m_o = f64(in.held.headOut.slice(0, in.row0));  // [n, H, d]
}

std::vector<at::Tensor> OvLab::headCuts(int r, bool baseline) const {
    const core::ModelConfig& c = m_in.c;
    const int d = c.headDim, per = c.nHeads / c.nKvHeads;
    const std::vector<OvFactors>& factors = baseline ? m_base : m_a3;
    const at::Tensor eye = at::eye(d, f64Options());
    std::vector<at::Tensor> out;
    for (int g = 0; g < c.nKvHeads; ++g) {
        const at::Tensor pg = r >= d ? eye : ovCut(factors[size_t(g)], r);
        for (int i = 0; i < per; ++i) {
            const size_t h = size_t(g * per + i);
            out.push_back(r < d && !baseline && per > 1 ? ovHeadCut(factors[size_t(g)], r, m_g[h], m_in.params.damping)
                                                        : pg);
        }
    }
    return out;
}

A3Point OvLab::point(double fraction) const {
    const core::ModelConfig& c = m_in.c;
    const int d = c.headDim, r = rank(fraction);
    A3Point p = pointAt(r, d, int64_t(c.nKvHeads + c.nHeads) * (d - r) * c.dModel);
    score(headCuts(r, false), p.objective, p.heldOut, p.weightErr);
    score(headCuts(r, true), p.baselineObjective, p.baselineHeldOut, p.baselineWeightErr);
    return p;
}

void OvLab::score(const std::vector<at::Tensor>& cuts, double& objective, double& heldOut, double& weightErr) const {
    const core::ModelConfig& c = m_in.c;
    const int d = c.headDim, per = c.nHeads / c.nKvHeads;
    const at::Tensor eye = at::eye(d, f64Options());
    double obj = 0, objTotal = 0, w = 0, wTotal = 0;
    at::Tensor y = at::zeros({m_o.size(0), c.dModel}, f64Options()), yHat = at::zeros_like(y);
    for (int h = 0; h < c.nHeads; ++h) {
        const at::Tensor& ph = cuts[size_t(h)];
        const size_t g = size_t(h / per);
        obj += weightedSquare(m_g[size_t(h)], eye - ph, m_mm[size_t(h)]);
        objTotal += weightedSquare(m_g[size_t(h)], eye, m_mm[size_t(h)]);
        w += weightedSquare(m_wg[g], eye - ph, m_mm[size_t(h)]);
        wTotal += weightedSquare(m_wg[g], eye, m_mm[size_t(h)]);
        const at::Tensor oh = m_o.select(1, int64_t(h));
        y += oh.mm(m_m[size_t(h)]);
        yHat += oh.mm(ph).mm(m_m[size_t(h)]);
    }
    objective = safeRatio(obj, objTotal);
    weightErr = safeRatio(w, wTotal);
    heldOut = safeRatio((y - yHat).pow(2).sum().item<double>(), y.pow(2).sum().item<double>());
}

MlpLab::MlpLab(const LayerInputs& in) : m_in(in) {
    const core::ModelConfig& c = in.c;
    m_r = f64(in.stats.rh[size_t(in.layer)]);
    m_wd = f64(in.w.wDown);  // [D, F]
    const at::Tensor colNorm = m_wd.norm(2, 0);
    m_score = m_r.diagonal().clamp_min(0).sqrt() * colNorm;
    at::Tensor magnitude = f64(in.w.wUp).norm(2, 1) * colNorm;
    if (in.w.wGate.defined()) magnitude = magnitude * f64(in.w.wGate).norm(2, 1);
    m_magnitude = magnitude;
    if (!in.held.mlpIn.defined()) fail(ErrorKind::NotFound, "A^3 needs the held-out trace's MLP inputs");
    m_h = f64(quant_detail::downInput(
        c, in.w, in.held.mlpIn.slice(0, in.row0).to(in.w.wDown.device(), in.w.wDown.scalar_type())));
    m_y = m_h.mm(m_wd.t());
}

A3Point MlpLab::point(double fraction) const {
    const core::ModelConfig& c = m_in.c;
    const int F = c.dFF, r = rank(fraction);
    A3Point p = pointAt(r, F, int64_t(F - r) * c.dModel * (m_in.w.wGate.defined() ? 3 : 2));
    score(r, m_score, m_in.params.refit, p.objective, p.heldOut, p.weightErr);
    score(r, m_magnitude, false, p.baselineObjective, p.baselineHeldOut, p.baselineWeightErr);
    return p;
}

at::Tensor MlpLab::down(int r, bool baseline) const {
    return baseline ? reduced(r, m_magnitude, false) : reduced(r, m_score, m_in.params.refit);
}

at::Tensor MlpLab::reduced(int r, const at::Tensor& score, bool refit) const {
    const int F = m_in.c.dFF;
    if (r >= F) return m_wd;
    const at::Tensor keep = std::get<0>(at::sort(std::get<1>(score.topk(r))));
    at::Tensor kept = m_wd.index_select(1, keep);
    if (refit) {
        const at::Tensor rss = principal(m_r, keep);
        const double floor =
            std::max(rss.diagonal().mean().item<double>(), 1e-300) * std::max(m_in.params.damping, 1e-15);
        const at::Tensor rs = m_r.index_select(0, keep);  // [r, F]
        // X = W_down R_{:,S} R_SS⁻¹ (normal equations of min E‖h W_downᵀ − h_S Xᵀ‖²)
        kept = at::linalg_solve(rss + floor * at::eye(r, f64Options()), rs.mm(m_wd.t())).t();
    }
    at::Tensor out = at::zeros_like(m_wd);
    out.index_copy_(1, keep, kept);
    return out;
}

void MlpLab::score(int r, const at::Tensor& importance, bool refit, double& objective, double& heldOut,
                   double& weightErr) const {
    const at::Tensor w = reduced(r, importance, refit);
    const at::Tensor delta = (m_wd - w).t();  // [F, D]
    objective =
        safeRatio((delta.t().mm(m_r) * delta.t()).sum().item<double>(), (m_wd.mm(m_r) * m_wd).sum().item<double>());
    weightErr = safeRatio((m_wd - w).pow(2).sum().item<double>(), m_wd.pow(2).sum().item<double>());
    heldOut = safeRatio((m_y - m_h.mm(w.t())).pow(2).sum().item<double>(), m_y.pow(2).sum().item<double>());
}

}  // namespace attnscope::a3
