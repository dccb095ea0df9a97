// TriAttention (reference §2.8): per query head, the complex centre q̄_f of the pre-RoPE
// queries (calibrated on the prompt) predicts the attention a key at p_j will get from
// future queries t + δ: S(j, δ) = Σ_f |q̄_f||k_f| cos(ω_f Δ + φ_f) + Σ_f (E|q_f| − |q̄_f|)|k_f|,
// Δ = t − p_j + δ, δ = 1, 2, 4, ... Scores are z-scored per head, reduced over the group
// (max) and, per KV head, averaged over layers: one index set per KV head for all layers.
// The source compresses during decoding only; the prefill decision here scores the prompt
// as if allow_prefill_compression were on [RECON].
#include <algorithm>
#include <cmath>

#include "analyses/kv/kv_tensors.h"
#include "attnscope/error.h"
#include "runtime/rope.h"

namespace attnscope::kv {

at::Tensor ropeFrequencies(const core::RopeConfig& rope) { return core::ropeInverseFrequencies(rope).to(at::kDouble); }

void ropePairs(const core::RopeConfig& rope, int64_t headDim, std::vector<int64_t>& a, std::vector<int64_t>& b) {
    a.clear();
    b.clear();
    const int64_t half = rope.rotaryDim / 2;
    for (int64_t f = 0; f < half; ++f) {
        const bool split = rope.style == core::RopeStyle::HalfSplit;
        a.push_back(split ? f : 2 * f);
        b.push_back(split ? f + half : 2 * f + 1);
    }
    (void)headDim;
}

void prepareTriAttention(KvInputs& in, const PrepareContext& ctx) {
    if (!ctx.rope || ctx.rope->style == core::RopeStyle::None || ctx.qPre.empty()) return;  // no RoPE: unavailable
    const int64_t Tp = in.promptLength, L = in.nLayers, H = in.nHeads, Hkv = in.nKvHeads, d = in.headDim;
    const int64_t r = ctx.rope->rotaryDim, t = Tp - 1;
    std::vector<int64_t> a, b;
    ropePairs(*ctx.rope, d, a, b);
    const at::Tensor ia = at::tensor(a, at::kLong), ib = at::tensor(b, at::kLong);
    const at::Tensor rest = at::arange(r, d, at::kLong);  // pass-through dims: frequency 0 [RECON]
    const at::Tensor omega = ropeFrequencies(*ctx.rope);   // [F]
    std::vector<double> offs;
    for (double dlt = 1; dlt <= double(in.options.triOffsetMax); dlt *= 2) offs.push_back(dlt);
    const at::Tensor delta = at::tensor(offs, at::kDouble);  // [M]
    in.triMean.assign(size_t(L * H * Tp), 0.f);
    in.triMax.assign(size_t(L * H * Tp), 0.f);
    for (int64_t l = 0; l < L; ++l) {
        const at::Tensor q = ctx.qPre[size_t(l)].slice(0, 0, Tp).to(at::kDouble);                          // [Tp,H,d]
        const at::Tensor k = ctx.kPre[size_t(l)].slice(0, 0, Tp).to(at::kDouble).repeat_interleave(H / Hkv, 1);  // [Tp,H,d]
        const at::Tensor qre = q.index_select(2, ia), qim = q.index_select(2, ib);   // [Tp,H,F]
        const at::Tensor cre = qre.mean(0), cim = qim.mean(0);                        // q̄ [H,F]
        const at::Tensor cAbs = at::sqrt(cre * cre + cim * cim), eAbs = at::sqrt(qre * qre + qim * qim).mean(0);
        const at::Tensor kre = k.index_select(2, ia), kim = k.index_select(2, ib);   // [Tp,H,F]
        const at::Tensor kAbs = at::sqrt(kre * kre + kim * kim);
        // q̄ · conj(k) = (cre kre + cim kim) + i (cim kre − cre kim)
        const at::Tensor amp = cAbs.unsqueeze(0) * kAbs;
        const at::Tensor phi = at::atan2(cim * kre - cre * kim, cre * kre + cim * kim);
        const at::Tensor norm = in.options.triMlr ? (eAbs - cAbs) : eAbs;
        at::Tensor constant = (norm.unsqueeze(0) * kAbs).sum(-1);  // [Tp,H]
        if (r < d) {  // real dims: q̄_c k_c + (E|q_c| − |q̄_c|)|k_c|
            const at::Tensor qr = q.index_select(2, rest), kr = k.index_select(2, rest);
            const at::Tensor mean = qr.mean(0), eA = qr.abs().mean(0);
            const at::Tensor nr = in.options.triMlr ? (eA - mean.abs()) : eA;
            constant = constant + (mean.unsqueeze(0) * kr).sum(-1) + (nr.unsqueeze(0) * kr.abs()).sum(-1);
        }
        const at::Tensor j = at::arange(Tp, at::kDouble);
        const at::Tensor dist = (double(t) - j).unsqueeze(1) + delta.unsqueeze(0);          // [Tp,M]
        const at::Tensor angle = dist.unsqueeze(-1) * omega.view({1, 1, -1});             // [Tp,M,F]
        // Σ_f amp cos(angle + φ), chunked over keys to bound memory.
        at::Tensor S = at::empty({Tp, H, int64_t(offs.size())}, at::kDouble);
        for (int64_t j0 = 0; j0 < Tp; j0 += 256) {
            const int64_t j1 = std::min(Tp, j0 + 256);
            at::Tensor ang = angle.slice(0, j0, j1).unsqueeze(1) + phi.slice(0, j0, j1).unsqueeze(2);  // [b,H,M,F]
            S.slice(0, j0, j1).copy_((amp.slice(0, j0, j1).unsqueeze(2) * at::cos(ang)).sum(-1));
        }
        S = S + constant.unsqueeze(-1);
        const at::Tensor mean = S.mean(-1).t().contiguous().to(at::kFloat), mx = std::get<0>(S.max(-1)).t().contiguous().to(at::kFloat);
        std::copy(mean.data_ptr<float>(), mean.data_ptr<float>() + H * Tp, in.triMean.begin() + std::ptrdiff_t(l * H * Tp));
        std::copy(mx.data_ptr<float>(), mx.data_ptr<float>() + H * Tp, in.triMax.begin() + std::ptrdiff_t(l * H * Tp));
    }
}

namespace {

// z-scored score of (l, h) over the prompt keys; population std [RECON: the std flavour
// scales every head alike, so it cannot change the decision].
std::vector<float> headScores(const KvInputs& in, const KvParams& p, int l, int h) {
    const int64_t Tp = in.promptLength;
    const std::vector<float>& src = p.get("offset_agg") > 0 ? in.triMax : in.triMean;
    const float* s = src.data() + (int64_t(l) * in.nHeads + h) * Tp;
    std::vector<float> out(s, s + Tp);
    if (p.get("normalize") > 0) {
        double m = 0, v = 0;
        for (float x : out) m += x;
        m /= double(Tp);
        for (float x : out) v += (x - m) * (x - m);
        const double sd = std::sqrt(v / double(Tp));
        for (float& x : out) x = float((x - m) / (sd > 0 ? sd : 1.0));
    }
    return out;
}

// Group reduction of layer l's z-scores: [Hkv, Tp].
std::vector<float> layerScores(const KvInputs& in, const KvParams& p, int l) {
    const int64_t Tp = in.promptLength;
    std::vector<float> z(size_t(int64_t(in.nHeads) * Tp));
    for (int h = 0; h < in.nHeads; ++h) {
        const std::vector<float> s = headScores(in, p, l, h);
        std::copy(s.begin(), s.end(), z.begin() + std::ptrdiff_t(int64_t(h) * Tp));
    }
    return groupReduce(z.data(), in.nHeads, in.nKvHeads, Tp, p.get("group_agg") > 0 ? Gqa::Mean : Gqa::Max);
}

void select(const KvInputs& in, const KvParams& p, KvSelection& sel) {
    if (in.triMean.empty()) fail(ErrorKind::Unsupported, "triattention needs RoPE and pre-RoPE q/k in the inputs");
    const int64_t Tp = in.promptLength, B = budgetOf(p);
    if (p.get("pruning") == 0) {  // per_head_pruning: mean over layers, one set for all layers
        std::vector<float> acc(size_t(int64_t(in.nKvHeads) * Tp), 0.f);
        for (int l = 0; l < in.nLayers; ++l) {
            const std::vector<float> s = layerScores(in, p, l);
            for (size_t i = 0; i < acc.size(); ++i) acc[i] += s[i] / float(in.nLayers);
        }
        for (int g = 0; g < in.nKvHeads; ++g) {
            const std::vector<int64_t> kept = topK(acc.data() + int64_t(g) * Tp, 0, Tp, B);
            for (int l = 0; l < in.nLayers; ++l) sel.kept[size_t(l)][size_t(g)] = kept;
        }
        return;
    }
    for (int l = 0; l < in.nLayers; ++l) {
        const std::vector<float> s = layerScores(in, p, l);
        for (int g = 0; g < in.nKvHeads; ++g) sel.kept[size_t(l)][size_t(g)] = topK(s.data() + int64_t(g) * Tp, 0, Tp, B);
    }
}

}  // namespace

const KvPolicyEntry& triAttentionPolicy() {
    static const KvPolicyEntry e{
        {"triattention", "TriAttention: pre-RoPE query centres, trigonometric distance scoring",
         "§2.8; WeianMao/triattention pruning_utils.py, worker.py defaults", false, false,
         {{"pruning", 0, 0, 1, {"per_head", "per_layer_head"}, "per_head: KV-head sets shared by all layers [SRC default]", false},
          {"offset_agg", 0, 0, 1, {"mean", "max"}, "score over offsets δ: mean [SRC default] or max", false},
          {"normalize", 1, 0, 1, {}, "z-score per head before aggregation (normalize_scores [SRC])", false},
          {"group_agg", 0, 0, 1, {"max", "mean"}, "over the query heads of a group (max [SRC])", false},
          {"offset_max", 65536, 1, 1e12, {}, "largest offset δ (offset_max_length [SRC])", true},
          {"mlr", 1, 0, 1, {}, "norm term (E|q| − |q̄|)|k|; 0: disable_mlr, E|q||k|", true}}},
        perKvHead,
        select,
        nullptr};
    return e;
}

}  // namespace attnscope::kv
