// The A^3 lab's three components of one layer (QK, OV, MLP): each one's cut at a kept
// dimension r, A^3's and its baseline's, and their scores on the calibration moments and the
// held-out rows. Shared by the sweep (a3_lab.cpp) and the end-to-end application
// (a3_apply.cpp). Float64 on the CPU. Internal: include only from core/src/analyses/a3/.
#pragma once
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "analyses/a3/a3_detail.h"
#include "analyses/quant/quant_model_detail.h"
#include "attnscope/error.h"
#include "trace/trace_impl.h"

namespace attnscope::a3 {


// Where the lab computes, in float64: the model's device (an H100 runs the 1B shape's sweep in
// seconds where 16 CPU cores take minutes). Set for the duration of a lab call by LabDevice;
// the calibration moments stay in host memory and move per layer.
inline thread_local at::Device tLabDevice = at::Device(at::kCPU);
class LabDevice {
public:
    explicit LabDevice(at::Device d) : m_saved(tLabDevice) { tLabDevice = d; }
    ~LabDevice() { tLabDevice = m_saved; }
    LabDevice(const LabDevice&) = delete;
    LabDevice& operator=(const LabDevice&) = delete;

private:
    at::Device m_saved;
};
inline at::TensorOptions f64Options() { return at::TensorOptions().dtype(at::kDouble).device(tLabDevice); }
inline at::TensorOptions i64Options() { return at::TensorOptions().dtype(at::kLong).device(tLabDevice); }
inline at::Tensor f64(const at::Tensor& t) { return t.to(tLabDevice, at::kDouble).contiguous(); }

inline double safeRatio(double num, double den) { return den > 0 ? std::sqrt(std::max(0.0, num) / den) : 0.0; }

// What QK cuts in: whole rotary frequency pairs, single non-rotary dimensions.
struct Units {
    std::vector<std::vector<int64_t>> dims;  // each unit's dimensions
    std::vector<bool> rotary;
};

inline Units unitsOf(const core::ModelConfig& c) {
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
inline at::Tensor keepUnits(const Units& units, const std::vector<double>& importance, int d, int r) {
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
inline std::vector<double> unitEnergy(const Units& units, const at::Tensor& g) {
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

// A symmetric matrix restricted to `idx` rows and columns.
inline at::Tensor principal(const at::Tensor& g, const at::Tensor& idx) { return g.index_select(0, idx).index_select(1, idx); }

// The held-out scores of one layer, unreduced, kept across ranks: per query head the masked
// scores S [n, T] and log softmax(scale·S) over the visible keys.
class QkHeldOut {
public:
    QkHeldOut(const at::Tensor& q, const at::Tensor& k, int64_t row0, int window, double scale)
        : m_q(q), m_k(k), m_scale(scale) {  // q [n, H, d] (rows row0..T-1), k [T, Hkv, d]
        const int64_t n = q.size(0), T = k.size(0), H = q.size(1);
        const at::Tensor qi = at::arange(row0, row0 + n, i64Options()).unsqueeze(1), kj = at::arange(T, i64Options()).unsqueeze(0);
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

// A point at kept dimension r of `full`, removing `saved` weights.
inline A3Point pointAt(int r, int full, int64_t saved) {
    A3Point p;
    p.r = r;
    p.fraction = double(r) / full;
    p.paramsSaved = saved;
    return p;
}

inline int roundRank(double fraction, int full, int lo = 1) {
    return std::clamp(int(std::lround(fraction * full)), std::min(lo, full), full);
}

// ---- the three components of one layer -----------------------------------------------------

struct LayerInputs {
    const core::ModelConfig& c;
    const core::LayerWeights& w;
    const A3Stats& stats;
    int layer;
    const core::LayerCapture& held;  // the held-out trace's tensors
    int64_t row0;
    const A3Params& params;
};

class QkLab {
public:
    QkLab(const LayerInputs& in) : m_in(in), m_units(unitsOf(in.c)) {
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

    int rank(double fraction) const {
        const int d = m_in.c.headDim;
        if (m_mode == A3Rope::NoRotaryCut) return std::max(m_rot, roundRank(fraction, d));
        if (m_mode == A3Rope::FrequencyPairs && m_rot == d) return std::max(2, 2 * int(std::lround(fraction * d / 2)));
        return roundRank(fraction, d);
    }

    std::string modeText() const {
        if (!m_rope) return "scores q kᵀ (the model has no rotary embedding)";
        switch (m_mode) {
        case A3Rope::PreRope: return "pre-RoPE scores (the rotation left out) [RECON]";
        case A3Rope::FrequencyPairs: return "whole rotary frequency pairs kept by E|q_f|²·E|k_f|² (RoPE exact) [RECON]";
        case A3Rope::NoRotaryCut: return "rotary dimensions kept, the others cut (RoPE exact) [RECON]";
        }
        return {};
    }

    A3Point point(double fraction) const {
        const core::ModelConfig& c = m_in.c;
        const int d = c.headDim, r = rank(fraction);
        A3Point p = pointAt(r, d, int64_t(c.nHeads + c.nKvHeads) * (d - r) * c.dModel);
        score(cuts(r, false), p.objective, p.heldOut, p.rowKl, p.weightErr);
        score(cuts(r, true), p.baselineObjective, p.baselineHeldOut, p.baselineRowKl, p.baselineWeightErr);
        return p;
    }

    A3Rope ropeMode() const { return m_mode; }
    int rotaryDims() const { return m_rot; }

    // C_h of every query head at rank r (A^3, or the baseline from the weights alone): the
    // scores become q_h C_h k_gᵀ. Frequency pairs: 0/1 diagonal masks, the same for a group.
    std::vector<at::Tensor> cuts(int r, bool baseline) const {
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

private:
    std::vector<at::Tensor> group(const std::vector<at::Tensor>& perHead, int g) const {
        const int per = m_in.c.nHeads / m_in.c.nKvHeads;
        return {perHead.begin() + g * per, perHead.begin() + (g + 1) * per};
    }
    std::vector<at::Tensor> subs(std::vector<at::Tensor> gs) const {
        for (at::Tensor& g : gs) g = principal(g, m_nr);
        return gs;
    }

    void score(const std::vector<at::Tensor>& cuts, double& objective, double& heldOut, double& rowKl,
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

    const LayerInputs& m_in;
    Units m_units;
    bool m_rope = false;
    A3Rope m_mode = A3Rope::PreRope;
    int m_rot = 0;
    at::Tensor m_nr;  // non-rotary dimensions
    std::vector<at::Tensor> m_gq, m_gk, m_wgq, m_wgk;
    std::unique_ptr<QkHeldOut> m_held;
    std::vector<QkFactors> m_a3, m_base;
};

class OvLab {
public:
    OvLab(const LayerInputs& in) : m_in(in) {
        const core::ModelConfig& c = in.c;
        const int64_t d = c.headDim;
        const int per = c.nHeads / c.nKvHeads;
        const at::Tensor wo = f64(in.w.wo);                                     // [D, H*d]
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

    int rank(double fraction) const { return roundRank(fraction, m_in.c.headDim); }

    // P_h of every query head at rank r (d x d): head h's output o_h becomes o_h P_h before W_o.
    // A^3 refits each head's W_o on its group's V̂ basis; the baseline keeps the plain cut.
    std::vector<at::Tensor> headCuts(int r, bool baseline) const {
        const core::ModelConfig& c = m_in.c;
        const int d = c.headDim, per = c.nHeads / c.nKvHeads;
        const std::vector<OvFactors>& factors = baseline ? m_base : m_a3;
        const at::Tensor eye = at::eye(d, f64Options());
        std::vector<at::Tensor> out;
        for (int g = 0; g < c.nKvHeads; ++g) {
            const at::Tensor pg = r >= d ? eye : ovCut(factors[size_t(g)], r);
            for (int i = 0; i < per; ++i) {
                const size_t h = size_t(g * per + i);
                out.push_back(r < d && !baseline && per > 1 ? ovHeadCut(factors[size_t(g)], r, m_g[h], m_in.params.damping) : pg);
            }
        }
        return out;
    }

    A3Point point(double fraction) const {
        const core::ModelConfig& c = m_in.c;
        const int d = c.headDim, r = rank(fraction);
        A3Point p = pointAt(r, d, int64_t(c.nKvHeads + c.nHeads) * (d - r) * c.dModel);
        score(headCuts(r, false), p.objective, p.heldOut, p.weightErr);
        score(headCuts(r, true), p.baselineObjective, p.baselineHeldOut, p.baselineWeightErr);
        return p;
    }

private:
    void score(const std::vector<at::Tensor>& cuts, double& objective, double& heldOut, double& weightErr) const {
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

    const LayerInputs& m_in;
    std::vector<at::Tensor> m_m, m_mm, m_g, m_wg;
    std::vector<OvFactors> m_a3, m_base;
    at::Tensor m_o;
};

class MlpLab {
public:
    MlpLab(const LayerInputs& in) : m_in(in) {
        const core::ModelConfig& c = in.c;
        m_r = f64(in.stats.rh[size_t(in.layer)]);
        m_wd = f64(in.w.wDown);  // [D, F]
        const at::Tensor colNorm = m_wd.norm(2, 0);
        m_score = m_r.diagonal().clamp_min(0).sqrt() * colNorm;
        at::Tensor magnitude = f64(in.w.wUp).norm(2, 1) * colNorm;
        if (in.w.wGate.defined()) magnitude = magnitude * f64(in.w.wGate).norm(2, 1);
        m_magnitude = magnitude;
        if (!in.held.mlpIn.defined()) fail(ErrorKind::NotFound, "A^3 needs the held-out trace's MLP inputs");
        m_h = f64(quant_detail::downInput(c, in.w, in.held.mlpIn.slice(0, in.row0).to(in.w.wDown.device(), in.w.wDown.scalar_type())));
        m_y = m_h.mm(m_wd.t());
    }

    int rank(double fraction) const { return roundRank(fraction, m_in.c.dFF); }

    A3Point point(double fraction) const {
        const core::ModelConfig& c = m_in.c;
        const int F = c.dFF, r = rank(fraction);
        A3Point p = pointAt(r, F, int64_t(F - r) * c.dModel * (m_in.w.wGate.defined() ? 3 : 2));
        score(r, m_score, m_in.params.refit, p.objective, p.heldOut, p.weightErr);
        score(r, m_magnitude, false, p.baselineObjective, p.baselineHeldOut, p.baselineWeightErr);
        return p;
    }

    // A^3's W_down [D, F] at r kept channels (the baseline: magnitude pruning, no refit).
    at::Tensor down(int r, bool baseline) const {
        return baseline ? reduced(r, m_magnitude, false) : reduced(r, m_score, m_in.params.refit);
    }

private:
    // W_down's replacement [D, F]: the kept columns (refit by least squares), zero elsewhere.
    at::Tensor reduced(int r, const at::Tensor& score, bool refit) const {
        const int F = m_in.c.dFF;
        if (r >= F) return m_wd;
        const at::Tensor keep = std::get<0>(at::sort(std::get<1>(score.topk(r))));
        at::Tensor kept = m_wd.index_select(1, keep);
        if (refit) {
            const at::Tensor rss = principal(m_r, keep);
            const double floor = std::max(rss.diagonal().mean().item<double>(), 1e-300) * std::max(m_in.params.damping, 1e-15);
            const at::Tensor rs = m_r.index_select(0, keep);  // [r, F]
            // X = W_down R_{:,S} R_SS⁻¹ (normal equations of min E‖h W_downᵀ − h_S Xᵀ‖²)
            kept = at::linalg_solve(rss + floor * at::eye(r, f64Options()), rs.mm(m_wd.t())).t();
        }
        at::Tensor out = at::zeros_like(m_wd);
        out.index_copy_(1, keep, kept);
        return out;
    }

    void score(int r, const at::Tensor& importance, bool refit, double& objective, double& heldOut,
               double& weightErr) const {
        const at::Tensor w = reduced(r, importance, refit);
        const at::Tensor delta = (m_wd - w).t();  // [F, D]
        objective = safeRatio((delta.t().mm(m_r) * delta.t()).sum().item<double>(),
                              (m_wd.mm(m_r) * m_wd).sum().item<double>());
        weightErr = safeRatio((m_wd - w).pow(2).sum().item<double>(), m_wd.pow(2).sum().item<double>());
        heldOut = safeRatio((m_y - m_h.mm(w.t())).pow(2).sum().item<double>(), m_y.pow(2).sum().item<double>());
    }

    const LayerInputs& m_in;
    at::Tensor m_r, m_wd, m_score, m_magnitude, m_h, m_y;
};

}  // namespace attnscope::a3
