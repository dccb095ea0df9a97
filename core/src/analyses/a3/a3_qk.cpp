// The A^3 lab's QK component: which dimensions of q·k each rank keeps (the covariance-weighted
// SVD per KV group, or whole rotary frequency pairs) and the error of the kept scores.
#include <algorithm>
#include <limits>
#include <numeric>
#include <tuple>

#include "analyses/a3/a3_components.h"
#include "attnscope/error.h"

namespace attnscope::a3 {
namespace {

Units unitsOf(const core::ModelConfig& c) {
    Units u;
    const bool rope = c.rope.style != core::RopeStyle::None;
    const int rot = rope ? (c.rope.rotaryDim > 0 ? c.rope.rotaryDim : c.headDim) : 0;
    for (int f = 0; f < rot / 2; ++f) {
        u.dims.push_back(c.rope.style == core::RopeStyle::Interleaved ? std::vector<int64_t>{2 * f, 2 * f + 1}
                                                                      : std::vector<int64_t>{f, f + rot / 2});
        u.rotary.push_back(true);
    }
    for (int a = rot; a < c.headDim; ++a) {
        u.dims.push_back({a});
        u.rotary.push_back(false);
    }
    return u;
}

// diag(mask) of the `r` dimensions of the best units by importance per dimension.
at::Tensor keepUnits(const Units& units, const std::vector<double>& importance, int d, int r) {
    std::vector<size_t> order(units.dims.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return importance[a] / double(units.dims[a].size()) > importance[b] / double(units.dims[b].size());
    });
    at::Tensor mask = at::zeros({d}, at::kDouble);
    int used = 0;
    for (size_t i : order) {
        const int n = int(units.dims[i].size());
        if (used + n > r) continue;
        for (int64_t a : units.dims[i]) mask[a] = 1.0;
        used += n;
    }
    return at::diag(mask).to(tLabDevice);
}

// Per-unit energy Σ_{a∈unit} G[a, a] of one moment.
std::vector<double> unitEnergy(const Units& units, const at::Tensor& g) {
    const at::Tensor diag = g.diagonal().to(at::kCPU).contiguous();
    const double* p = diag.data_ptr<double>();
    std::vector<double> out;
    for (const auto& dims : units.dims) {
        double e = 0;
        for (int64_t a : dims) e += p[a];
        out.push_back(e);
    }
    return out;
}

}  // namespace

// The held-out scores of one layer, unreduced, kept across ranks: per query head the masked
// scores S [n, T] and log softmax(scale·S) over the visible keys.
class QkHeldOut {
public:
    QkHeldOut(const at::Tensor& q, const at::Tensor& k, int64_t row0, int window, double scale)
        : m_q(q), m_k(k), m_scale(scale) {  // q [n, H, d] (rows row0..T-1), k [T, Hkv, d]
        const int64_t n = q.size(0), T = k.size(0), H = q.size(1);
        const at::Tensor qi = at::arange(row0, row0 + n, i64Options()).unsqueeze(1),
                         kj = at::arange(T, i64Options()).unsqueeze(0);
        at::Tensor visible = kj <= qi;
        if (window > 0) visible = visible & (kj > qi - window);
        m_hidden = visible.logical_not();
        for (int64_t h = 0; h < H; ++h) {
            m_s.push_back(q.select(1, h).mm(keys(h).t()).masked_fill(m_hidden, 0.0));
            m_total2 += m_s.back().pow(2).sum().item<double>();
            m_logP.push_back(logSoftmax(m_s.back()));
        }
        m_rows = n * H;
    }

    // (relative score error, mean row KL) of the scores q C_h kᵀ.
    std::pair<double, double> score(const std::vector<at::Tensor>& cuts) const {
        double err2 = 0, kl = 0;
        for (size_t h = 0; h < m_s.size(); ++h) {
            const at::Tensor kh = keys(int64_t(h));
            const at::Tensor sHat = m_q.select(1, int64_t(h)).mm(cuts[h]).mm(kh.t()).masked_fill(m_hidden, 0.0);
            err2 += (m_s[h] - sHat).pow(2).sum().item<double>();
            kl += (m_logP[h].exp() * (m_logP[h] - logSoftmax(sHat))).masked_fill(m_hidden, 0.0).sum().item<double>();
        }
        return {safeRatio(err2, m_total2), m_rows > 0 ? kl / double(m_rows) : 0.0};
    }

private:
    at::Tensor keys(int64_t h) const { return m_k.select(1, h / (m_q.size(1) / m_k.size(1))); }
    at::Tensor logSoftmax(const at::Tensor& s) const {
        return at::log_softmax((s * m_scale).masked_fill(m_hidden, -std::numeric_limits<double>::infinity()), 1);
    }

