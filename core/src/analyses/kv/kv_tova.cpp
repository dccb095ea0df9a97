// TOVA (reference §2.5): the last query's attention averaged over all query heads, one
// index set per layer. Decode: each step scores the new row (over the survivors) and drops
// the lowest; the new token competes too.
#include "analyses/kv/kv_policy.h"
#include "attnscope/error.h"

namespace attnscope::kv {
namespace {

void select(const KvInputs& in, const KvParams& p, KvSelection& sel) {
    const int64_t Tp = in.promptLength, W = in.windowRows;
    if (W < 1) fail(ErrorKind::BadInput, "tova needs the last prompt row in the inputs");
    std::vector<float> s(static_cast<size_t>(Tp));
    for (int l = 0; l < in.nLayers; ++l) {
        std::fill(s.begin(), s.end(), 0.f);
        for (int h = 0; h < in.nHeads; ++h) {
            const float* last = in.windowProbs.data() + ((int64_t(l) * in.nHeads + h) * W + W - 1) * Tp;
            for (int64_t j = 0; j < Tp; ++j) s[size_t(j)] += last[j];
        }
        for (float& v : s) v /= float(in.nHeads);
        sel.kept[size_t(l)].assign(1, topK(s.data(), 0, Tp, budgetOf(p)));
    }
}

class Decode final : public DecodeLayer {
public:
    void step(const DecodeRow& row, DecodeCache& c) override {
        const int64_t n = row.i + 1;
        std::vector<float> s(size_t(n), 0.f);
        for (int h = 0; h < row.nHeads; ++h)
            for (int64_t j = 0; j < n; ++j) s[size_t(j)] += row.probs[h * n + j];
        while (c.count[0] > c.budget) {
            int64_t worst = -1;  // ties evict the older token
            for (int64_t j = 0; j < n; ++j)
                if (c.in[0][size_t(j)] && (worst < 0 || s[size_t(j)] < s[size_t(worst)])) worst = j;
            c.evict(0, worst, row.i);
        }
    }
};

}  // namespace

const KvPolicyEntry& tovaPolicy() {
    static const KvPolicyEntry e{
        {"tova", "TOVA: last query's head-mean attention, per layer",
         "§2.5; schwartz-lab-NLP/TOVA tova_cache.py TOVACache.reduce", true, false, {}},
        perLayer,
        select,
        freshDecoder<Decode>};
    return e;
}

}  // namespace attnscope::kv
