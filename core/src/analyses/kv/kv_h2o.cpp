// H2O (reference §2.2): heavy hitters by accumulated raw attention Σ_i A_ij plus a recent
// window, per head (MHA, the mask-simulation code) or per KV head with the GQA ports'
// mean/max/sum. Decode: every step adds the new row (over the survivors) and evicts the
// smallest accumulated score outside the recent window; evicted tokens never return.
#include <algorithm>

#include "analyses/kv/kv_policy.h"
#include "attnscope/error.h"

namespace attnscope::kv {
namespace {

// recent and heavy from the parameters; heavy + recent = budget.
int64_t recentOf(const KvParams& p) {
    const int64_t B = budgetOf(p);
    const double r = p.get("recent"), h = p.get("heavy");
    int64_t recent = B / 2;  // heavy_ratio = recent_ratio (0.1 each [SRC]) splits the budget evenly
    if (r >= 0 && h >= 0 && int64_t(r) + int64_t(h) != B)
        fail(ErrorKind::BadInput, "h2o: heavy + recent must equal the budget");
    if (r >= 0) recent = int64_t(r);
    else if (h >= 0) recent = B - int64_t(h);
    return std::clamp<int64_t>(recent, 0, B);
}

// σ of layer l at the granularity: [heads, T_p].
std::vector<float> scores(const KvInputs& in, const KvParams& p, int l) {
    const int64_t Tp = in.promptLength;
    return groupReduce(in.colSum.data() + int64_t(l) * in.nHeads * Tp, in.nHeads, in.nKvHeads, Tp, gqaOf(p));
}

void select(const KvInputs& in, const KvParams& p, KvSelection& sel) {
    const int64_t B = budgetOf(p), r = recentOf(p), Tp = in.promptLength;
    for (int l = 0; l < in.nLayers; ++l) {
        const std::vector<float> s = scores(in, p, l);
        for (int h = 0; h < sel.heads; ++h) {
            std::vector<int64_t> kept = topK(s.data() + int64_t(h) * Tp, 0, Tp - r, B - r);
            addRange(kept, Tp - r, Tp);
            sel.kept[size_t(l)][size_t(h)] = std::move(kept);
        }
    }
}

class Decode final : public DecodeLayer {
public:
    Decode(const KvInputs& in, const KvParams& p, const KvSelection& sel, int l)
        : m_gqa(gqaOf(p)), m_recent(recentOf(p)) {
        const std::vector<float> s = scores(in, p, l);
        m_sigma.assign(size_t(sel.heads), std::vector<float>(size_t(in.T), 0.f));
        for (int h = 0; h < sel.heads; ++h)
            for (int64_t j : sel.kept[size_t(l)][size_t(h)]) m_sigma[size_t(h)][size_t(j)] = s[size_t(h * in.promptLength + j)];
    }
    void step(const DecodeRow& row, DecodeCache& c) override {
        const int64_t n = row.i + 1;
        const std::vector<float> add = groupReduce(row.probs, row.nHeads, row.nKvHeads, n, m_gqa);
        for (int h = 0; h < c.heads; ++h) {
            std::vector<float>& sigma = m_sigma[size_t(h)];
            for (int64_t j = 0; j < n; ++j)
                if (c.in[size_t(h)][size_t(j)]) sigma[size_t(j)] += add[size_t(h * n + j)];
            while (c.count[size_t(h)] > c.budget) {
                int64_t worst = -1;  // smallest σ outside the recent window; ties evict the older
                for (int64_t j = 0; j <= row.i - m_recent; ++j)
                    if (c.in[size_t(h)][size_t(j)] && (worst < 0 || sigma[size_t(j)] < sigma[size_t(worst)])) worst = j;
                if (worst < 0) break;
                c.evict(h, worst, row.i);
            }
        }
    }

private:
    Gqa m_gqa;
    int64_t m_recent;
    std::vector<std::vector<float>> m_sigma;  // [heads][T]
};

}  // namespace

const KvPolicyEntry& h2oPolicy() {
    static const KvPolicyEntry e{
        {"h2o", "H2O: heavy hitters (accumulated attention) + recent",
         "§2.2; FMInference/H2O utils_hh/modify_llama.py (per head), KVCache-Factory H2OKVCluster (gqa_score_agg)", true,
         false,
         {{"recent", -1, -1, 1e9, {}, "recent window; -1: budget/2 (heavy_ratio = recent_ratio = 0.1 [SRC])", false},
          {"heavy", -1, -1, 1e9, {}, "heavy hitters; -1: budget − recent", false},
          {"gqa", 0, 0, 3, gqaChoices(), "none: per query head (MHA original); mean/max/sum: per KV head (GQA ports)", false}}},
        byGqaParam,
        select,
        [](const KvInputs& in, const KvParams& p, const KvSelection& s, int l) -> std::unique_ptr<DecodeLayer> {
            return std::make_unique<Decode>(in, p, s, l);
        }};
    return e;
}

}  // namespace attnscope::kv
