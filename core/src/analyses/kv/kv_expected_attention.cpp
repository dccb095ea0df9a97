// kvpress ExpectedAttentionPress (reference §2.9): future queries as a Gaussian (mean and
// covariance of the prompt's pre-RoPE queries, rotated by the mean RoPE matrix over the
// next F positions); z_j = μ'·k_j/√d + k_jᵀΣ'k_j/(2d) is log E[exp(q·k/√d)]. Softmax over
// keys, group mean, times ||v_j||; the first n_sink tokens are always kept.
#include <algorithm>
#include <cmath>

#include "analyses/kv/kv_tensors.h"
#include "attnscope/error.h"

namespace attnscope::kv {

void prepareExpectedAttention(KvInputs& in, const PrepareContext& ctx) {
    if (!ctx.rope || ctx.rope->style == core::RopeStyle::None || ctx.qPre.empty()) return;
    const int64_t Tp = in.promptLength, L = in.nLayers, H = in.nHeads, Hkv = in.nKvHeads, d = in.headDim;
    const int64_t ns = in.options.expectedSink, F = in.options.expectedFuture;
    if (ns >= Tp || F < 1) return;
    // R̄ = mean_p R(p) over p = T_p .. T_p + F − 1: a 2×2 block [[c̄, −s̄], [s̄, c̄]] per pair.
    std::vector<int64_t> a, b;
    ropePairs(*ctx.rope, d, a, b);
    const at::Tensor omega = ropeFrequencies(*ctx.rope);
    const at::Tensor pos = at::arange(Tp, Tp + F, at::kDouble);
    const at::Tensor ang = pos.unsqueeze(1) * omega.unsqueeze(0);  // [F, pairs]
    const at::Tensor c = at::cos(ang).mean(0), s = at::sin(ang).mean(0);
    at::Tensor R = at::eye(d, at::kDouble);
    for (size_t f = 0; f < a.size(); ++f) {
        R.index_put_({a[f], a[f]}, c[int64_t(f)]);
        R.index_put_({a[f], b[f]}, -s[int64_t(f)]);
        R.index_put_({b[f], a[f]}, s[int64_t(f)]);
        R.index_put_({b[f], b[f]}, c[int64_t(f)]);
    }
    in.expectedLog.assign(size_t(L * H * Tp), -INFINITY);
    for (int64_t l = 0; l < L; ++l) {
        const at::Tensor q = ctx.qPre[size_t(l)].slice(0, ns, Tp).to(at::kDouble).permute({1, 0, 2});  // [H,n,d]
        const at::Tensor mu = q.mean(1);                                                                 // [H,d]
        const at::Tensor qc = q - mu.unsqueeze(1);
        const at::Tensor cov = at::matmul(qc.transpose(1, 2), qc) / double(Tp - ns);                    // [H,d,d]
        const at::Tensor mu2 = at::matmul(mu, R.t());                                                    // R̄ μ
        const at::Tensor cov2 = at::matmul(at::matmul(R, cov), R.t());                                  // R̄ Σ R̄ᵀ
        const at::Tensor k = ctx.views[size_t(l)].k.slice(0, ns, Tp).to(at::kDouble)
                                 .repeat_interleave(H / Hkv, 1).permute({1, 0, 2});                     // [H,m,d]
        const at::Tensor lin = (k * mu2.unsqueeze(1)).sum(-1) / std::sqrt(double(d));
        const at::Tensor quad = (at::matmul(k, cov2) * k).sum(-1) / (2.0 * double(d));
        const at::Tensor sm = at::log_softmax(lin + quad, -1).to(at::kFloat).contiguous();             // [H,m]
        for (int64_t h = 0; h < H; ++h)
            std::copy(sm[h].data_ptr<float>(), sm[h].data_ptr<float>() + (Tp - ns),
                      in.expectedLog.begin() + std::ptrdiff_t((l * H + h) * Tp + ns));
    }
}

namespace {

// log((s_j + ε)·||v_j||) with s_j the group mean of the softmax scores, in double: the
// ranking of (s + ε)·||v|| without its underflow.
void select(const KvInputs& in, const KvParams& p, KvSelection& sel) {
    if (in.expectedLog.empty()) fail(ErrorKind::Unsupported, "expected_attention needs RoPE and pre-RoPE queries in the inputs");
    const int64_t Tp = in.promptLength, B = budgetOf(p);
    const int64_t ns = std::min<int64_t>(in.options.expectedSink, B);
    const int H = in.nHeads, Hkv = in.nKvHeads, G = H / Hkv;
    const bool vnorm = p.get("vnorm") > 0;
    const double logEps = std::log(p.get("epsilon"));  // −inf for ε = 0
    std::vector<float> s(static_cast<size_t>(Tp));
    for (int l = 0; l < in.nLayers; ++l)
        for (int g = 0; g < Hkv; ++g) {
            for (int64_t j = 0; j < Tp; ++j) {
                double mx = -INFINITY, sum = 0;
                for (int m = 0; m < G; ++m) mx = std::max(mx, double(in.expectedLog[size_t((int64_t(l) * H + g * G + m) * Tp + j)]));
                for (int m = 0; m < G && mx > -INFINITY; ++m)
                    sum += std::exp(double(in.expectedLog[size_t((int64_t(l) * H + g * G + m) * Tp + j)]) - mx);
                double ls = mx > -INFINITY ? mx + std::log(sum / G) : -INFINITY;  // log of the group mean
                const double hi = std::max(ls, logEps), lo = std::min(ls, logEps);
                if (hi > -INFINITY) ls = hi + std::log1p(std::exp(lo - hi));      // log(s + ε)
                if (vnorm) ls += std::log(double(in.valueNorm[size_t((int64_t(l) * Hkv + g) * Tp + j)]));
                s[size_t(j)] = float(ls);
            }
            std::vector<int64_t> kept = topK(s.data(), ns, Tp, B - ns);
            addRange(kept, 0, ns);
            sel.kept[size_t(l)][size_t(g)] = std::move(kept);
        }
}

}  // namespace

const KvPolicyEntry& expectedAttentionPolicy() {
    static const KvPolicyEntry e{
        {"expected_attention", "ExpectedAttention: Gaussian future queries, ||v||-weighted",
         "§2.9; NVIDIA/kvpress expected_attention_press.py", false, false,
         {{"sink", 4, 0, 1e9, {}, "n_sink: first tokens kept and left out of the statistics (4 [SRC])", true},
          {"future", 512, 1, 1e9, {}, "n_future_positions F averaged into R̄ (512 [SRC])", true},
          {"vnorm", 1, 0, 1, {}, "multiply by ||v_j|| (use_vnorm [SRC])", false},
          {"epsilon", 0, 0, 1e9, {}, "ε added before the value norm (0 [SRC])", false}}},
        perKvHead,
        select,
        nullptr};
    return e;
}

}  // namespace attnscope::kv
