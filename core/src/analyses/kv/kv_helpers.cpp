// Selection helpers shared by the policies: deterministic top-k, GQA group reduction,
// SnapKV's pooling, the random baseline's numbers.
#include <algorithm>
#include <numeric>

#include "analyses/kv/kv_policy.h"
#include "attnscope/error.h"

namespace attnscope::kv {

Gqa gqaOf(const KvParams& p) { return Gqa(int(p.get("gqa"))); }
PoolKind poolOf(const KvParams& p) { return PoolKind(int(p.get("pool"))); }

int64_t budgetOf(const KvParams& p) {
    if (p.budget <= 0) fail(ErrorKind::BadInput, "the KV budget must be > 0 tokens");
    return p.budget;
}

std::vector<int64_t> DecodeCache::newest(int h, int64_t n) const {
    std::vector<int64_t> out;
    const std::vector<uint8_t>& row = in[size_t(h)];
    for (int64_t j = T - 1; j >= 0 && int64_t(out.size()) < n; --j)
        if (row[size_t(j)]) out.push_back(j);
    std::reverse(out.begin(), out.end());
    return out;
}

std::vector<int64_t> topK(const float* score, int64_t lo, int64_t hi, int64_t k) {
    std::vector<int64_t> idx;
    if (hi <= lo || k <= 0) return idx;
    idx.resize(size_t(hi - lo));
    std::iota(idx.begin(), idx.end(), lo);
    if (k < int64_t(idx.size())) {
        auto better = [score](int64_t a, int64_t b) { return score[a] != score[b] ? score[a] > score[b] : a > b; };
        std::nth_element(idx.begin(), idx.begin() + std::ptrdiff_t(k - 1), idx.end(), better);
        idx.resize(size_t(k));
    }
    std::sort(idx.begin(), idx.end());
    return idx;
}

void addRange(std::vector<int64_t>& kept, int64_t lo, int64_t hi) {
    for (int64_t j = std::max<int64_t>(lo, 0); j < hi; ++j) kept.push_back(j);
    std::sort(kept.begin(), kept.end());
    kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
}

std::vector<float> groupReduce(const float* x, int H, int Hkv, int64_t n, Gqa how) {
    if (how == Gqa::None) return std::vector<float>(x, x + int64_t(H) * n);
    const int G = H / Hkv;
    std::vector<float> out(size_t(int64_t(Hkv) * n));
    for (int g = 0; g < Hkv; ++g)
        for (int64_t j = 0; j < n; ++j) {
            float acc = how == Gqa::Max ? x[int64_t(g * G) * n + j] : 0.f;
            for (int m = 0; m < G; ++m) {
                const float v = x[int64_t(g * G + m) * n + j];
                acc = how == Gqa::Max ? std::max(acc, v) : acc + v;
            }
            out[size_t(int64_t(g) * n + j)] = how == Gqa::Mean ? acc / float(G) : acc;
        }
    return out;
}

std::vector<float> pool1d(const float* x, int64_t n, int kernel, PoolKind kind) {
    if (kernel < 1 || kernel % 2 == 0) fail(ErrorKind::BadInput, "the pooling kernel must be odd and >= 1");
    const int64_t r = kernel / 2;
    std::vector<float> out(size_t(std::max<int64_t>(n, 0)));
    for (int64_t i = 0; i < n; ++i) {
        const int64_t a = std::max<int64_t>(0, i - r), b = std::min<int64_t>(n, i + r + 1);
        float acc = kind == PoolKind::Max ? x[a] : 0.f;
        for (int64_t j = a; j < b; ++j) acc = kind == PoolKind::Max ? std::max(acc, x[j]) : acc + x[j];
        out[size_t(i)] = kind == PoolKind::Max ? acc : acc / float(kernel);
    }
    return out;
}

int headsOf(KvGranularity g, const KvInputs& in) {
    return g == KvGranularity::Layer ? 1 : g == KvGranularity::KvHead ? in.nKvHeads : in.nHeads;
}

KvGranularity gqaGranularity(Gqa g) { return g == Gqa::None ? KvGranularity::QueryHead : KvGranularity::KvHead; }

double splitMix01(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return double(x >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace attnscope::kv
