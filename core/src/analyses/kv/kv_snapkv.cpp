// SnapKV (reference §2.3): attention of the last w prompt rows ("observation window"),
// summed per key over the prefix, pooled (kernel k, stride 1), top-(budget − w) plus the
// window. Per query head as the official code (repeat_kv before update_kv), or per KV head
// with the group mean after pooling (kvpress SnapKVPress). Prefill only.
#include <algorithm>

#include "analyses/kv/kv_policy.h"
#include "attnscope/error.h"

namespace attnscope::kv {

std::vector<float> snapScores(const KvInputs& in, int l, int64_t w, int kernel, PoolKind pool, Gqa gqa) {
    const int64_t Tp = in.promptLength, W = in.windowRows, n = Tp - w;
    if (w > W) fail(ErrorKind::BadInput, "window of " + std::to_string(w) + " rows needs inputs with that many rows");
    std::vector<float> pooled(size_t(int64_t(in.nHeads) * n));
    std::vector<float> col(static_cast<size_t>(n));
    for (int h = 0; h < in.nHeads; ++h) {
        std::fill(col.begin(), col.end(), 0.f);
        const float* rows = in.windowProbs.data() + (int64_t(l) * in.nHeads + h) * W * Tp;
        for (int64_t r = W - w; r < W; ++r)
            for (int64_t j = 0; j < n; ++j) col[size_t(j)] += rows[r * Tp + j];
        const std::vector<float> p = pool1d(col.data(), n, kernel, pool);
        std::copy(p.begin(), p.end(), pooled.begin() + std::ptrdiff_t(int64_t(h) * n));
    }
    return groupReduce(pooled.data(), in.nHeads, in.nKvHeads, n, gqa);
}

std::vector<int64_t> snapKeep(const float* scores, int64_t Tp, int64_t w, int64_t capacity) {
    std::vector<int64_t> kept = topK(scores, 0, Tp - w, capacity);
    addRange(kept, Tp - w, Tp);
    return kept;
}

namespace {

void select(const KvInputs& in, const KvParams& p, KvSelection& sel) {
    const int64_t B = budgetOf(p), Tp = in.promptLength;
    const int64_t w = std::min<int64_t>(int64_t(p.get("window")), B);  // [RECON] budget <= w: the last B tokens
    for (int l = 0; l < in.nLayers; ++l) {
        const std::vector<float> s = snapScores(in, l, w, int(p.get("kernel")), poolOf(p), gqaOf(p));
        for (int h = 0; h < sel.heads; ++h) sel.kept[size_t(l)][size_t(h)] = snapKeep(s.data() + h * (Tp - w), Tp, w, B - w);
    }
}

}  // namespace

const KvPolicyEntry& snapKvPolicy() {
    static const KvPolicyEntry e{
        {"snapkv", "SnapKV: observation-window attention, pooled",
         "§2.3; FasterDecoding/SnapKV snapkv_utils.py (init_snapkv defaults), kvpress SnapKVPress (group mean)", false,
         false,
         {{"window", 32, 1, 1e9, {}, "observation window w, kept whole (init_snapkv 32 [SRC]; kvpress 64)", true},
          {"kernel", 5, 1, 1e9, {}, "pooling kernel, odd (5 [SRC])", false},
          {"pool", 0, 0, 1, poolChoices(), "avgpool (count_include_pad) or maxpool (LongBench configs)", false},
          {"gqa", 0, 0, 3, gqaChoices(), "none: per query head (official); mean: per KV head (kvpress); max/sum", false}}},
        byGqaParam,
        select,
        nullptr};
    return e;
}

}  // namespace attnscope::kv
