// psa: Pyramid Sparse Attention, reference B.5 [RECON].
#include <cmath>
#include <limits>

#include "analyses/variants/variant_detail.h"
#include "attnscope/error.h"

namespace attnscope::variants {
namespace {

constexpr int kMaxLevel = 3;

// level[I][J] for query block I and key block J ≤ I: 0 exact, ℓ pooled by 2^ℓ, −1 skipped. The
// blocks J < I ranked by u_IJ = s·mean(q_I)·mean(k_J) (ties: the earlier block) take level 0
// for the first ⌊ρ_0·N + ½⌋, level 1 up to ⌊(ρ_0+ρ_1)·N + ½⌋, ...; the diagonal block is exact.
at::Tensor levels(const at::Tensor& q, const at::Tensor& k, double scale, int64_t B, int L, const double* rho) {
    const int64_t T = q.size(0), nb = (T + B - 1) / B;
    std::vector<at::Tensor> qm, km;
    for (int64_t b = 0; b < nb; ++b) {
        qm.push_back(q.slice(0, b * B, std::min(T, (b + 1) * B)).mean(0));
        km.push_back(k.slice(0, b * B, std::min(T, (b + 1) * B)).mean(0));
    }
    const at::Tensor u = (at::stack(qm).mm(at::stack(km).t()) * scale).contiguous();
    at::Tensor level = at::full({nb, nb}, -1, at::kLong);
    const double* up = u.data_ptr<double>();
    int64_t* lp = level.data_ptr<int64_t>();
    for (int64_t I = 0; I < nb; ++I) {
        lp[I * nb + I] = 0;
        std::vector<int64_t> order(static_cast<size_t>(I));
        for (int64_t J = 0; J < I; ++J) order[size_t(J)] = J;
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t a, int64_t b) { return up[I * nb + a] > up[I * nb + b]; });
        double cumulative = 0;
        int64_t from = 0;
        for (int l = 0; l <= L; ++l) {
            cumulative += rho[l];
            const int64_t to = std::min<int64_t>(I, int64_t(std::floor(cumulative * double(I) + 0.5)));
            for (int64_t n = from; n < to; ++n) lp[I * nb + order[size_t(n)]] = l;
            from = std::max(from, to);
        }
    }
    return level;
}

VariantTensors psa(const HeadTensors& in, const Params& p) {
    const double inf = std::numeric_limits<double>::infinity();
    const int64_t B = p.integer("B");
    const int L = p.integer("L");
    if (B % (int64_t(1) << L) != 0)
        fail(ErrorKind::BadInput, "psa: the block size B must be a multiple of 2^L (B = " + std::to_string(B) +
                                      ", L = " + std::to_string(L) + ")");
    const double rho[kMaxLevel + 1] = {p["rho0"], p["rho1"], p["rho2"], p["rho3"]};
    const at::Tensor level =
        in.cached("levels", [&] { return std::vector<at::Tensor>{levels(in.q, in.k, in.scale, B, L, rho)}; })[0];
    const at::Tensor i = in.queryIndex(), j = in.keyIndex();
    const at::Tensor qb = i.div(B, "floor"), kb = j.div(B, "floor");  // [R, 1], [1, T]
    const at::Tensor blockLevel = level.index_select(0, qb.squeeze(1)).index_select(1, kb.squeeze(0));  // [R, T]
    const at::Tensor q = in.rowsOf(in.q);
    // Level 0: exact keys (the diagonal block causal inside); level ℓ: groups of r = 2^ℓ keys.
    std::vector<at::Tensor> logits = {scores(in).masked_fill(((blockLevel == 0) & in.visible).logical_not(), -inf)};
    for (int l = 1; l <= L; ++l) {
        const int64_t r = int64_t(1) << l, G = (in.T + r - 1) / r;
        const std::vector<at::Tensor>& pooled = in.cached("pooled" + std::to_string(l), [&] {
            std::vector<at::Tensor> km, vm;
            for (int64_t g = 0; g < G; ++g) {
                km.push_back(in.k.slice(0, g * r, std::min(in.T, (g + 1) * r)).mean(0));
                vm.push_back(in.v.slice(0, g * r, std::min(in.T, (g + 1) * r)).mean(0));
            }
            return std::vector<at::Tensor>{at::stack(km), at::stack(vm)};
        });
        // A group lies inside one key block (B is a multiple of r): its level is its first key's.
        const at::Tensor groupLevel = blockLevel.index_select(1, at::arange(G, at::kLong) * r);  // [R, G]
        logits.push_back((q.mm(pooled[0].t()) * in.scale + std::log(double(r))).masked_fill(groupLevel != l, -inf));
    }
    const at::Tensor pi = at::softmax(at::cat(logits, 1), 1);
    at::Tensor w = pi.slice(1, 0, in.T).clone();
    int64_t offset = in.T;
    for (int l = 1; l <= L; ++l) {  // a group's weight spread evenly over its r keys: O = W V
        const int64_t r = int64_t(1) << l, G = (in.T + r - 1) / r;
        const at::Tensor g = pi.slice(1, offset, offset + G);
        offset += G;
        w += (g / double(r)).repeat_interleave(r, 1).slice(1, 0, in.T);
    }
    VariantTensors out = fromMap(w, in);
    out.curve = (w > 0).sum(1).to(at::kDouble);
    out.curveName = "keys reached (exact or pooled)";
    return out;
}

}  // namespace

const VariantEntry& psaVariant() {
    static const VariantEntry e{
        {"psa",
         "Pyramid Sparse Attention",
         VariantFamily::Sparse,
         "Query and key blocks of B tokens. For each query block, the key blocks are ranked by the score of their "
         "mean query and key: the most important share ρ0 stays exact, the next shares are seen through keys and "
         "values mean-pooled over 2, 4, 8 tokens (each pooled logit + log r, so identical keys keep their mass), "
         "the rest is skipped. A multi-resolution mask between window-like sparsity and dropping whole blocks.",
         "reference B.5; PSA, arXiv 2512.04025 [RECON]",
         true,
         {{"B", 64, 1, 1e9, {}, "block size (64); a multiple of 2^L"},
          {"L", 3, 0, kMaxLevel, {}, "coarsest level: pooled by 2^L (3)"},
          {"rho0", 0.1, 0, 1, {}, "share of key blocks kept exact (0.1)"},
          {"rho1", 0.1, 0, 1, {}, "share pooled by 2 (0.1)"},
          {"rho2", 0.2, 0, 1, {}, "share pooled by 4 (0.2)"},
          {"rho3", 0.2, 0, 1, {}, "share pooled by 8 (0.2); the rest is skipped"}}},
        psa};
    return e;
}

}  // namespace attnscope::variants
