// PyramidKV (reference §2.4): SnapKV scoring with layer budgets falling linearly from the
// first to the last layer around the average capacity P = budget (window included).
#include <algorithm>

#include "analyses/kv/kv_policy.h"

namespace attnscope::kv {
namespace {

// Past-token capacity of every layer (the window w comes on top), KVCache-Factory
// PyramidKVCluster: min = ⌊(P−w)/β⌋, max = 2(P−w) − min, clamped to T − w, linear in l.
std::vector<int64_t> capacities(int64_t P, int64_t w, int64_t beta, int64_t Tp, int L) {
    if (Tp < 2 * (P - w)) return std::vector<int64_t>(size_t(L), P - w);  // uniform SnapKV
    int64_t mn = (P - w) / beta, mx = 2 * (P - w) - mn;
    if (mx >= Tp - w) {
        mx = Tp - w;
        mn = 2 * (P - w) - mx;
    }
    const int64_t step = L > 1 ? (mx - mn) / (L - 1) : 0;
    std::vector<int64_t> cap(static_cast<size_t>(L));
    for (int l = 0; l < L; ++l) cap[size_t(l)] = mx - l * step;
    return cap;
}

void select(const KvInputs& in, const KvParams& p, KvSelection& sel) {
    const int64_t B = budgetOf(p), Tp = in.promptLength;
    const int64_t w = std::min<int64_t>(int64_t(p.get("window")), B);
    const std::vector<int64_t> cap = capacities(B, w, int64_t(p.get("beta")), Tp, in.nLayers);
    for (int l = 0; l < in.nLayers; ++l) {
        const std::vector<float> s = snapScores(in, l, w, int(p.get("kernel")), poolOf(p), gqaOf(p));
        for (int h = 0; h < sel.heads; ++h)
            sel.kept[size_t(l)][size_t(h)] = snapKeep(s.data() + h * (Tp - w), Tp, w, cap[size_t(l)]);
        sel.layerBudget[size_t(l)] = std::min(Tp, cap[size_t(l)] + w);
    }
}

}  // namespace

const KvPolicyEntry& pyramidKvPolicy() {
    static const KvPolicyEntry e{
        {"pyramidkv", "PyramidKV: SnapKV scores, more budget in lower layers",
         "§2.4; Zefan-Cai/KVCache-Factory pyramidkv_utils.py PyramidKVCluster, run_longbench.py defaults", false, false,
         {{"window", 8, 1, 1e9, {}, "observation window w (KVCache-Factory LongBench 8 [SRC]; kvpress 64)", true},
          {"kernel", 7, 1, 1e9, {}, "pooling kernel, odd (LongBench 7 [SRC]; kvpress 5)", false},
          {"pool", 1, 0, 1, poolChoices(), "maxpool (LongBench [SRC]) or avgpool", false},
          {"beta", 20, 1, 1e9, {}, "β: min = (P − w)/β (20 [SRC])", false},
          {"gqa", 1, 0, 3, gqaChoices(), "mean: per KV head (summary table, kvpress); none: per query head", false}}},
        byGqaParam,
        select,
        nullptr};
    return e;
}

}  // namespace attnscope::kv