    at::Tensor m_q, m_k, m_hidden;
    double m_scale;
    std::vector<at::Tensor> m_s, m_logP;
    double m_total2 = 0;
    int64_t m_rows = 0;
};

QkLab::~QkLab() = default;

QkLab::QkLab(const LayerInputs& in) : m_in(in), m_units(unitsOf(in.c)) {
    const core::ModelConfig& c = in.c;
    const int64_t d = c.headDim;
    m_rope = c.rope.style != core::RopeStyle::None;
    m_mode = m_rope ? in.params.rope : A3Rope::PreRope;
    m_rot = m_rope ? (c.rope.rotaryDim > 0 ? c.rope.rotaryDim : c.headDim) : 0;
    const at::Tensor wq = f64(in.w.wq).view({c.nHeads, d, c.dModel});
    const at::Tensor wk = f64(in.w.wk).view({c.nKvHeads, d, c.dModel});
    for (int h = 0; h < c.nHeads; ++h) {
        m_gq.push_back(f64(in.stats.gq[size_t(in.layer)][h]));
        m_wgq.push_back(wq[h].mm(wq[h].t()));
    }
    for (int g = 0; g < c.nKvHeads; ++g) {
        m_gk.push_back(f64(in.stats.gk[size_t(in.layer)][g]));
        m_wgk.push_back(wk[g].mm(wk[g].t()));
    }
    // Scores as the model computes them, or before the rotation for the §4.1 form.
    const bool pre = m_mode == A3Rope::PreRope;
    const at::Tensor& q = pre && in.held.qPre.defined() ? in.held.qPre : in.held.q;
    const at::Tensor& k = pre && in.held.kPre.defined() ? in.held.kPre : in.held.k;
    if (!q.defined() || !k.defined()) fail(ErrorKind::NotFound, "A^3 needs the held-out trace's q and k");
    m_held = std::make_unique<QkHeldOut>(f64(q.slice(0, in.row0)), f64(k), in.row0, c.slidingWindow, c.logitScale());
    if (m_mode == A3Rope::PreRope) {
        for (int g = 0; g < c.nKvHeads; ++g) {
            m_a3.push_back(qkFactors(group(m_gq, g), m_gk[size_t(g)], in.params.damping));
            m_base.push_back(qkFactors(group(m_wgq, g), m_wgk[size_t(g)], in.params.damping));
        }
    } else if (m_mode == A3Rope::NoRotaryCut && m_rot < d) {
        m_nr = at::arange(m_rot, d, i64Options());
        for (int g = 0; g < c.nKvHeads; ++g) {
            m_a3.push_back(qkFactors(subs(group(m_gq, g)), principal(m_gk[size_t(g)], m_nr), in.params.damping));
            m_base.push_back(qkFactors(subs(group(m_wgq, g)), principal(m_wgk[size_t(g)], m_nr), in.params.damping));
        }
    }
}

int QkLab::rank(double fraction) const {
    const int d = m_in.c.headDim;
    if (m_mode == A3Rope::NoRotaryCut) return std::max(m_rot, roundRank(fraction, d));
    if (m_mode == A3Rope::FrequencyPairs && m_rot == d) return std::max(2, 2 * int(std::lround(fraction * d / 2)));
    return roundRank(fraction, d);
}

std::string QkLab::modeText() const {
    if (!m_rope) return "scores q kᵀ (the model has no rotary embedding)";
    switch (m_mode) {
    case A3Rope::PreRope: return "pre-RoPE scores (the rotation left out) [RECON]";
    case A3Rope::FrequencyPairs: return "whole rotary frequency pairs kept by E|q_f|²·E|k_f|² (RoPE exact) [RECON]";
    case A3Rope::NoRotaryCut: return "rotary dimensions kept, the others cut (RoPE exact) [RECON]";
    }
    return {};
}

