// hyper: HyperAttention's sortLSH heavy keys plus uniformly sampled others, reference B.6
// (deterministic per-row form [RECON]).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include "analyses/kv/kv_policy.h"  // splitMix01
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

// Standard normal numbers from SplitMix64 (Box–Muller).
at::Tensor gaussian(int64_t rows, int64_t cols, uint64_t seed) {
    std::vector<double> x(size_t(rows * cols));
    for (size_t n = 0; n < x.size(); ++n) {
        const double u1 = std::max(kv::splitMix01(seed * 0x100000001B3ULL + 2 * n), 1e-300);
        const double u2 = kv::splitMix01(seed * 0x100000001B3ULL + 2 * n + 1);
        x[n] = std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
    }
    return at::tensor(x, at::kDouble).view({rows, cols});
}

// Rank of each row in the order (bucket, position): bucket = the Gray-decoded sign code of Rᵀx.
std::vector<int64_t> lshRank(const at::Tensor& x, const at::Tensor& R) {
    const at::Tensor bits = (x.mm(R) >= 0).to(at::kLong).contiguous();
    const int64_t T = x.size(0), r = R.size(1);
    std::vector<int64_t> bucket(static_cast<size_t>(T)), order(static_cast<size_t>(T)), rank(static_cast<size_t>(T));
    const int64_t* b = bits.data_ptr<int64_t>();
    for (int64_t i = 0; i < T; ++i) {
        int64_t g = 0;
        for (int64_t t = 0; t < r; ++t) g = (g << 1) | b[i * r + t];
        int64_t v = g;  // Gray code to binary
        for (int64_t s = g >> 1; s; s >>= 1) v ^= s;
        bucket[size_t(i)] = v;
    }
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t c) { return bucket[size_t(a)] < bucket[size_t(c)]; });
    for (int64_t n = 0; n < T; ++n) rank[size_t(order[size_t(n)])] = n;
    return rank;
}

VariantTensors hyper(const HeadTensors& in, const Params& p) {
    if (in.T < p.integer("min_seq_len")) {
        VariantTensors r = fromMap(maskedSoftmax(scores(in), in), in);
        r.note = "T below min_seq_len: exact softmax";
        return r;
    }
    const uint64_t seed = uint64_t(p.integer("seed"));
    const int64_t b = p.integer("b"), m = p.integer("m"), T = in.T, R = in.rows();
    const std::vector<at::Tensor>& ranks = in.cached("lsh", [&] {  // bucket order of every query and key
        const at::Tensor proj = gaussian(in.q.size(1), p.integer("r"), seed);
        return std::vector<at::Tensor>{at::tensor(lshRank(in.q, proj), at::kLong),
                                       at::tensor(lshRank(in.k, proj), at::kLong)};
    });
    const int64_t *rq = ranks[0].data_ptr<int64_t>(), *rk = ranks[1].data_ptr<int64_t>();
    const at::Tensor s = scores(in).masked_fill(in.visible.logical_not(), -std::numeric_limits<double>::infinity());
    const at::Tensor e = (s - std::get<0>(s.max(1, true))).exp().contiguous();
    at::Tensor weight = at::zeros({R, T}, at::kDouble);
    const at::Tensor visible = in.visible.contiguous();
    const bool* vis = visible.data_ptr<bool>();
    const double* ep = e.data_ptr<double>();
    double* wp = weight.data_ptr<double>();
    std::vector<int64_t> rest;
    for (int64_t row = 0; row < R; ++row) {
        const int64_t i = in.r0 + row;
        rest.clear();
        for (int64_t j = 0; j <= i; ++j) {
            if (!vis[row * T + j]) continue;
            if (j == i || rq[i] / b == rk[j] / b) wp[row * T + j] = ep[row * T + j];  // heavy
            else rest.push_back(j);
        }
        const int64_t Ri = int64_t(rest.size()), take = std::min(m, Ri);
        for (int64_t t = 0; t < take; ++t) {  // partial Fisher–Yates, seeded by (seed, i)
            const uint64_t h = seed * 0x9E3779B97F4A7C15ULL ^ (uint64_t(i) << 32 | uint64_t(t));
            const int64_t pick = t + std::min<int64_t>(Ri - t - 1, int64_t(kv::splitMix01(h) * double(Ri - t)));
            std::swap(rest[size_t(t)], rest[size_t(pick)]);
            wp[row * T + rest[size_t(t)]] = double(Ri) / double(take) * ep[row * T + rest[size_t(t)]];
        }
    }
    VariantTensors r = fromMap(weight / weight.sum(1, true), in);
    return withCurve(std::move(r), (weight > 0).sum(1).to(at::kDouble), "kept keys (heavy + sampled)");
}

}  // namespace

const VariantEntry& hyperVariant() {
    static const VariantEntry e{
        {"hyper",
         "HyperAttention",
         VariantFamily::Sparse,
         "Finds each query's heavy keys by sorting queries and keys along a locality-sensitive hash (same "
         "block after sorting = heavy), samples m of the other keys uniformly and scales them up to stand for "
         "all of them. Near-linear time with a provable error bound when few entries are heavy.",
         "reference B.6; HyperAttention, arXiv 2310.05869 [RECON deterministic per-row form]",
         true,
         {{"r", 8, 1, 30, {}, "hash bits (8)"},
          {"b", 64, 1, 1e9, {}, "block size after sorting (64)"},
          {"m", 64, 0, 1e9, {}, "uniform samples per query (64)"},
          {"seed", 0, 0, 1e9, {}, "seed of the hash and the samples (0)"},
          {"min_seq_len", 512, 0, 1e9, {}, "exact softmax below this length (512, unverified default)"}}},
        hyper};
    return e;
}

}  // namespace attnscope::variants