A3Point QkLab::point(double fraction) const {
    const core::ModelConfig& c = m_in.c;
    const int d = c.headDim, r = rank(fraction);
    A3Point p = pointAt(r, d, int64_t(c.nHeads + c.nKvHeads) * (d - r) * c.dModel);
    score(cuts(r, false), p.objective, p.heldOut, p.rowKl, p.weightErr);
    score(cuts(r, true), p.baselineObjective, p.baselineHeldOut, p.baselineRowKl, p.baselineWeightErr);
    return p;
}

std::vector<at::Tensor> QkLab::cuts(int r, bool baseline) const {
    const core::ModelConfig& c = m_in.c;
    const int d = c.headDim, per = c.nHeads / c.nKvHeads;
    const auto& factors = baseline ? m_base : m_a3;
    std::vector<at::Tensor> out;
    for (int g = 0; g < c.nKvHeads; ++g) {
        if (r >= d) {
            for (int i = 0; i < per; ++i) out.push_back(at::eye(d, f64Options()));
        } else if (m_mode == A3Rope::PreRope) {
            for (at::Tensor& ch : qkCut(factors[size_t(g)], r)) out.push_back(ch);
        } else if (m_mode == A3Rope::NoRotaryCut) {
            const int64_t nrKeep = r - m_rot;
            std::vector<at::Tensor> block = qkCut(factors[size_t(g)], int(nrKeep));
            for (at::Tensor& b : block) {
                at::Tensor ch = at::zeros({d, d}, f64Options());
                ch.diagonal().slice(0, 0, m_rot).fill_(1.0);
                ch.index_put_({m_nr.unsqueeze(1), m_nr.unsqueeze(0)}, nrKeep > 0 ? b : at::zeros_like(b));
                out.push_back(ch);
            }
        } else {  // frequency pairs: importance of each unit, summed over the group's queries
            const std::vector<at::Tensor> gq = group(baseline ? m_wgq : m_gq, g);
            std::vector<double> qe(m_units.dims.size(), 0.0);
            for (const at::Tensor& gh : gq) {
                const std::vector<double> e = unitEnergy(m_units, gh);
                for (size_t u = 0; u < e.size(); ++u) qe[u] += e[u];
            }
            const std::vector<double> ke = unitEnergy(m_units, (baseline ? m_wgk : m_gk)[size_t(g)]);
            for (size_t u = 0; u < qe.size(); ++u) qe[u] *= ke[u];
            const at::Tensor mask = keepUnits(m_units, qe, d, r);
            for (int i = 0; i < per; ++i) out.push_back(mask);
        }
    }
    return out;
}

std::vector<at::Tensor> QkLab::group(const std::vector<at::Tensor>& perHead, int g) const {
    const int per = m_in.c.nHeads / m_in.c.nKvHeads;
    return {perHead.begin() + g * per, perHead.begin() + (g + 1) * per};
}

std::vector<at::Tensor> QkLab::subs(std::vector<at::Tensor> gs) const {
    for (at::Tensor& g : gs) g = principal(g, m_nr);
    return gs;
}

void QkLab::score(const std::vector<at::Tensor>& cuts, double& objective, double& heldOut, double& rowKl,
                  double& weightErr) const {
    const core::ModelConfig& c = m_in.c;
    const int per = c.nHeads / c.nKvHeads;
    const at::Tensor eye = at::eye(c.headDim, f64Options());
    double obj = 0, objTotal = 0, w = 0, wTotal = 0;
    for (int h = 0; h < c.nHeads; ++h) {
        const at::Tensor delta = eye - cuts[size_t(h)];
        const size_t g = size_t(h / per);
        obj += weightedSquare(m_gq[size_t(h)], delta, m_gk[g]);
        objTotal += weightedSquare(m_gq[size_t(h)], eye, m_gk[g]);
        w += weightedSquare(m_wgq[size_t(h)], delta, m_wgk[g]);
        wTotal += weightedSquare(m_wgq[size_t(h)], eye, m_wgk[g]);
    }
    objective = safeRatio(obj, objTotal);
    weightErr = safeRatio(w, wTotal);
    std::tie(heldOut, rowKl) = m_held->score(cuts);
}

}  // namespace attnscope::a3
